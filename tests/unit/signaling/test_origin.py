"""Which browser origins may open a websocket (``signaling.hub.origin_allowed``): the CSWSH check."""

from __future__ import annotations

import pytest

from signaling.hub import origin_allowed


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("https://desk.example.com", "desk.example.com", ()),            # the app's own origin
    ("http://127.0.0.1:8000", "127.0.0.1:8000", ()),
    ("https://shop.example.org", "desk.example.com", ("https://shop.example.org",)),  # a listed site
    ("https://anything.example", "desk.example.com", ("*",)),         # every origin, when configured
    (None, "desk.example.com", ()),                                   # a native client (bots): no Origin
])
def test_allowed(origin, host, allowed):
    assert origin_allowed(origin, host, allowed)


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("https://evil.example", "desk.example.com", ()),
    ("https://evil.example", "desk.example.com", ("https://shop.example.org",)),
    ("https://desk.example.com.evil.example", "desk.example.com", ()),  # a look-alike host
    ("https://desk.example.com:8443", "desk.example.com", ()),          # another port is another origin
    ("https://shop.example.org/", "desk.example.com", ("https://shop.example.org",)),  # origins have no path
    ("https://desk.example.com", None, ()),                             # no Host to compare with
    ("https://desk.example.com", "", ()),
    ("null", "desk.example.com", ()),                                   # a sandboxed or file: page
])
def test_refused(origin, host, allowed):
    assert not origin_allowed(origin, host, allowed)


PUBLIC = ("https://desk.example.com",)


@pytest.mark.parametrize(("origin", "host"), [
    ("https://desk.example.com", "10.0.0.5:8000"),  # a proxy that forwards its upstream's Host
    ("https://desk.example.com", None),             # or no Host at all
])
def test_the_configured_public_origin_is_the_apps_own_behind_a_proxy(origin, host):
    assert origin_allowed(origin, host, (), PUBLIC)


def test_with_public_origins_configured_the_host_header_no_longer_vouches_for_an_origin():
    # Host is the client's to set when the proxy passes it through: it must not widen the check.
    assert not origin_allowed("https://evil.example", "evil.example", (), PUBLIC)
    assert origin_allowed("https://shop.example.org", "evil.example", ("https://shop.example.org",), PUBLIC)
