"""Sockets compress each frame on its own (permessage-deflate without context takeover, both
ways), so an idle socket keeps no zlib state: ~45 of the ~100 KiB an idle socket cost
(bench/idle_sockets.py). Checked on a real server through a real websockets client."""

from __future__ import annotations

import json

import pytest
import websockets

from tests.helpers.server import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("lean"), seed=False) as server:
        yield server


async def test_compression_is_negotiated_without_context_takeover_and_frames_still_flow(server):
    url = server.base_url.replace("http://", "ws://") + "/ws/customer"
    async with websockets.connect(url, origin=server.base_url) as socket:
        negotiated = socket.response.headers["Sec-WebSocket-Extensions"]
        assert "permessage-deflate" in negotiated
        assert "server_no_context_takeover" in negotiated and "client_no_context_takeover" in negotiated
        # A frame each way, compressed (the whole suite runs over this protocol class).
        await socket.send(json.dumps({"type": "hello", "token": "not-a-token"}))
        reply = json.loads(await socket.recv())
        assert reply["type"] == "error" and reply["code"] == "unauthorized", reply


def test_an_idle_keep_alive_connection_outlives_a_few_seconds(server):
    """A client (or nginx, whose upstream keep-alive is 60 s) reusing a connection after a pause
    must not meet one the server is closing: uvicorn's default closed them after 5 s."""
    import socket
    import time
    from urllib.parse import urlsplit

    def response(conn) -> bytes:
        """One whole response (the head and its Content-Length body may come in separate reads:
        reading once left the first body to be taken for the second response, under load)."""
        data = b""
        while b"\r\n\r\n" not in data:
            if not (chunk := conn.recv(65536)):
                return data  # closed by the server
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(body) < length and (chunk := conn.recv(65536)):
            body += chunk
        assert len(body) == length, (head, body)
        return head

    address = urlsplit(server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as conn:
        request = f"GET /healthz HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode()
        conn.sendall(request)
        assert response(conn).startswith(b"HTTP/1.1 200")
        time.sleep(6.5)
        conn.sendall(request)  # on a connection the server closed, this reads b"" (or resets)
        assert response(conn).startswith(b"HTTP/1.1 200")
