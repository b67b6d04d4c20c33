"""The app, with the hub's sockets served straight from the top instead of through the
middleware stack and the router.

A socket's handler runs for the socket's whole life, so every ASGI layer it went through stays
suspended in its call chain: Starlette's error and exception middlewares (each a closure with
its cells, twice over: the app's and the route's), the request-id, staff-header and CORS
middlewares, the router and the route: ~50 objects the collector tracks per idle socket, and a
full pass walks them all (bench/idle_sockets.py --objects). None of those layers does anything
for a websocket here (CORS and the staff headers are HTTP only; an exception escapes to uvicorn
either way), except two, done in place below: the request id on the socket's log records and,
behind trusted proxies, the client's address from X-Forwarded-For.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from desktop.web.request_ids import request_id_of, use_request_id

__all__ = ["SocketFirstApp"]

SocketEndpoint = Callable[[WebSocket], Awaitable[None]]


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    return None


class SocketFirstApp(Starlette):
    """Starlette; a websocket to one of ``sockets`` (path → endpoint) skips the stack (the same
    routes stay in ``routes``, the way any other path reaches them)."""

    def __init__(self, *, sockets: dict[str, SocketEndpoint], trusted_proxies: tuple[str, ...] = (), **kwargs):
        super().__init__(**kwargs)
        self.sockets = sockets
        # Used for what it does to the scope only (in place): its inner app returns at once.
        self._proxy = ProxyHeadersMiddleware(_nothing, trusted_hosts=list(trusted_proxies)) if trusted_proxies else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            endpoint = self.sockets.get(_route_path(scope))
            if endpoint is not None:
                scope["app"] = self
                if self._proxy is not None:
                    await self._proxy(scope, receive, send)
                use_request_id(request_id_of(scope))  # this task serves this socket only
                await endpoint(WebSocket(scope, receive, send))
                return
        await super().__call__(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the app's root path (as Starlette's router matches it)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
