"""A Python client for the otodesk protocol: customer and agent bots.

Used by the tests and the benchmarks; also a reference for integrators::

    async with await CustomerBot.start("http://127.0.0.1:8000") as customer:
        ack = await customer.command("call_me", name="Ann", queue="sales")
        status = await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued")

    async with await AgentBot.login("http://127.0.0.1:8000", "alice", "otodesk-demo") as agent:
        await agent.command("set_state", state="available")
        offer = await agent.wait_for("offer")
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
from typing import Any, Callable

import httpx
import websockets

from signaling.protocol import wall_delta

__all__ = ["ProtocolClient", "CustomerBot", "AgentBot", "SupervisorBot", "CommandFailed"]


class CommandFailed(Exception):
    """The server answered a command with ``error``; ``code`` says why."""

    def __init__(self, error: dict[str, Any]):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.error = error


class ProtocolClient:
    """One socket: sends ``hello``, keeps every message, answers acks by command id."""

    role = ""
    path = ""
    #: Seconds between this client's ping frames (websockets' default); None: none, as a browser
    #: (the server pings every socket itself).
    ping_interval: float | None = 20.0

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None,
                 hello: dict[str, Any] | None = None):
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.hello_fields = hello or {}
        self.messages: list[dict[str, Any]] = []
        self.last_seq: int | None = None
        self.welcome: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._pending: dict[str, asyncio.Future] = {}
        self._changed = asyncio.Condition()
        self._socket = None
        self._reader: asyncio.Task | None = None

    @property
    def ws_url(self) -> str:
        return re.sub(r"^http", "ws", self.base_url) + self.path

    async def connect(self, *, resume: bool = False) -> dict[str, Any]:
        """Open the socket, send hello, and return the ``welcome`` or ``resumed``."""
        self._socket = await websockets.connect(self.ws_url, additional_headers=self.headers,
                                                max_size=2**22, open_timeout=10,
                                                ping_interval=self.ping_interval)
        self._reader = asyncio.create_task(self._read())
        start = len(self.messages)
        await self.send({"type": "hello", "last_seq": self.last_seq if resume else None, **self.hello_fields})
        first = await self.wait_for(("welcome", "resumed", "error"), start=start)
        if first["type"] == "error":
            raise CommandFailed(first)
        if first["type"] == "welcome":
            self.welcome = first
        return first

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def send(self, message: dict[str, Any] | str) -> None:
        await self._socket.send(message if isinstance(message, str) else json.dumps(message))

    async def command(self, type_: str, *, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Send a command with a fresh id; return its ``ack`` or raise CommandFailed."""
        # Unique across this bot's lives: the server remembers ids to drop retries.
        command_id = fields.pop("id", None) or f"{self._prefix}.{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            await self.send({"type": type_, "id": command_id, **fields})
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            self._pending.pop(command_id, None)
        if reply["type"] == "error":
            raise CommandFailed(reply)
        return reply

    async def wait_for(self, types: str | tuple[str, ...], predicate: Callable[[dict], bool] | None = None,
                       *, timeout: float = 10.0, start: int = 0) -> dict[str, Any]:
        """The first message (from index ``start``) of one of ``types`` that matches."""
        wanted = (types,) if isinstance(types, str) else types

        def find():
            for message in self.messages[start:]:
                if message.get("type") in wanted and (predicate is None or predicate(message)):
                    return message
            return None

        async with self._changed:
            async with asyncio.timeout(timeout):
                await self._changed.wait_for(lambda: find() is not None)
            return find()

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Wait until the server closes the socket; its close code (1012: "service restart",
        reconnect elsewhere)."""
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._reader)
        return self._socket.close_code

    def mark(self) -> int:
        """An index to pass as ``start``: wait only for what arrives after now."""
        return len(self.messages)

    async def _read(self) -> None:
        try:
            async for text in self._socket:
                message = json.loads(text)
                if "seq" in message and message["type"] not in ("welcome", "resumed"):
                    self.last_seq = message["seq"]
                elif message["type"] in ("welcome", "resumed"):
                    self.last_seq = message["seq"]
                await self._received(message)
                command_id = message.get("id")
                if message["type"] in ("ack", "error") and command_id in self._pending:
                    future = self._pending[command_id]
                    if not future.done():
                        future.set_result(message)
                async with self._changed:
                    self.messages.append(message)
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass

    async def _received(self, message: dict[str, Any]) -> None:
        """A role's own bookkeeping of each message, before waiters see it."""


class CustomerBot(ProtocolClient):
    role = "customer"
    path = "/ws/customer"

    @classmethod
    async def start(cls, base_url: str, *, token: str | None = None, url: str = "http://shop.test/",
                    title: str = "Shop", origin: str | None = None) -> "CustomerBot":
        async with httpx.AsyncClient(base_url=base_url) as http:
            response = await http.post("/api/visitor", json={"token": token})
            response.raise_for_status()
            data = response.json()
        headers = {"Origin": origin} if origin else {}
        bot = cls(base_url, headers=headers, hello={"token": data["token"], "url": url, "title": title})
        bot.token, bot.visitor_id = data["token"], data["visitor_id"]
        await bot.connect()
        return bot


class AgentBot(ProtocolClient):
    role = "agent"
    path = "/ws/agent"

    @classmethod
    async def login(cls, base_url: str, username: str, password: str, *, connect: bool = True):
        cookie = await login_cookie(base_url, username, password)
        bot = cls(base_url, headers={"Cookie": cookie})
        if connect:
            await bot.connect()
        return bot


class SupervisorBot(AgentBot):
    """The wall's socket. ``walls`` is every wall it has shown, oldest first: the welcome's,
    each whole ``wall`` and each ``wall_delta`` applied (signaling/protocol/wall_delta.py); on
    a delta that does not follow it asks for a whole wall (``wall_resync``), as the page does."""

    role = "supervisor"
    path = "/ws/supervisor"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.view = wall_delta.WallView()
        self.walls: list[dict[str, Any]] = []
        self.gaps = 0
        self._asked = False

    def mark_wall(self) -> int:
        """An index to pass as ``start`` of :meth:`wait_for_wall`: only walls shown after now."""
        return len(self.walls)

    async def wait_for_wall(self, predicate: Callable[[dict], bool] | None = None, *,
                            timeout: float = 10.0, start: int = 0) -> dict[str, Any]:
        """The first wall shown (from index ``start`` of ``walls``) that matches."""
        def find():
            return next((wall for wall in self.walls[start:] if predicate is None or predicate(wall)), None)

        async with self._changed:
            async with asyncio.timeout(timeout):
                await self._changed.wait_for(lambda: find() is not None)
            return find()

    async def _received(self, message: dict[str, Any]) -> None:
        if message["type"] not in ("welcome", "wall", "wall_delta"):
            return
        taken = self.view.take(message)
        if taken is wall_delta.Taken.APPLIED:
            self.walls.append(self.view.wall)
            if message["type"] != "wall_delta":
                self._asked = False  # a whole wall: a later gap asks again
        elif taken is wall_delta.Taken.GAP:
            self.gaps += 1
            if not self._asked and message["type"] == "wall_delta":
                self._asked = True
                await self.send({"type": "wall_resync", "id": f"{self._prefix}.{next(self._ids)}"})


async def login_cookie(base_url: str, username: str, password: str) -> str:
    """Log in through the form (with its CSRF token) and return the Cookie header value."""
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False) as http:
        page = await http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("no csrf_token in the login form")
        response = await http.post("/login", data={"username": username, "password": password,
                                                   "csrf_token": token.group(1), "next": "/desk"})
        if response.status_code != 303:
            raise RuntimeError(f"login as {username} failed: HTTP {response.status_code}")
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())
