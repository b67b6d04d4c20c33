"""The bus between otodesk processes: room events with replay, the router inbox, leases.

``open_bus(url)`` picks the backend by URL: ``memory://`` (or nothing) for one process,
``redis://`` / ``rediss://`` / ``unix://`` for many. Both have the same semantics and run
the same tests (tests/integration/test_bus.py). Errors: see ``signaling.bus.errors``.
Request/reply between processes on top of it: ``signaling.bus.replies`` (``ReplyBox``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from signaling.bus.base import Bus, Subscription
from signaling.bus.errors import BusClosed, BusError, BusUnavailable, EventNotSerialisable, SubscriptionLagged
from signaling.bus.leadership import Leadership
from signaling.bus.memory import MemoryBus
from signaling.bus.redis import RedisBus
from signaling.bus.replies import ReplyBox, error_reply, ok_reply, result_of

__all__ = [
    "Bus",
    "BusClosed",
    "BusError",
    "BusUnavailable",
    "EventNotSerialisable",
    "Leadership",
    "MemoryBus",
    "RedisBus",
    "ReplyBox",
    "Subscription",
    "SubscriptionLagged",
    "create_bus",
    "error_reply",
    "ok_reply",
    "open_bus",
    "result_of",
]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def create_bus(url: str | None, *, replay_window: int = 500, namespace: str = "otodesk") -> Bus:
    """Build (not start) the bus for ``url``; prefer ``open_bus``. Raises ValueError for an
    unknown scheme."""
    if not url or url == "memory://":
        return MemoryBus(replay_window=replay_window)
    if url.startswith(_REDIS_SCHEMES):
        return RedisBus(url, replay_window=replay_window, namespace=namespace)
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise ValueError(f'Unsupported bus URL scheme "{scheme}": use memory:// or redis://host:port/db')


@contextlib.asynccontextmanager
async def open_bus(url: str | None, *, replay_window: int = 500,
                   namespace: str = "otodesk") -> AsyncIterator[Bus]:
    """``async with open_bus(settings.redis_url) as bus: ...``

    ``""``/None/``memory://`` -> MemoryBus; ``redis://...`` -> RedisBus (keys under
    ``namespace:``). Raises BusUnavailable if Redis can't be reached on entry. Closed on exit.
    """
    bus = create_bus(url, replay_window=replay_window, namespace=namespace)
    try:
        await bus.start()
        yield bus
    finally:
        await bus.close()
