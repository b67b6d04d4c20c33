"""Which receiver URLs a subscription may name, and whether an address may be POSTed to.

Only ``http`` and ``https`` URLs with a host are accepted. Unless private receivers are
allowed (``OTODESK_WEBHOOK_ALLOW_PRIVATE``), loopback, private, link-local and other
non-global addresses are refused, both when the subscription is made (an address literal)
and before every delivery (the host's resolved addresses): an admin account must not turn
otodesk into a probe of the internal network (cloud metadata at 169.254.169.254, Redis...).
A name that resolves to a public address when checked and a private one a moment later
(DNS rebinding) is not caught: put an egress proxy or firewall in front where that matters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["TargetRefused", "check_url", "check_resolved"]


class TargetRefused(ValueError):
    """This URL or address may not receive webhooks; the message says why (English), ``reason``
    says it as a code a page words in its reader's language: too_long, not_url, scheme, no_host,
    credentials, private, unresolved."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_url(url: str, *, allow_private: bool) -> str:
    """``url`` if it is an acceptable receiver; raises :class:`TargetRefused`."""
    if len(url) > 2000:
        raise TargetRefused("the URL is over 2000 characters", "too_long")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}", "not_url") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https receivers, not {parts.scheme or 'no scheme'!r}", "scheme")
    if not parts.hostname:
        raise TargetRefused("the URL has no host", "no_host")
    if parts.username or parts.password:
        raise TargetRefused("no credentials in the URL: verify the signature instead", "credentials")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        if parts.hostname == "localhost" and not allow_private:
            raise TargetRefused("localhost is private (set OTODESK_WEBHOOK_ALLOW_PRIVATE=true to allow it)",
                                "private") from None
        return url
    _check_address(address, allow_private)
    return url


def _check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> None:
    if not allow_private and not address.is_global:
        raise TargetRefused(f"{address} is not a public address "
                            "(set OTODESK_WEBHOOK_ALLOW_PRIVATE=true to allow private receivers)", "private")


async def check_resolved(url: str, *, allow_private: bool) -> None:
    """Resolve the URL's host; raises :class:`TargetRefused` if any address is not allowed."""
    if allow_private:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}", "unresolved") from None
    for info in infos:
        _check_address(ipaddress.ip_address(info[4][0].split("%")[0]), allow_private)
