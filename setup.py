"""The wheel carries the browser files: ``static/`` (sources, the npm vendor files and the
built widget) is copied in as ``desktop/static`` (desktop/web/assets.py finds it there).

They are built at release time, never fetched at run time: ``make static/dist/manifest.json``
(npm ci, the vendor copy, the widget bundle) must have run before ``python -m build``.
Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUILT = ("vendor/.installed", "dist/manifest.json")  # what `make` leaves when the files are built
BUILD_SCRIPTS = {"build-widget.mjs", "compress.mjs", "copy-vendor.mjs"}


class BuildWithStatic(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install serves the checkout's static/ in place
        source = ROOT / "static"
        missing = [name for name in BUILT if not (source / name).exists()]
        if missing:
            raise SystemExit(f"static/{missing[0]} is missing: run `make static/dist/manifest.json` "
                             "(npm ci, the vendor copy and the widget build) before building the wheel")
        shutil.copytree(source, Path(self.build_lib) / "desktop" / "static", dirs_exist_ok=True,
                        ignore=lambda folder, names: BUILD_SCRIPTS & set(names) if Path(folder) == source else ())


setup(cmdclass={"build_py": BuildWithStatic})
