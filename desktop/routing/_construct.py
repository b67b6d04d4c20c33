"""Cheaper construction of the frozen event dataclasses, for the routing path.

A frozen dataclass's ``__init__`` sets each field through
``object.__setattr__`` (to get past its own ``__setattr__``, which raises),
and that is most of its cost: about 1 µs for a five-field event, several
times per command, a third of the router's time in ``bench/router_core.py``.
Calling the slot descriptors directly does the same work in roughly half the
time and yields an identical instance (same type, equality, hash, repr).

``fast_constructor(cls)`` returns such a function with ``cls``'s signature,
or ``cls`` itself whenever the shortcut would not be exactly equivalent (not
a slotted frozen dataclass, or it has ``__post_init__`` or non-init fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fast_constructor"]

T = TypeVar("T")


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    params = getattr(cls, "__dataclass_params__", None)
    fields = dataclasses.fields(cls) if params is not None else ()
    if (params is None or not params.frozen or "__slots__" not in cls.__dict__
            or hasattr(cls, "__post_init__") or not all(f.init for f in fields)
            or any(f.default_factory is not dataclasses.MISSING for f in fields)):
        return cls
    names = [f.name for f in fields]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    args = []
    for i, f in enumerate(fields):
        namespace[f"_set{i}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        if f.default is dataclasses.MISSING:
            args.append(names[i])
        else:
            namespace[f"_default{i}"] = f.default
            args.append(f"{names[i]}=_default{i}")
    body = "".join(f"    _set{i}(self, {name})\n" for i, name in enumerate(names))
    source = f"def make({', '.join(args)}):\n    self = _new(_cls)\n{body}    return self\n"
    exec(source, namespace)  # as dataclasses itself builds __init__
    make = namespace["make"]
    make.__name__ = make.__qualname__ = cls.__name__
    make.__doc__ = f"Build a {cls.__name__} (see desktop.routing._construct)."
    return make
