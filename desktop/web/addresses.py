"""The client's address, for limits per address.

Behind a reverse proxy every request comes from the proxy; uvicorn's
``ProxyHeadersMiddleware`` (wired in ``create_app`` from ``Settings.trusted_proxies``)
replaces the peer with the rightmost ``X-Forwarded-For`` entry that is not itself a
trusted proxy. With no trusted proxy the header is ignored: a client can't choose the
address it is counted under.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection

__all__ = ["client_address"]


def client_address(conn: HTTPConnection) -> str:
    """The client's IP address as text; an IPv6 client counts as its /64 (one household or
    office has a whole /64 and could otherwise mint addresses at will)."""
    host = conn.client.host if conn.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address)
