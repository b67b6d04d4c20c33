"""Calls whose anchoring process died, taken over by a process with a socket on them.

A socket here with a leg in a call anchored on another process is noted
(:meth:`Adoption.leg_elsewhere`). While any is, every ``ADOPT_INTERVAL`` seconds
this process tries to claim each such call (``VoiceBus.claim(adopt=True)``), which
succeeds only once the anchor's lease has run out: its process is gone. The call
is then adopted here: ``adopt`` (the voice feature) says what its parties are told
(their legs reconnecting) until their browsers' next offers rebuild it; if no leg
is back within ``ADOPT_WAIT`` seconds, the claim is given up and the parties and
the wall are told the call ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from desktop.voice.bus import VoiceBus

__all__ = ["Adoption", "ADOPT_INTERVAL", "ADOPT_WAIT"]

log = logging.getLogger(__name__)

ADOPT_INTERVAL = 2.0  # seconds between checks that calls anchored elsewhere still have their anchor
ADOPT_WAIT = 60.0     # seconds an adopted call waits for a leg before its claim is given up

Public = dict[str, Any]  # a call as its parties and the wall are told of it


class Adoption:
    """The calls sockets here have legs in elsewhere, and those adopted here awaiting a leg.

    ``anchored_here(callback_id)`` says whether this process's anchor has the call;
    ``adopt(callback_id)`` is called once it is claimed and returns what the parties
    are told (or None, having released the claim, if there is no call to adopt any
    more); ``publish(callback_id, public)`` tells them; ``forget(callback_id)``
    drops what the caller kept of a call given up.
    """

    def __init__(self, *, voice_bus: VoiceBus, anchored_here: Callable[[str], bool],
                 adopt: Callable[[str], Awaitable[Public | None]],
                 publish: Callable[[str, Public], Awaitable[None]], forget: Callable[[str], None]):
        self.voice_bus = voice_bus
        self.anchored_here = anchored_here
        self.adopt = adopt
        self.publish = publish
        self.forget = forget
        #: socket key -> calls it has a leg in on another process (told when the socket closes).
        self._remote_owners: dict[str, set[str]] = {}
        #: callback id -> what parties are told of a call adopted here until its first leg is back.
        self.orphans: dict[str, Public] = {}
        self._watching: asyncio.Task | None = None
        self._give_ups: set[asyncio.Task] = set()

    def leg_elsewhere(self, owner: str, callback_id: str) -> None:
        """The socket ``owner`` has a leg in a call anchored on another process: watch that anchor."""
        self._remote_owners.setdefault(owner, set()).add(callback_id)
        if self._watching is None or self._watching.done():
            self._watching = asyncio.get_running_loop().create_task(self._adopt_orphans(), name="voice-adopt")

    def socket_closed(self, owner: str) -> set[str]:
        """The calls anchored elsewhere the closed socket had legs in (their anchors are to be told)."""
        return self._remote_owners.pop(owner, set())

    def rejoined(self, callback_id: str) -> None:
        """A leg of an adopted call is back: the call is anchored here as any other."""
        self.orphans.pop(callback_id, None)

    async def _adopt_orphans(self) -> None:
        """While sockets here are on calls anchored elsewhere, claim any call whose anchor's lease lapsed."""
        while any(self._remote_owners.values()):
            await asyncio.sleep(ADOPT_INTERVAL)
            for callback_id in set().union(*self._remote_owners.values()):
                try:
                    if not self.anchored_here(callback_id) and await self.voice_bus.claim(callback_id, adopt=True):
                        await self._adopted(callback_id)
                except Exception:
                    log.exception("voice call %s not adopted", callback_id)

    async def _adopted(self, callback_id: str) -> None:
        for calls in self._remote_owners.values():
            calls.discard(callback_id)
        public = await self.adopt(callback_id)
        if public is None:
            return
        self.orphans[callback_id] = public
        await self.publish(callback_id, public)
        task = asyncio.get_running_loop().create_task(self._give_up_unless_rejoined(callback_id))
        self._give_ups.add(task)
        task.add_done_callback(self._give_ups.discard)

    async def _give_up_unless_rejoined(self, callback_id: str) -> None:
        await asyncio.sleep(ADOPT_WAIT)
        public = self.orphans.pop(callback_id, None)
        if not self.anchored_here(callback_id):
            self.voice_bus.release(callback_id)
            if public is not None:  # nobody came back: the parties and the wall drop the call
                await self.publish(callback_id, {**public, "state": "ended", "legs": {}})
            self.forget(callback_id)

    async def aclose(self) -> None:
        """Stop watching and waiting; claims lapse with the voice bus."""
        for task in (self._watching, *self._give_ups):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
