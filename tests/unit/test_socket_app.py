"""The hub's sockets skip the middleware stack (desktop/web/socket_app.py): each layer would stay
suspended under an idle socket for its whole life. What the skipped layers did for a socket
is still done: its request id on its log records, the client's address from X-Forwarded-For
behind a trusted proxy, ``websocket.app``; any other path still goes through the stack."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient

from desktop.web.request_ids import current_request_id
from desktop.web.socket_app import SocketFirstApp

seen: dict[str, object] = {}
layers: list[str] = []


class Layer:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            layers.append(scope["path"])
        await self.app(scope, receive, send)


async def endpoint(websocket):
    seen.update(client=websocket.client.host, request_id=current_request_id(), app=websocket.app,
                path=websocket.url.path)
    await websocket.accept()
    await websocket.send_text("hi")
    await websocket.close()


def make_app(trusted: tuple[str, ...] = ()) -> SocketFirstApp:
    return SocketFirstApp(routes=[WebSocketRoute("/ws/customer", endpoint), WebSocketRoute("/ws/other", endpoint)],
                          middleware=[Middleware(Layer)], sockets={"/ws/customer": endpoint}, trusted_proxies=trusted)


def test_a_socket_skips_the_stack_and_keeps_its_request_id_and_forwarded_address():
    layers.clear()
    app = make_app(trusted=("*",))
    with TestClient(app) as client:
        headers = {"x-request-id": "from-nginx-0042", "x-forwarded-for": "203.0.113.9"}
        with client.websocket_connect("/ws/customer", headers=headers) as socket:
            assert socket.receive_text() == "hi"
    assert layers == []
    assert seen == {"client": "203.0.113.9", "request_id": "from-nginx-0042", "app": app, "path": "/ws/customer"}


def test_untrusted_forwarded_headers_are_ignored_and_other_paths_take_the_stack():
    layers.clear()
    with TestClient(make_app()) as client:
        with client.websocket_connect("/ws/customer", headers={"x-forwarded-for": "203.0.113.9"}) as socket:
            assert socket.receive_text() == "hi"
        assert seen["client"] == "testclient" and len(str(seen["request_id"])) == 32  # a new one
        with client.websocket_connect("/ws/other") as socket:
            assert socket.receive_text() == "hi"
    assert layers == ["/ws/other"]
