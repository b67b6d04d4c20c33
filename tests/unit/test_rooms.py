"""desktop/rooms.py is the one registry of the bus's rooms: every room the code names comes from
it, every name it builds belongs to a registered family, and what an erasure empties
(desktop/contacts/privacy.py) is derived from the families, not a list of its own."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from desktop import rooms
from desktop.contacts import privacy
from desktop.rooms import FAMILIES, Erase, family_of

ROOT = Path(__file__).resolve().parents[2]
#: The Bus methods (and keyword) whose first argument is a room name.
ROOM_CALLS = {"publish", "subscribe", "replay", "last_seq", "erase"}

BUILDERS = [fn for name, fn in inspect.getmembers(rooms, inspect.isfunction)
            if name.endswith("_room") and fn.__module__ == rooms.__name__]
CONSTANTS = [value for name, value in vars(rooms).items() if name.endswith("_ROOM")]


def _sources():
    # The bus holds rooms by whatever name it is given; it names none.
    skip = (ROOT / "desktop" / "rooms.py", ROOT / "signaling" / "bus")
    for package in ("desktop", "signaling"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(path == s or s in path.parents for s in skip):
                yield path, ast.parse(path.read_text(), str(path))


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def test_rooms_are_named_only_in_the_registry():
    found = []
    for path, tree in _sources():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("_room"):
                found.append(f"{where}:{node.lineno} defines {node.name}()")
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("_ROOM")
                                                      for t in node.targets):
                found.append(f"{where}:{node.lineno} defines a *_ROOM constant")
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in ROOM_CALLS and node.args and _literal(node.args[0]):
                    found.append(f"{where}:{node.lineno} {name}() a room spelled out")
                if any(k.arg == "room" and _literal(k.value) for k in node.keywords):
                    found.append(f"{where}:{node.lineno} room= spelled out")
    assert not found, "name rooms in desktop/rooms.py:\n" + "\n".join(found)


def test_every_name_the_registry_builds_is_of_a_registered_family_and_every_family_is_built():
    built = {family_of(fn("id-1")) for fn in BUILDERS} | {family_of(name) for name in CONSTANTS}
    assert None not in built
    assert built == set(FAMILIES)
    assert len({f.prefix for f in FAMILIES}) == len(FAMILIES)


def test_family_of_takes_the_longest_prefix_and_no_stranger():
    assert family_of("cobrowse-in:v1").prefix == "cobrowse-in:"
    assert family_of("voice-reply:p1").prefix == "voice-reply:"
    assert family_of("wall").prefix == "wall" and family_of("wallpaper") is None
    assert family_of("call:c1") is None


def _erased(room: str, prefixes: list[str]) -> bool:
    return any(room.startswith(prefix) for prefix in prefixes)


@pytest.mark.parametrize("build", BUILDERS + [lambda _id, name=n: name for n in CONSTANTS],
                         ids=[fn.__name__ for fn in BUILDERS] + CONSTANTS)
def test_an_erasure_empties_exactly_the_rooms_its_family_says(build):
    prefixes = privacy.rooms_to_erase(["visitor-1"], ["callback-1"])
    family = family_of(build("x"))
    match family.erase:
        case Erase.VISITOR:
            assert _erased(build("visitor-1"), prefixes) and not _erased(build("visitor-2"), prefixes)
        case Erase.CALLBACK:
            assert _erased(build("callback-1"), prefixes) and not _erased(build("callback-2"), prefixes)
        case Erase.EVERY_ROOM:
            assert _erased(build("anyone"), prefixes)
        case Erase.NEVER:
            assert not _erased(build("visitor-1"), prefixes) and not _erased(build("callback-1"), prefixes)


def test_privacy_keeps_no_list_of_room_prefixes_of_its_own():
    tree = ast.parse(Path(privacy.__file__).read_text())
    prefixes = {f.prefix for f in FAMILIES}
    spelled = [node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in prefixes]
    assert not spelled, f"derive these from desktop.rooms.FAMILIES: {spelled}"
