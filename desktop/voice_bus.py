"""Which process anchors a call, and voice signaling to it over the bus.

A call's peers all live on one process: the first process that gets an offer
for it claims it (``bus.hit`` on ``voice:anchor:<callback_id>`` with a limit
of one, atomic across processes on Redis) and serves requests published to
the room ``voice:<callback_id>``. Any other process whose socket offers or
controls that call publishes a request there and waits for the reply on
``voice-reply:<process_id>``. The anchor reads the room from its beginning
(``replay``), so a request published before it subscribed is not lost, and
answers a request id once.

Requests: ``{"op": "offer"|"control"|"owner_gone", "rid", "reply_to", ...}``;
replies: ``{"rid", "ok": true, "result": {...}}`` or ``{"rid", "ok": false,
"code", "message"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from signaling.bus import Bus, SubscriptionLagged
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["VoiceBus", "call_room", "REQUEST_TIMEOUT"]

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0  # seconds a remote voice request may take (an answer gathers ICE)
CLAIM_WINDOW = 12 * 3600  # seconds a call stays claimed by its anchoring process


def call_room(callback_id: str) -> str:
    return f"voice:{callback_id}"


def _reply_room(process_id: str) -> str:
    return f"voice-reply:{process_id}"


Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class VoiceBus:
    """``handler(callback_id, request) -> result`` serves requests for calls anchored here."""

    def __init__(self, bus: Bus, process_id: str, handler: Handler):
        self.bus = bus
        self.process_id = process_id
        self.handler = handler
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3)
        self._pending: dict[str, asyncio.Future] = {}
        self._serving: dict[str, asyncio.Task] = {}
        self._replies: asyncio.Task | None = None
        self._replies_ready: asyncio.Event = asyncio.Event()

    async def claim(self, callback_id: str) -> bool:
        """True if this process now anchors the call (or already did); then it serves its room."""
        if callback_id in self._serving:
            return True
        if not await self.bus.hit(f"voice:anchor:{callback_id}", limit=1, window=CLAIM_WINDOW):
            return False
        ready = asyncio.Event()
        self._serving[callback_id] = asyncio.create_task(self._serve(callback_id, ready),
                                                         name=f"voice-serve-{callback_id}")
        await ready.wait()
        return True

    def release(self, callback_id: str) -> None:
        """The call ended here: stop serving its room."""
        task = self._serving.pop(callback_id, None)
        if task is not None:
            task.cancel()

    async def request(self, callback_id: str, op: str, **fields: Any) -> dict[str, Any]:
        """Ask the anchoring process; raises ProtocolError with its error, or on timeout."""
        await self._listen()
        rid = f"{self._prefix}-{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            await self.bus.publish(call_room(callback_id), {"op": op, "rid": rid, "reply_to": self.process_id,
                                                            **fields})
            reply = await asyncio.wait_for(future, REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise ProtocolError(ErrorCode.INVALID_STATE, "the call's media server did not answer; "
                                "the call may have ended") from None
        finally:
            self._pending.pop(rid, None)
        if not reply.get("ok"):
            raise ProtocolError(reply.get("code", ErrorCode.INTERNAL), reply.get("message", "failed"))
        return reply.get("result") or {}

    async def notify(self, callback_id: str, op: str, **fields: Any) -> None:
        await self.bus.publish(call_room(callback_id), {"op": op, "rid": None, **fields})

    # -- the anchoring side --------------------------------------------------------------

    async def _serve(self, callback_id: str, ready: asyncio.Event) -> None:
        room = call_room(callback_id)
        done: set[str] = set()
        try:
            async with self.bus.subscribe(room) as subscription:
                earlier = await self.bus.replay(room, 0) or []
                ready.set()
                for _seq, request in earlier:
                    await self._answer(callback_id, request, done)
                async for _seq, request in subscription:
                    await self._answer(callback_id, request, done)
        except SubscriptionLagged:
            log.warning("voice requests for %s lagged", callback_id)
        finally:
            ready.set()

    async def _answer(self, callback_id: str, request: dict[str, Any], done: set[str]) -> None:
        rid = request.get("rid")
        if rid is not None:
            if rid in done:
                return
            done.add(rid)
        try:
            reply = {"ok": True, "result": await self.handler(callback_id, request)}
        except ProtocolError as exc:
            reply = {"ok": False, "code": exc.code, "message": exc.message}
        except Exception:
            log.exception("voice request %s failed", request.get("op"))
            reply = {"ok": False, "code": ErrorCode.INTERNAL, "message": "internal error"}
        if rid is not None and request.get("reply_to"):
            await self.bus.publish(_reply_room(request["reply_to"]), {"rid": rid, **reply})

    # -- the requesting side ---------------------------------------------------------------

    async def _listen(self) -> None:
        if self._replies is None or self._replies.done():
            self._replies_ready.clear()
            self._replies = asyncio.create_task(self._receive_replies(), name="voice-replies")
        await self._replies_ready.wait()

    async def _receive_replies(self) -> None:
        while True:
            try:
                async with self.bus.subscribe(_reply_room(self.process_id)) as subscription:
                    self._replies_ready.set()
                    async for _seq, reply in subscription:
                        future = self._pending.get(reply.get("rid", ""))
                        if future is not None and not future.done():
                            future.set_result(reply)
            except SubscriptionLagged:
                continue

    async def aclose(self) -> None:
        tasks = [*self._serving.values(), *([self._replies] if self._replies else [])]
        self._serving.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
