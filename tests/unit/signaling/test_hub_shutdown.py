"""A socket whose peer is gone while the hub writes to it (as uvicorn's shutdown does) ends
quietly: no "socket task failed" traceback from the reader (issue 9, item 26)."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.websockets import WebSocket

from signaling.bus import open_bus
from signaling.hub import Hub, HubLimits, Session


class _Handler:
    role = "agent"

    async def authenticate(self, websocket, hello):
        return Session(role=self.role, room="agent:a1", identity="a1")

    async def opened(self, session, hello):
        pass

    async def welcome(self, session):
        return {}

    async def handle(self, session, message):
        return None

    async def closed(self, session):
        pass


async def test_a_peer_gone_during_a_send_ends_the_socket_without_a_traceback(caplog):
    frames = iter([{"type": "websocket.connect"},
                   {"type": "websocket.receive", "text": json.dumps({"type": "hello"})}])

    async def receive():
        try:
            return next(frames)
        except StopIteration:
            await asyncio.sleep(0.01)  # the client keeps talking (pings) while the server stops
            return {"type": "websocket.receive", "text": json.dumps({"type": "ping"})}

    async def send(message):
        if message["type"] != "websocket.accept":
            raise OSError("peer gone")  # what uvicorn's ClientDisconnected is

    websocket = WebSocket({"type": "websocket", "path": "/ws/agent", "headers": []}, receive, send)
    async with open_bus(None) as bus:
        hub = Hub(bus, limits=HubLimits())
        with caplog.at_level(logging.WARNING, logger="signaling.hub"):
            await asyncio.wait_for(hub.serve(websocket, _Handler()), 5)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert not hub.sessions


class _SlowPeer:
    """A websocket whose sends wait until released (a client not reading)."""

    def __init__(self):
        self.sent: list[str] = []
        self.release = asyncio.Event()

    async def send_text(self, text: str) -> None:
        await self.release.wait()
        self.sent.append(text)


async def test_an_idle_socket_holds_no_outbox_and_no_writer_and_a_slow_one_is_stopped():
    from signaling.hub import Connection

    peer = _SlowPeer()
    connection = Connection(peer, queue_size=3)
    connection.send({"type": "pong", "at": 1})
    connection.send({"type": "pong", "at": 2})
    assert connection._writer is not None  # writing while there is something to send
    peer.release.set()
    await asyncio.sleep(0.01)
    assert [json.loads(text)["at"] for text in peer.sent] == [1, 2]  # in order
    # Drained: what an idle socket keeps is nothing (bench/idle_sockets.py).
    assert connection._writer is None and connection._outbox is None and not connection.stopped.done()

    peer.release.clear()
    for at in range(3, 8):  # one in the writer's hands, three queued, the fifth overflows
        connection.send({"type": "pong", "at": at})
    assert connection.too_slow and connection.stopped.done()
    await connection.close()
    assert connection._writer is None
