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
