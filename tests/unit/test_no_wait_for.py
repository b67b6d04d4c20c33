"""No ``asyncio.wait_for`` in the package: on Python 3.11 (this project's floor) it returns the
awaited result when its caller is cancelled as that result arrives, so the cancel is lost and a
stopping task carries on (the router's hang at a stop: signaling/bus/tasks.py ``cancels_kept``).
``async with asyncio.timeout(...)`` keeps the cancel."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_calls(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "wait_for" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "asyncio":
            lines.append(node.lineno)
    return lines


def test_the_package_waits_with_asyncio_timeout_never_wait_for():
    found = [f"{path.relative_to(ROOT)}:{line}" for package in ("desktop", "signaling")
             for path in sorted((ROOT / package).rglob("*.py")) for line in _wait_for_calls(path)]
    assert not found, f"asyncio.wait_for loses a cancel on Python 3.11; use asyncio.timeout: {found}"
