"""What a request says about its client that limits rely on: its address, its body size.

Behind a reverse proxy every request comes from the proxy; uvicorn's
``ProxyHeadersMiddleware`` (wired in ``create_app`` from ``Settings.trusted_proxies``)
replaces the peer with the rightmost ``X-Forwarded-For`` entry that is not itself a
trusted proxy. With no trusted proxy the header is ignored: a client can't choose the
address it is counted under.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import msgspec
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

__all__ = ["MAX_BODY", "ApiError", "client_address", "error_response", "json_body", "read_body"]

#: The largest JSON body a staff or API request may send.
MAX_BODY = 64 * 1024


class ApiError(Exception):
    """An expected failure of a JSON endpoint: answered as ``{"error": {code, message}}``."""

    def __init__(self, status: int, code: str, message: str, *, detail: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        #: Facts for a page to word the error in its reader's language (the message is English).
        self.detail = detail


def error_response(status: int, code: str, message: str, *, detail: dict | None = None) -> JSONResponse:
    body = {"code": code, "message": message, **({"detail": detail} if detail else {})}
    return JSONResponse({"error": body}, status_code=status)


def client_address(conn: HTTPConnection) -> str:
    """The client's IP address as text; an IPv6 client counts as its /64 (one household or
    office has a whole /64 and could otherwise mint addresses at will)."""
    host = conn.client.host if conn.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


async def read_body(conn: Request, limit: int) -> bytes | None:
    """The body, or None past ``limit`` bytes: counted as read (a chunked body has no
    Content-Length, and a header can lie), and never read further than the limit."""
    declared = conn.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in conn.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


async def json_body(request: Request, schema: type, limit: int = MAX_BODY) -> Any:
    """The JSON body (at most ``limit`` bytes) decoded into ``schema``; ApiError 415 / 413 / 422 / 400 otherwise."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    body = await read_body(request, limit)
    if body is None:
        raise ApiError(413, "too_large", f"the body is over {limit} bytes")
    if b"\\u0000" in body or b"\x00" in body:  # PostgreSQL stores no NUL in text
        raise ApiError(422, "invalid", "NUL characters are not accepted")
    try:
        return msgspec.json.decode(body, type=schema)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"the body is not JSON: {exc}") from None
