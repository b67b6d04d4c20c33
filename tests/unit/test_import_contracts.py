"""The import boundaries (``[tool.importlinter]`` in pyproject.toml) hold, and breaking one fails.

``lint-imports`` runs in a subprocess with the tree as its working directory, so it reads
this tree's code and contracts, not an installed copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
                "--no-cache"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(LINT_IMPORTS, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " broken" in result.stdout and "0 broken" in result.stdout


def test_a_deliberate_violation_breaks_its_contract(tmp_path):
    # A copy of the tree where the media anchor imports the hub.
    for package in ("desktop", "signaling", "cobrowse"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "*.html"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "signaling" / "media" / "hearing.py").open("a") as f:
        f.write("\nimport signaling.hub  # deliberate violation\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "1 broken" in result.stdout
    assert "signaling.media.hearing -> signaling.hub" in result.stdout
