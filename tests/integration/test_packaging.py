"""The wheel runs without the source tree: build it, install it into a fresh virtualenv outside
the checkout, ``otodesk serve`` in an empty directory, and load the shop, the desk and the widget.

The fresh virtualenv borrows this one's third-party packages through a ``.pth`` line (installing
aiortc and scipy again would take minutes), but otodesk itself comes only from the wheel: the
test checks that the running code and its browser files are the installed copies.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import ROOT, free_port


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not (ROOT / "static" / "dist" / "manifest.json").exists():
        pytest.skip("static/dist is not built (make static/dist/manifest.json)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    str(ROOT), "-w", str(out)], check=True, capture_output=True, timeout=300)
    (built,) = out.glob("otodesk-*.whl")
    return built


def test_the_wheel_holds_the_browser_files_templates_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("desktop/static/widget/widget.js", "desktop/static/dist/manifest.json",
                   "desktop/static/desk/desk.js", "desktop/static/vendor/rrweb/replay.min.js",
                   "desktop/templates/desk.html", "desktop/templates/shop/home.html",
                   "desktop/repository/migrations/versions/0001_initial.py", "signaling/hub.py"):
        assert needed in names, needed
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
    assert "desktop/static/build-widget.mjs" not in names  # build scripts stay in the sdist


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return venv


def test_pip_installed_otodesk_serves_the_shop_desk_and_widget_from_an_empty_directory(installed, tmp_path):
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import desktop.web.assets as a, desktop; print(desktop.__file__); print(a.STATIC_DIR)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert all(path.startswith(str(installed)) for path in where), where  # not the checkout

    port = free_port()
    env = {**os.environ, "OTODESK_HOST": "127.0.0.1", "OTODESK_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([str(installed / "bin" / "otodesk"), "serve"], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("otodesk serve did not start:\n" + (tmp_path / "serve.log").read_text())

        shop = httpx.get(f"{base}/")
        assert shop.status_code == 200 and "/widget.js" in shop.text
        desk = httpx.get(f"{base}/desk", follow_redirects=True)
        assert desk.status_code == 200 and 'name="password"' in desk.text
        loader = httpx.get(f"{base}/widget.js")
        assert loader.status_code == 200 and "javascript" in loader.headers["content-type"]
        built = [line for line in loader.text.split('"') if line.startswith("/static/dist/")]
        assert built, "the installed wheel serves the built widget, not the plain modules"
        assert httpx.get(f"{base}{built[0]}").status_code == 200
        assert httpx.get(f"{base}/static/desk/desk.js").status_code == 200
        assert httpx.get(f"{base}/static/vendor/rrweb/replay.min.js").status_code == 200
        icon = httpx.get(f"{base}/favicon.ico", follow_redirects=True)  # what every browser asks for
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert (tmp_path / "var" / "otodesk.db").exists()  # its data in the working directory's var/
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
