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
