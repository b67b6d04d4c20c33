"""How any process talks to the router, wherever the leader runs.

Commands (``desktop/routing/commands.py``) go into the bus's router inbox; the leader
answers on this process's reply room. ``call`` waits for that answer; ``notify`` does not.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from desktop.rooms import reply_room
from desktop.routing.commands import Command
from signaling.bus import Bus, ReplyBox
from signaling.protocol import ErrorCode

__all__ = ["RouterClient"]


class RouterClient:
    """Use as ``async with RouterClient(bus, process_id) as client``."""

    def __init__(self, bus: Bus, process_id: str, *, timeout: float = 5.0):
        self.bus = bus
        self.process_id = process_id
        self.timeout = timeout
        self._replies = ReplyBox(
            bus, reply_room(process_id), id_prefix=f"{process_id}.",
            timeout_code=ErrorCode.NOT_READY,
            timeout_message="routing did not answer in time (busy or restarting); the request "
                            "may still be applied: check its state before trying again")

    async def __aenter__(self) -> "RouterClient":
        await self._replies.open()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._replies.aclose()

    async def notify(self, command: Command) -> None:
        """Fire and forget: presence and 'something changed' hints."""
        await self.bus.send_to_router(msgspec.structs.replace(command, sent_at=time.time()).to_dict())

    async def send_asking(self, command: Command) -> asyncio.Future[dict[str, Any]]:
        """Send ``command`` with an answer asked for, and return once it is in the inbox: the
        future of the answer (its result, or ProtocolError as ``call`` raises). For a sender that
        must not wait on the leader but wants to know what it made of the command. Raises what
        sending raised."""
        sent = asyncio.get_running_loop().create_future()

        async def send(rid: str) -> None:
            await self.bus.send_to_router(msgspec.structs.replace(
                command, rid=rid, reply_to=self.process_id, sent_at=time.time()).to_dict())
            sent.set_result(None)

        answer = asyncio.ensure_future(self._replies.ask(send, timeout=self.timeout))
        await asyncio.wait([sent, answer], return_when=asyncio.FIRST_COMPLETED)
        if not sent.done():
            answer.result()  # it failed before it went: raise why
        return answer

    async def call(self, command: Command) -> dict[str, Any]:
        """Apply ``command`` on the leader and return its result.

        Raises ProtocolError with the router's code, or ``not_ready`` when no
        leader answered within ``timeout`` seconds (failover in progress).
        """
        async def send(rid: str) -> None:
            await self.bus.send_to_router(msgspec.structs.replace(
                command, rid=rid, reply_to=self.process_id, sent_at=time.time()).to_dict())

        return await self._replies.ask(send, timeout=self.timeout)
