"""No module imports another module's ``_private`` names (issue 10): what a module keeps behind an
underscore is its own to change. A package's private modules (``desktop/repository/_store.py``,
``desktop/routing/_core.py``) are its own: modules inside that package may import them and their
public names; nothing outside may."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("desktop", "signaling")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _inside(module: str, package: str) -> bool:
    return module.startswith(package + ".")


def _private_module_reach(importer: str, target: str) -> str | None:
    """Why ``importer`` may not import module ``target`` (a private module outside its package)."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if _private(part) and not _inside(importer, ".".join(parts[:i])):
            return f"the private module {'.'.join(parts[:i + 1])}"
    return None


def private_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Each import in ``source`` (the module ``module``) of another module's private name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if why := _private_module_reach(module, alias.name):
                    found.append(f"line {node.lineno}: import {alias.name} ({why})")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if why := _private_module_reach(module, target):
                found.append(f"line {node.lineno}: from {target} import ... ({why})")
                continue
            for alias in node.names:
                if not _private(alias.name):
                    continue
                # A private submodule of the importer's own package is the package's own.
                if _is_module(f"{target}.{alias.name}") and _inside(module, target):
                    continue
                found.append(f"line {node.lineno}: from {target} import {alias.name}")
    return found


def test_no_module_imports_another_modules_private_names():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _module_name(path)
            for problem in private_imports(path.read_text(), module, is_package=path.name == "__init__.py"):
                found.append(f"{path.relative_to(ROOT)} {problem}")
    assert not found, "make these public, or keep them in their module:\n" + "\n".join(found)


def test_the_check_sees_private_names_and_private_modules_but_allows_a_packages_own():
    assert private_imports("from desktop.web.api import _body, json_body", "desktop.web.mydata") == [
        "line 1: from desktop.web.api import _body"]
    assert private_imports("from .api import _body", "desktop.web.mydata") == [
        "line 1: from desktop.web.api import _body"]
    assert private_imports("from desktop.repository._store import Store", "desktop.web.api") == [
        "line 1: from desktop.repository._store import ... (the private module desktop.repository._store)"]
    assert private_imports("import desktop.routing._core", "desktop.leader.service") == [
        "line 1: import desktop.routing._core (the private module desktop.routing._core)"]
    # Inside the package: its private modules, and their public names, are its own.
    assert private_imports("from desktop.repository import _rows\n"
                           "from desktop.repository._store import Store\n"
                           "from ._core import RoutingCore", "desktop.repository.agents") == []
    assert private_imports("from ._core import RoutingCore", "desktop.routing.router") == []
    # ...but not the private names inside them.
    assert private_imports("from ._core import _AVAILABLE", "desktop.routing.router") == [
        "line 1: from desktop.routing._core import _AVAILABLE"]
