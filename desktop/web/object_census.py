"""What the collector tracks, on request: the objects a full pass walks, by kind and by owner.

A full collector pass walks every tracked object, so its pause grows with them (~225 a socket
once: desktop/web/gc_policy.py). :func:`census` counts them as ``(kind, owner)``: the kind is the
type, or for a task, coroutine or function the code it runs (``coroutine Hub._read``); the owner
is the kind of one object that refers to it (a dict owned by ``LeanWebSocketProtocol`` is its
instance dict). Two censuses subtracted, divided by the sockets opened in between, say what one
socket costs (bench/idle_sockets.py --objects, through ``/metrics?gc_census=1``).
A census walks every object twice: seconds with millions, for an operator asking.
"""

from __future__ import annotations

import collections
import gc
import types
from typing import Any

__all__ = ["census", "kind_of"]


def _qualname(code: types.CodeType | None) -> str:
    return getattr(code, "co_qualname", None) or getattr(code, "co_name", "?")


def kind_of(obj: Any) -> str:
    """The type's name, or the code a task, coroutine, generator, frame or function runs."""
    if isinstance(obj, types.CoroutineType):
        return f"coroutine {_qualname(obj.cr_code)}"
    if isinstance(obj, types.AsyncGeneratorType):
        return f"async_generator {_qualname(obj.ag_code)}"
    if isinstance(obj, types.GeneratorType):
        return f"generator {_qualname(obj.gi_code)}"
    if isinstance(obj, types.FrameType):
        return f"frame {_qualname(obj.f_code)}"
    if isinstance(obj, types.FunctionType):
        return f"function {obj.__qualname__}"
    if isinstance(obj, types.MethodType):
        return f"method {getattr(obj.__func__, '__qualname__', '?')}"
    get_coro = getattr(obj, "get_coro", None)
    if get_coro is not None and type(obj).__name__ == "Task":
        coro = get_coro()
        return f"Task {_qualname(getattr(coro, 'cr_code', None))}"
    return type(obj).__name__


def census(collect: bool = True) -> collections.Counter[tuple[str, str]]:
    """Every object the collector tracks now (the frozen ones aside), as ``(kind, owner)``
    counts. ``collect``: a full pass first, so garbage is not counted."""
    if collect:
        gc.collect()
    objects = gc.get_objects()
    tracked = {id(obj) for obj in objects}
    owner: dict[int, str] = {}
    for obj in objects:
        label = None
        for child in gc.get_referents(obj):
            key = id(child)
            if key in tracked and key not in owner:
                owner[key] = label = label or kind_of(obj)
    counts = collections.Counter((kind_of(obj), owner.get(id(obj), "-")) for obj in objects)
    del objects
    return counts


def examples(key: str, limit: int = 5) -> list[str]:
    """A few objects counted under ``key`` ("kind | owner", owner ``*`` for any), each with its
    owner, as text."""
    kind, _, owner_kind = key.partition(" | ")
    objects = gc.get_objects()
    tracked = {id(obj): obj for obj in objects}
    found: list[str] = []
    seen: set[int] = set()
    for obj in objects:
        for child in gc.get_referents(obj):
            key_ = id(child)
            if key_ not in tracked or key_ in seen:
                continue
            seen.add(key_)
            if kind_of(child) == kind and owner_kind in ("*", kind_of(obj)):
                found.append(f"{_short(child)}  <-  {_short(obj)}")
                if len(found) >= limit:
                    return found
    return found


def _short(obj: Any) -> str:
    if isinstance(obj, list) and len(obj) > 8:
        return f"list of {len(obj)}: " + ", ".join(_short(item)[:60] for item in obj[:3]) + ", ..."
    if isinstance(obj, dict):
        return "dict " + repr({k: type(v).__name__ for k, v in list(obj.items())[:12]})[:400]
    return repr(obj)[:400]
