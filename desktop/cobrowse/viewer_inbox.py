"""A customer socket's inbox from the agents viewing it (co-browse requests, pointers, pushed
documents): its bus subscription hands each event to a task that exists only while there are
events to handle, in order. An idle customer (nearly all of them) holds no task, coroutine or
future for it, only the subscription: fewer objects for every full collector pass to walk
(bench/idle_sockets.py --objects; it was ~10 a customer socket)."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from signaling.bus import Bus, Subscription

__all__ = ["ViewerInbox"]

log = logging.getLogger(__name__)


class ViewerInbox:
    """Subscribed by :meth:`open`, until :meth:`close`; ``handle(owner, event)`` runs for each
    event (a bound method and its argument: no closure per socket)."""

    __slots__ = ("bus", "room", "handle", "owner", "_entered", "_events", "_task", "_resubscribing", "_closed")

    def __init__(self, bus: Bus, room: str, handle: Callable[[Any, dict[str, Any]], Awaitable[None]], owner: Any):
        self.bus = bus
        self.room = room
        self.handle = handle
        self.owner = owner
        self._resubscribing: asyncio.Task[None] | None = None
        self._entered: AbstractAsyncContextManager[Subscription] | None = None
        self._events: collections.deque[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None  # while events wait
        self._closed = False

    async def open(self) -> None:
        """Subscribe (raises what ``Bus.subscribe`` raises: BusUnavailable)."""
        entered = self.bus.subscribe(self.room)
        subscription = await entered.__aenter__()
        self._entered = entered
        subscription.listen(self)

    async def close(self) -> None:
        self._closed = True
        for task in (self._task, self._resubscribing):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._resubscribing = None
        entered, self._entered = self._entered, None
        if entered is not None:
            await entered.__aexit__(None, None, None)

    def on_event(self, seq: int, event: dict[str, Any]) -> None:
        if self._closed:
            return
        if self._events is None:
            self._events = collections.deque()
        self._events.append(event)
        if self._task is None:
            self._task = asyncio.create_task(self._drain())

    def on_end(self, lagged: bool) -> None:
        # Fell behind: pointer moves only, nothing to resync; a new subscription takes over.
        if lagged and not self._closed and self._resubscribing is None:
            self._resubscribing = asyncio.create_task(self._resubscribe())

    async def _drain(self) -> None:
        try:
            while self._events:
                event = self._events.popleft()
                try:
                    await self.handle(self.owner, event)
                except Exception:  # one bad event must not end the customer's inbox
                    log.exception("co-browse inbox event failed: %s", event.get("type"))
        finally:
            self._task = None
            if not self._events:
                self._events = None

    async def _resubscribe(self) -> None:
        try:
            entered, self._entered = self._entered, None
            if entered is not None:
                await entered.__aexit__(None, None, None)
            await self.open()
        except Exception:
            log.warning("co-browse inbox: resubscribing to %s failed", self.room, exc_info=True)
        finally:
            self._resubscribing = None
