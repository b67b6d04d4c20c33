"""Sales scripts: ``{field}`` and ``{field|fallback}`` placeholders filled from the snapshot.

``{first_name|there}`` reads the snapshot's ``first_name`` and, when it is empty, says
"there". ``{product}`` is the action's product name; ``{context.campaign}`` a key of the site's
context. Whatever happens, no ``{...}`` reaches the agent: an empty value with no fallback
renders as nothing, and :func:`script_errors` refuses unknown names at save.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from desktop.rules.snapshot import FIELD_TYPES

__all__ = ["render_script", "script_errors", "PLACEHOLDER", "EXTRA_PLACEHOLDERS"]

#: Any braced group: every one is replaced, known or not.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^(?:[a-z_][a-z0-9_]*|context\.[A-Za-z0-9_.-]+)$")
EXTRA_PLACEHOLDERS = ("product",)


def _split(inner: str) -> tuple[str, str]:
    name, _, fallback = inner.partition("|")
    return name.strip(), fallback


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, Mapping):
        return ""
    return str(value)


def render_script(text: str, values: Mapping[str, object], *, product: str = "") -> str:
    """``text`` with each placeholder replaced by its value, else its fallback, else ""."""
    def fill(match: re.Match) -> str:
        name, fallback = _split(match.group(1))
        if name == "product":
            value: object = product
        elif name.startswith("context."):
            context = values.get("context")
            value = context.get(name[len("context."):], "") if isinstance(context, Mapping) else ""
        elif name == "context":
            value = ""
        else:
            value = values.get(name, "")
        shown = _text(value)
        # -1 days since the last order means "never": not a figure to say to a customer.
        if not shown or (name == "days_since_last_order" and shown == "-1"):
            return fallback
        return shown

    return PLACEHOLDER.sub(fill, text or "")


def script_errors(text: str) -> list[tuple[int, str]]:
    """``(position, message)`` for each placeholder that names nothing known."""
    problems = []
    for match in PLACEHOLDER.finditer(text or ""):
        name, _ = _split(match.group(1))
        if not _NAME.match(name) or (name not in FIELD_TYPES and name not in EXTRA_PLACEHOLDERS
                                     and not name.startswith("context.")):
            known = "a snapshot field, product or context.<key>"
            problems.append((match.start(), f"unknown placeholder {{{name}}}: use {known}"))
    for position, char in enumerate(text or ""):
        if char in "{}" and not any(m.start() <= position < m.end() for m in PLACEHOLDER.finditer(text)):
            problems.append((position, f"unmatched {char!r}"))
            break
    return problems
