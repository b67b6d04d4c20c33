"""How any process talks to the router, wherever the leader runs.

Commands go into the bus's router inbox; the leader answers on this process's
reply room. ``call`` waits for that answer; ``notify`` does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from typing import Any

from signaling.bus import Bus, SubscriptionLagged
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["RouterClient", "reply_room"]

log = logging.getLogger(__name__)


def reply_room(process_id: str) -> str:
    return f"reply:{process_id}"


class RouterClient:
    """Use as ``async with RouterClient(bus, process_id) as client``."""

    def __init__(self, bus: Bus, process_id: str, *, timeout: float = 5.0):
        self.bus = bus
        self.process_id = process_id
        self.timeout = timeout
        self._pending: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> "RouterClient":
        self._task = asyncio.create_task(self._receive_replies())
        await self._ready.wait()
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for future in self._pending.values():
            future.cancel()

    async def notify(self, op: str, **args: Any) -> None:
        """Fire and forget: presence and 'something changed' hints."""
        await self.bus.send_to_router({"op": op, "sent_at": time.time(), **args})

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        """Apply ``op`` on the leader and return its result.

        Raises ProtocolError with the router's code, or ``not_ready`` when no
        leader answered within ``timeout`` seconds (failover in progress).
        """
        rid = f"{self.process_id}.{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            await self.bus.send_to_router({"op": op, "rid": rid, "reply_to": self.process_id,
                                           "sent_at": time.time(), **args})
            reply = await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            raise ProtocolError(ErrorCode.NOT_READY,
                                "routing did not answer in time (busy or restarting); the request "
                                "may still be applied: check its state before trying again") from None
        finally:
            self._pending.pop(rid, None)
        if not reply.get("ok"):
            raise ProtocolError(reply.get("code", ErrorCode.INTERNAL), reply.get("message", "failed"))
        return reply.get("result") or {}

    async def _receive_replies(self) -> None:
        while True:
            try:
                async with self.bus.subscribe(reply_room(self.process_id)) as subscription:
                    self._ready.set()
                    async for _seq, reply in subscription:
                        future = self._pending.get(reply.get("rid", ""))
                        if future is not None and not future.done():
                            future.set_result(reply)
            except SubscriptionLagged:
                log.warning("router replies lagged; resubscribing")
