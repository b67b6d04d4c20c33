"""Every HTTP request and websocket gets an id, so its log lines can be found together.

The id is the caller's ``X-Request-Id`` when it is a sane token (a proxy's, so one id follows
the request through nginx and otodesk), else a new one; it is sent back in the response's
``X-Request-Id`` and put on every log record made while serving it (``request_id``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestIds", "RequestIdFilter", "current_request_id", "request_id_of", "use_request_id"]

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
#: What every page of a customer's site loads (the widget's loader and bundle): their ids go in
#: the log only, not back on the wire (~50 bytes a response, out of the widget's first-load budget).
_LOGGED_ONLY = ("/static/", "/widget.js")


def current_request_id() -> str:
    return _current.get()


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-Id when sane, else a new one."""
    given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
    return given if _SANE.fullmatch(given) else uuid.uuid4().hex


def use_request_id(request_id: str) -> None:
    """Put ``request_id`` on this task's log records (a socket's own task: its context ends with it)."""
    _current.set(request_id)


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = _current.set(request_id)
        echo = not scope.get("path", "").startswith(_LOGGED_ONLY)

        async def send_with_id(message: Message) -> None:
            if echo and message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _current.get()
        return True
