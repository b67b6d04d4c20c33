"""Every third-party module that desktop/ and signaling/ import is a runtime dependency in
pyproject.toml's ``[project] dependencies`` or one of theirs (aiortc brings av, aioice and
pylibsrtp), not only in the ``test`` extra: the wheel is
installed with those alone (docs/operations.md, "Installing without the source tree"), and a
module the dev virtualenv happens to hold (httpx, a test dependency) stopped ``otodesk serve``
at its first import there. tests/integration/test_packaging.py borrows this virtualenv's
packages, so it can't see a missing one."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("desktop", "signaling")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime() -> set[str]:
    """The distributions installing the wheel brings: its dependencies and theirs, with the
    extras asked for (``uvicorn[standard]``), as installed here."""
    wanted = [Requirement(line) for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = _normal(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(requirement.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for line in requires:
            nested = Requirement(line)
            if nested.marker is None or any(nested.marker.evaluate({"extra": extra})
                                            for extra in requirement.extras | {""}):
                wanted.append(nested)
    return seen


def _imported() -> dict[str, str]:
    """Top-level module imported → one file importing it, for every absolute import of a module
    that is neither the standard library's nor ours."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PACKAGES and top != "__future__":
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_third_party_module_is_a_runtime_dependency():
    runtime = _runtime()
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, where in _imported().items():
        owners = {_normal(owner) for owner in distributions.get(module, [module])}
        if not owners & runtime:
            undeclared[module] = (sorted(owners), where)
    assert not undeclared, f"imported but not brought by [project] dependencies: {undeclared}"
