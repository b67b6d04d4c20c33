"""Errors raised by the Customer Contact Repository.

The tree::

    RepositoryError
    ├── NotFound(RepositoryError, LookupError)    a row a mutation needs is missing
    └── Conflict(RepositoryError, ValueError)     a uniqueness rule would be broken
        ├── DuplicateUser                         the username is taken
        ├── DuplicateCallback                     the callback id is taken
        └── NumberWaiting                         a phone request for that number is waiting

:class:`RepositoryError` itself also reports a write the database refused
for a reason no subclass names (``record_routing`` naming an unknown agent).
Look-ups (``get_*``) return ``None`` for a missing row; mutations of a missing
row raise :class:`NotFound`. Bad argument values (an unknown role or tier, a
phone number not in E.164) raise plain :class:`ValueError` before any I/O.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RepositoryError", "NotFound", "Conflict", "DuplicateUser", "DuplicateCallback", "NumberWaiting"]


class RepositoryError(Exception):
    """Base of every error raised on purpose by ``desktop.repository``."""


class NotFound(RepositoryError, LookupError):
    """The row the operation needs does not exist."""


class Conflict(RepositoryError, ValueError):
    """The write would break a uniqueness rule."""


class DuplicateUser(Conflict):
    """An agent with this username already exists."""


class DuplicateCallback(Conflict):
    """A callback with this id already exists (and it is not an idempotent retry)."""


class NumberWaiting(Conflict):
    """The number already has a phone request waiting (the database's unique index said so);
    ``existing`` is that request (a ``CallbackRecord``), or None if it ended meanwhile."""

    def __init__(self, message: str, existing: Any = None):
        super().__init__(message)
        self.existing = existing
