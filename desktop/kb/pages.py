"""The site pages an article belongs to: URL patterns, matched against the customer's page.

A pattern is a path (``/checkout``, ``/help/*``) matched against the page's path, or a whole
URL (``https://shop.example.com/checkout*``) matched against the page's URL without its query
and fragment. ``*`` matches anything (slashes too), ``?`` one character; nothing else is
special (``[`` is itself), so an admin's pattern can't be a regular expression that runs away.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["MAX_PATTERN", "PatternError", "check_pattern", "matches"]

MAX_PATTERN = 200


class PatternError(ValueError):
    """A page pattern that is neither a path nor an http(s) URL."""


def check_pattern(pattern: str) -> str:
    """The pattern, trimmed; :class:`PatternError` saying why it can't be one."""
    pattern = pattern.strip()
    if not pattern or len(pattern) > MAX_PATTERN:
        raise PatternError(f"a page pattern is 1 to {MAX_PATTERN} characters")
    if pattern.startswith("/"):
        return pattern
    scheme = urlsplit(pattern).scheme.lower()
    if scheme in ("http", "https") and urlsplit(pattern).netloc:
        return pattern
    raise PatternError(f"{pattern[:60]!r}: a page pattern is a path (/help/*) or an http(s) URL")


def _regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def matches(patterns: list[str], url: str) -> bool:
    """True when the page at ``url`` is one of ``patterns``."""
    if not patterns or not url:
        return False
    parts = urlsplit(url)
    path = parts.path or "/"
    whole = f"{parts.scheme}://{parts.netloc}{path}".lower()
    for pattern in patterns:
        target = path if pattern.startswith("/") else whole
        if _regex(pattern if pattern.startswith("/") else pattern.lower()).match(target):
            return True
    return False
