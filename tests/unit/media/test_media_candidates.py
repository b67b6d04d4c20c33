"""Which remote ICE candidates the media anchor may send to (issue 9, item 24): pure."""

from __future__ import annotations

import pytest

from signaling.media.candidates import CandidatePolicy, filter_offer

OWN = ["203.0.113.5", "10.0.0.5"]

STRICT = CandidatePolicy()
LAN = CandidatePolicy.from_setting(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1",     # loopback, also IPv4-mapped
    "169.254.10.1", "fe80::1", "fe80::1%eth0",               # link-local
    "224.0.0.251", "ff02::1", "255.255.255.255",             # multicast, broadcast
    "0.0.0.0", "::",                                         # unspecified
    "240.0.0.1",                                             # reserved
    "203.0.113.5",                                           # the server's own address
    "localhost", "redis.internal",                           # names aioice would resolve
])
def test_always_refused_whatever_the_setting(host: str) -> None:
    everything = CandidatePolicy.from_setting(["*"])
    assert not STRICT.allows(host, frozenset(_own()))
    assert not everything.allows(host, frozenset(_own()))


@pytest.mark.parametrize("host", ["10.1.2.3", "192.168.1.20", "172.16.0.9", "100.64.0.1", "fd00::20"])
def test_private_ranges_only_where_the_setting_allows(host: str) -> None:
    assert not STRICT.allows(host)
    assert CandidatePolicy.from_setting(["*"]).allows(host)
    assert LAN.allows(host) == (host.startswith("10.") or host.startswith("fd00"))


def test_public_addresses_and_mdns_names_are_allowed() -> None:
    assert STRICT.allows("8.8.8.8") and STRICT.allows("2001:4860::8888")
    assert STRICT.allows("0d6f1c2a-1234-4f5e-9abc-0123456789ab.local")


def test_the_servers_own_private_address_is_refused_even_in_an_allowed_network() -> None:
    assert not LAN.allows("10.0.0.5", frozenset(_own()))
    assert CandidatePolicy.from_setting(["10.0.0.0/8", "self"]).allows("10.0.0.5", frozenset(_own()))


def test_a_bad_setting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a network"):
        CandidatePolicy.from_setting(["10.0.0.0/33"])


def test_filter_offer_drops_only_refused_candidate_lines() -> None:
    offer = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
             "a=candidate:1 1 udp 2122260223 127.0.0.1 6379 typ host\r\n"
             "a=candidate:2 1 udp 2122260223 8.8.8.8 50000 typ host\r\n"
             "a=candidate:3 1 udp 1686052607 10.9.9.9 3478 typ srflx raddr 0.0.0.0 rport 0\r\n"
             "a=rtpmap:111 opus/48000/2\r\n")
    kept, refused = filter_offer(offer, STRICT, OWN)
    assert refused == ["127.0.0.1:6379", "10.9.9.9:3478"]
    assert kept == offer.replace("a=candidate:1 1 udp 2122260223 127.0.0.1 6379 typ host\r\n", "") \
        .replace("a=candidate:3 1 udp 1686052607 10.9.9.9 3478 typ srflx raddr 0.0.0.0 rport 0\r\n", "")


def _own():
    import ipaddress
    return [ipaddress.ip_address(a) for a in OWN]
