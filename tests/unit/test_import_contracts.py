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
    for package in ("desktop", "signaling"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "*.html"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "signaling" / "media" / "hearing.py").open("a") as f:
        f.write("\nimport signaling.hub  # deliberate violation\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "1 broken" in result.stdout
    assert "signaling.media.hearing -> signaling.hub" in result.stdout


def _contract(contracts: list[dict], starts: str) -> dict:
    return next(c for c in contracts if c["name"].startswith(starts))


def test_the_contracts_that_list_the_desk_name_every_module_of_it():
    # "routing imports nothing else of the desk" is a list of the desk's modules: a module
    # added to desktop/ must be added there too, or the contract would quietly not cover it.
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    desk = {f"desktop.{p.stem if p.suffix == '.py' else p.name}" for p in (ROOT / "desktop").iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    routing = set(_contract(contracts, "routing is the pure core")["forbidden_modules"])
    assert desk - {"desktop.routing"} <= routing
    repository = set(_contract(contracts, "the repository imports only")["forbidden_modules"])
    # ...and the business rules' pure actions, which it stores as drafts and published versions.
    assert desk - {"desktop.routing", "desktop.repository", "desktop.customers", "desktop.analytics",
                   "desktop.rules", "desktop.kb"} <= repository
    rules = set(_contract(contracts, "the business rules are a pure core")["forbidden_modules"])
    assert desk - {"desktop.rules", "desktop.routing", "desktop.customers"} <= rules
    customers = set(_contract(contracts, "the customer rules")["forbidden_modules"])
    assert desk - {"desktop.customers"} <= customers


def test_the_desks_root_holds_only_the_app_its_settings_and_the_room_names():
    # Everything else lives in a package named for what it does (docs/architecture.md's map):
    # a new module belongs in one of them, or in a new package.
    root = {p.name for p in (ROOT / "desktop").glob("*.py")}
    assert root == {"__init__.py", "app.py", "settings.py", "rooms.py"}
