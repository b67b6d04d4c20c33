"""Which remote ICE candidates the media anchor may send to, and the offer filtered by it.

A browser's offer lists candidates (address, port) to which the anchor then sends STUN
connectivity checks: a customer's SDP could aim them at 127.0.0.1:6379 or at services
on the server's private network. :func:`filter_offer` drops every ``a=candidate`` line
:meth:`CandidatePolicy.allows` refuses before aiortc sees the offer:

- always refused: loopback, link-local, multicast, unspecified, reserved and the
  server's own addresses (unless the policy says ``self``: a test rig or a one-machine
  demo where browser and server share a host), and host names (aioice would resolve
  them) other than mDNS ``*.local`` names, which browsers use to hide a local address;
- private and other non-global ranges (10/8, 172.16/12, 192.168/16, fc00::/7, CGNAT
  100.64/10...): only the networks the setting lists (``*``: all of them);
- public addresses: allowed.

Pure: the server's own addresses are passed in.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable

__all__ = ["CandidatePolicy", "filter_offer"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclasses.dataclass(frozen=True, slots=True)
class CandidatePolicy:
    #: Non-global networks candidates may be in.
    private: tuple[Network, ...] = ()
    #: Every non-global range (the setting's ``*``).
    any_private: bool = False
    #: The server's own addresses may be candidates (the setting's ``self``).
    allow_own: bool = False

    @classmethod
    def from_setting(cls, entries: Iterable[str]) -> "CandidatePolicy":
        """``("10.0.0.0/8", "fd00::/8")``, ``("*",)``, plus ``"self"``; raises ValueError."""
        entries = [entry.strip() for entry in entries if entry.strip()]
        networks = []
        for entry in entries:
            if entry in ("*", "self"):
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"OTODESK_VOICE_PRIVATE_CANDIDATES: {entry!r} is not a network "
                                 "(like 10.0.0.0/8), '*' or 'self'") from None
        return cls(private=tuple(networks), any_private="*" in entries, allow_own="self" in entries)

    def allows(self, host: str, own: frozenset[Address] = frozenset()) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0
        except ValueError:
            return host.lower().endswith(".local")
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if (address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_unspecified or address.is_reserved):
            return False
        if address in own and not self.allow_own:
            return False
        if address.is_global:
            return True
        return self.any_private or any(address in network for network in self.private)


def filter_offer(sdp: str, policy: CandidatePolicy, own: Iterable[str] = ()) -> tuple[str, list[str]]:
    """The offer without the candidates ``policy`` refuses, and the refused ``host:port`` s.

    ``own``: the server's own addresses (as text)."""
    own_addresses = frozenset(_addresses(own))
    kept, refused = [], []
    for line in sdp.splitlines(keepends=True):
        if line.startswith("a=candidate:"):
            # a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...
            fields = line[len("a=candidate:"):].split()
            if len(fields) < 6 or not policy.allows(fields[4], own_addresses):
                refused.append(":".join(fields[4:6]) if len(fields) >= 6 else line.strip())
                continue
        kept.append(line)
    return "".join(kept), refused


def _addresses(texts: Iterable[str]) -> Iterable[Address]:
    for text in texts:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        yield address
