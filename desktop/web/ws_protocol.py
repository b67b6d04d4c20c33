"""uvicorn's websocket protocol, with compression that holds no memory between messages.

permessage-deflate as uvicorn sets it up keeps a zlib compressor (~38 KiB) and decompressor
(~7 KiB) alive for every socket, for the whole life of the socket: measured with
bench/idle_sockets.py --where, that was most of an idle socket's cost. With "no context
takeover" both ways (RFC 7692, section 7.1.1) each message is compressed on its own and the
zlib state is freed after it: frames stay compressed (the wall, welcomes, offers), idle sockets
hold nothing. uvicorn picks the class by import path (``ws=`` in desktop/cli/commands.py).
"""

from __future__ import annotations

import logging

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

__all__ = ["LeanWebSocketProtocol", "IMPORT_PATH"]

IMPORT_PATH = "desktop.web.ws_protocol:LeanWebSocketProtocol"


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        extensions = []
        if self.config.ws_per_message_deflate:
            extensions = [ServerPerMessageDeflateFactory(
                server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5},
                server_no_context_takeover=True, client_no_context_takeover=True)]
        self.conn = ServerProtocol(extensions=extensions, max_size=self.config.ws_max_size,
                                   logger=logging.getLogger("uvicorn.error"))
