"""Which process anchors a call, and voice signaling to it over the bus.

A call's peers all live on one process: the first process that gets an offer
for it claims it (a lease ``voice-anchor:<callback_id>``, atomic across
processes on Redis, renewed every ``CLAIM_LEASE / 3`` seconds while the call
lives here) and serves requests published to the room ``voice:<callback_id>``.
If that process dies, its lease runs out within ``CLAIM_LEASE`` seconds and
the next offer for the call (the browsers reconnecting their legs), or a
process with a socket on the call (``adopt``), claims it on a surviving
process, which anchors the call from then on. Any other process whose socket
offers or controls that call publishes a request there and waits for the reply on
``voice-reply:<process_id>``. The anchor also reads what the room held when
it subscribed (``replay``), so a request published just before is not lost,
but only requests younger than ``REPLAY_WINDOW`` seconds (older ones were a
previous, dead anchor's, answered or given up); it answers a request id once.
A process adopting a dead anchor's call replays nothing: what was pending
times out and the browsers offer again.

A claim can also lapse while its process lives and still carries the call: a
stall of its event loop longer than the lease (a process over its capacity,
bench/README.md "Phone legs"). The next renewal finds it gone and claims it
again; if another process took it meanwhile (adopting what looked like an
orphan), the call can't be anchored in two places: this process stops serving
its room and ``on_lost(callback_id)`` ends it here (the voice feature: every
leg closed, the contact ended as any call's end), so neither anchor half-carries it.

Requests: one struct each (``desktop/voice/requests.py``), published as ``{"op":
"offer"|"control"|"owner_gone"|"stats", "rid", "reply_to", "at", ...}`` and decoded on the
anchoring side (one it can't read is answered ``bad_message``); replies: ``{"rid", "ok":
true, "result": {...}}`` or ``{"rid", "ok": false, "code", "message"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from desktop.rooms import call_room, voice_reply_room
from desktop.voice import requests
from desktop.voice.requests import VoiceRequest
from signaling.bus import Bus, ReplyBox, SubscriptionLagged, error_reply, ok_reply
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["VoiceBus", "REQUEST_TIMEOUT"]

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0  # seconds a remote voice request may take (an answer gathers ICE)
CLAIM_LEASE = 6.0  # seconds a dead anchor keeps its calls claimed
REPLAY_WINDOW = 2.0  # seconds: requests this young found in the room on claiming are answered
ENDED_HOLD = 60.0  # seconds an ended call stays claimed, so no process adopts it as orphaned


def _claim_name(callback_id: str) -> str:
    return f"voice-anchor:{callback_id}"


Handler = Callable[[str, VoiceRequest], Awaitable[dict[str, Any]]]
LostHandler = Callable[[str], Awaitable[None]]


class VoiceBus:
    """``handler(callback_id, request) -> result`` serves requests for calls anchored here;
    ``on_lost(callback_id)``, a call whose claim another process took while it was anchored here."""

    def __init__(self, bus: Bus, process_id: str, handler: Handler, *, on_lost: LostHandler | None = None):
        self.bus = bus
        self.process_id = process_id
        self.handler = handler
        self.on_lost = on_lost
        self._replies = ReplyBox(bus, voice_reply_room(process_id), id_prefix=f"{secrets.token_hex(3)}-",
                                 timeout_code=ErrorCode.INVALID_STATE,
                                 timeout_message="the call's media server did not answer; "
                                                 "the call may have ended")
        self._serving: dict[str, asyncio.Task] = {}
        #: Requests being answered now (handled, their reply not yet published).
        self.answering = 0
        #: Unique to this process's life: a restarted process must not inherit a dead one's claims.
        self._owner = f"{process_id}:{secrets.token_hex(4)}"
        self._renewing: asyncio.Task | None = None

    async def claim(self, callback_id: str, *, adopt: bool = False) -> bool:
        """True if this process now anchors the call (or already did); then it serves its room.

        ``adopt``: the call's anchor died; answer only requests published from now on.
        """
        if callback_id in self._serving:
            return True
        epoch, _left = await self.bus.lease_acquire(_claim_name(callback_id), self._owner, CLAIM_LEASE)
        if epoch is None:
            return False
        ready = asyncio.Event()
        since = time.time() - (0 if adopt else REPLAY_WINDOW)
        self._serving[callback_id] = asyncio.create_task(self._serve(callback_id, ready, since),
                                                         name=f"voice-serve-{callback_id}")
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(), name="voice-claims")
        await ready.wait()
        return True

    def release(self, callback_id: str, *, hold: bool = True) -> None:
        """The call ended here: stop serving its room. Its claim is held ``ENDED_HOLD`` seconds more
        (then lapses): a process that sees no anchor must not take an ended call for an orphan
        while the contact's end is still on its way to the database. ``hold=False`` lets it go at
        once: the contact goes on in a new call (an inbound caller who chose a callback)."""
        task = self._serving.pop(callback_id, None)
        if task is not None:
            task.cancel()
            asyncio.get_running_loop().create_task(
                self._hold_ended(callback_id) if hold else self._release(callback_id))

    async def _hold_ended(self, callback_id: str) -> None:
        with contextlib.suppress(Exception):
            await self.bus.lease_renew(_claim_name(callback_id), self._owner, ENDED_HOLD)

    async def _release(self, callback_id: str) -> None:
        with contextlib.suppress(Exception):
            await self.bus.lease_release(_claim_name(callback_id), self._owner)

    async def _renew(self) -> None:
        while self._serving:
            await asyncio.sleep(CLAIM_LEASE / 3)
            for callback_id in list(self._serving):
                try:
                    if not await self.bus.lease_renew(_claim_name(callback_id), self._owner, CLAIM_LEASE):
                        await self._lapsed(callback_id)
                except Exception as exc:
                    log.warning("voice call %s: claim not renewed: %s", callback_id, exc)

    async def _lapsed(self, callback_id: str) -> None:
        """The claim ran out while the call is anchored here (a stall longer than the lease):
        taken back, or, if another process took it meanwhile, the call ends here (module docstring)."""
        if callback_id not in self._serving:
            return  # it ended here meanwhile: release() holds or frees its claim
        epoch, _left = await self.bus.lease_acquire(_claim_name(callback_id), self._owner, CLAIM_LEASE)
        if epoch is not None:
            log.warning("voice call %s: anchor claim lapsed (this process stalled); taken back", callback_id)
            return
        log.warning("voice call %s: anchor claim lapsed and another process took it; the call ends here",
                    callback_id)
        task = self._serving.pop(callback_id, None)
        if task is None:
            return  # it ended here meanwhile
        task.cancel()
        if self.on_lost is not None:
            try:
                await self.on_lost(callback_id)
            except Exception:
                log.exception("voice call %s: not ended after its claim was lost", callback_id)

    async def request(self, callback_id: str, request: VoiceRequest) -> dict[str, Any]:
        """Ask the anchoring process; raises ProtocolError with its error, or ``invalid_state``
        when it did not answer within ``REQUEST_TIMEOUT`` seconds."""
        async def send(rid: str) -> None:
            await self.bus.publish(call_room(callback_id), msgspec.structs.replace(
                request, rid=rid, reply_to=self.process_id, at=time.time()).to_dict())

        return await self._replies.ask(send, timeout=REQUEST_TIMEOUT)

    async def notify(self, callback_id: str, request: VoiceRequest) -> None:
        """Tell the anchoring process, expecting no answer."""
        await self.bus.publish(call_room(callback_id), msgspec.structs.replace(request, at=time.time()).to_dict())

    # -- the anchoring side --------------------------------------------------------------

    async def _serve(self, callback_id: str, ready: asyncio.Event, since: float) -> None:
        room = call_room(callback_id)
        done: set[str] = set()
        try:
            async with self.bus.subscribe(room) as subscription:
                earlier = await self.bus.replay(room, 0) or []
                ready.set()
                for _seq, request in earlier:
                    if (request.get("at") or 0) >= since:
                        await self._answer(callback_id, request, done)
                async for _seq, request in subscription:
                    await self._answer(callback_id, request, done)
        except SubscriptionLagged:
            log.warning("voice requests for %s lagged", callback_id)
        finally:
            ready.set()

    async def _answer(self, callback_id: str, message: dict[str, Any], done: set[str]) -> None:
        if time.time() - (message.get("at") or 0) > REQUEST_TIMEOUT:
            return  # its sender gave up long ago (e.g. a request to a previous anchor that died)
        rid = message.get("rid")
        if rid is not None:
            if rid in done:
                return
            done.add(rid)
        self.answering += 1
        try:
            await self._answer_one(callback_id, message, rid)
        finally:
            self.answering -= 1

    async def _answer_one(self, callback_id: str, message: dict[str, Any], rid: str | None) -> None:
        try:
            reply = ok_reply(rid, await self.handler(callback_id, requests.decode(message)))
        except msgspec.ValidationError as exc:
            reply = error_reply(rid, ErrorCode.BAD_MESSAGE, f"not a voice request: {exc}")
        except ProtocolError as exc:
            reply = error_reply(rid, exc.code, exc.message)
        except Exception:
            log.exception("voice request %s failed", message.get("op"))
            reply = error_reply(rid, ErrorCode.INTERNAL, "internal error")
        if rid is not None and message.get("reply_to"):
            await self.bus.publish(voice_reply_room(message["reply_to"]), reply)

    async def aclose(self) -> None:
        claimed = list(self._serving)
        tasks = [*self._serving.values(), *([self._renewing] if self._renewing else [])]
        self._serving.clear()
        for callback_id in claimed:
            await self._release(callback_id)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._replies.aclose()
