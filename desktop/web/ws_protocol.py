"""uvicorn's websocket protocol, holding as little as it can while a socket is idle.

permessage-deflate as uvicorn sets it up keeps a zlib compressor (~38 KiB) and decompressor
(~7 KiB) alive for every socket, for the whole life of the socket: measured with
bench/idle_sockets.py --where, that was most of an idle socket's cost. With "no context
takeover" both ways (RFC 7692, section 7.1.1) each message is compressed on its own and the
zlib state is freed after it: frames stay compressed (the wall, welcomes, offers), idle sockets
hold nothing. uvicorn picks the class by import path (``ws=`` in desktop/cli/commands.py).

Also per socket, for its whole life: uvicorn's receive queue and "writable" flag as asyncio's
Queue (four deques, ~2.5 KiB) and Event (one deque): here a deque made when a frame waits and a
future while the app waits; and the handshake's request and response, with all their headers
(~2 KiB), dropped once the handshake is answered (the app has its own copy in the scope), the
request's headers emptied in place (websockets' parser keeps the request itself).
Written against uvicorn's ``WebSocketsSansIOProtocol`` (0.55): test_lean_sockets.py checks it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

__all__ = ["LeanWebSocketProtocol", "IMPORT_PATH", "LeanQueue", "LeanFlag"]

IMPORT_PATH = "desktop.web.ws_protocol:LeanWebSocketProtocol"


class LeanQueue:
    """What uvicorn asks of its receive queue (put_nowait, get, empty), unbounded like it."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: collections.deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


class LeanFlag:
    """What uvicorn asks of its "writable" event (set, clear, is_set, wait)."""

    __slots__ = ("_set", "_waiter")

    def __init__(self, value: bool = False) -> None:
        self._set = value
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self) -> bool:
        while not self._set:
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._waiter)  # several may wait: one cancelled leaves the rest
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LeanQueue()  # type: ignore[assignment]
        self.writable = LeanFlag(True)  # type: ignore[assignment]
        extensions = []
        if self.config.ws_per_message_deflate:
            extensions = [ServerPerMessageDeflateFactory(
                server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5},
                server_no_context_takeover=True, client_no_context_takeover=True)]
        self.conn = ServerProtocol(extensions=extensions, max_size=self.config.ws_max_size,
                                   logger=logging.getLogger("uvicorn.error"))

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            # Answered: the request's and response's headers are never read again. The request
            # itself stays referred to by the websockets parser's suspended frame (a local of
            # ServerProtocol.parse) for the socket's life: emptied, its headers' dict and lists
            # (~10 tracked objects) go.
            self.request.headers.clear()
            self.request = self.response = None
            # Offered extensions are read while answering the handshake only (the one agreed on
            # is in conn.extensions): the factory and its list go.
            self.conn.available_extensions = ()
