"""What a request says about its client that limits rely on: its address, its body size.

Behind a reverse proxy every request comes from the proxy; uvicorn's
``ProxyHeadersMiddleware`` (wired in ``create_app`` from ``Settings.trusted_proxies``)
replaces the peer with the rightmost ``X-Forwarded-For`` entry that is not itself a
trusted proxy. With no trusted proxy the header is ignored: a client can't choose the
address it is counted under.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection, Request

__all__ = ["client_address", "read_body"]


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
