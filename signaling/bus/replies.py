"""Request/reply over the bus: one reply room per process, a future per request id.

A process that asks another one something (the router leader, a call's anchor) sends the
request its own way, tagged with a fresh ``rid`` and the process's id as ``reply_to``; the
answering side publishes ``{"rid", "ok": true, "result": {...}}`` or ``{"rid", "ok": false,
"code", "message"}`` (built with :func:`ok_reply` / :func:`error_reply`) on the asker's
reply room, where :class:`ReplyBox` hands it to the request waiting for it.

Raised: ProtocolError with the answer's code, or with the box's own code when no answer came
in time. A reply lost while the box resubscribes (its subscription lagged) times out the same.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from signaling.bus.base import Bus
from signaling.bus.errors import SubscriptionLagged
from signaling.bus.tasks import cancel_and_wait
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["ReplyBox", "error_reply", "ok_reply", "result_of"]

log = logging.getLogger(__name__)


def ok_reply(rid: str, result: dict[str, Any] | None) -> dict[str, Any]:
    """The answer to request ``rid`` that succeeded with ``result``."""
    return {"rid": rid, "ok": True, "result": result}


def error_reply(rid: str, code: str, message: str) -> dict[str, Any]:
    """The answer to request ``rid`` that failed; ``code`` is an :class:`ErrorCode`."""
    return {"rid": rid, "ok": False, "code": code, "message": message}


def result_of(reply: dict[str, Any]) -> dict[str, Any]:
    """The result an answer carries ({} for none); raises ProtocolError for a failed one."""
    if not reply.get("ok"):
        raise ProtocolError(reply.get("code", ErrorCode.INTERNAL), reply.get("message", "failed"))
    return reply.get("result") or {}


class ReplyBox:
    """Waits for the answers published on one reply room (``room``) of this process.

    Use as ``async with ReplyBox(...) as box`` or call :meth:`open` (idempotent) and, at the
    end, :meth:`aclose`. :meth:`ask` opens the box itself if needed.

    ``id_prefix`` starts every request id (make it unique to this process's life);
    ``timeout_code`` / ``timeout_message`` make the ProtocolError raised when an answer does
    not come in time, so callers can say what did not answer.
    """

    def __init__(self, bus: Bus, room: str, *, id_prefix: str, timeout_code: str, timeout_message: str):
        self.bus = bus
        self.room = room
        self._id_prefix = id_prefix
        self._timeout_code = timeout_code
        self._timeout_message = timeout_message
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> ReplyBox:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Subscribe to the reply room (again, if the subscription died) and return once
        subscribed, so no answer to a request sent afterwards is missed. Raises what subscribing
        raised (e.g. BusClosed)."""
        if self._task is None or self._task.done():
            self._ready.clear()
            self._task = asyncio.create_task(self._receive(), name=f"replies-{self.room}")
        task = self._task
        await self._ready.wait()
        if task.done():
            task.result()  # subscribing failed: raise why

    async def aclose(self) -> None:
        """Stop listening; requests still waiting are cancelled. Idempotent."""
        if self._task is not None:
            await cancel_and_wait(self._task)
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()

    async def ask(self, send: Callable[[str], Awaitable[object]], *, timeout: float) -> dict[str, Any]:
        """Send one request and return the result of its answer.

        ``send(rid)`` must deliver the request tagged with ``rid`` (and the ``reply_to`` that
        leads to ``room``). Waits ``timeout`` seconds for the answer, then raises ProtocolError
        with the box's timeout code: the request may still be applied later. Raises
        ProtocolError with the answer's code for a failed one.
        """
        await self.open()
        rid = f"{self._id_prefix}{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        # Registered before sending: the answer may come back before send() returns.
        self._pending[rid] = future
        try:
            await send(rid)
            # Not asyncio.wait_for: on Python 3.11 it returns the answer when the asker is
            # cancelled as it comes, and the cancel is lost (signaling/bus/tasks.py cancels_kept).
            async with asyncio.timeout(timeout):
                reply = await future
        except asyncio.TimeoutError:
            raise ProtocolError(self._timeout_code, self._timeout_message) from None
        finally:
            self._pending.pop(rid, None)
        return result_of(reply)

    async def _receive(self) -> None:
        try:
            while True:
                try:
                    async with self.bus.subscribe(self.room) as subscription:
                        self._ready.set()
                        async for _seq, reply in subscription:
                            self._settle(reply)
                    # Iteration ends only when the bus closes: the next subscribe raises BusClosed.
                except SubscriptionLagged:
                    log.warning("replies on %s lagged; resubscribing", self.room)
        finally:
            self._ready.set()  # wake open() even when subscribing failed

    def _settle(self, reply: Any) -> None:
        if not isinstance(reply, dict):
            return
        future = self._pending.get(reply.get("rid") or "")
        if future is not None and not future.done():
            future.set_result(reply)
