"""The pure part of desktop/cobrowse/control.py: same-site URLs, the per-site switch, the control
consent state machine and the input budget."""

from __future__ import annotations

import pytest

from desktop.cobrowse.control import (
    Control,
    ControlError,
    ControlState,
    ForeignUrl,
    InputBudget,
    InvalidControlState,
    control_allowed,
    same_site_url,
)
from desktop.cobrowse.session import Share

PAGE = "https://shop.example.com/product/nimbus?x=1"


@pytest.mark.parametrize("url, expected", [
    ("/cart", "https://shop.example.com/cart"),
    ("checkout", "https://shop.example.com/product/checkout"),
    ("https://shop.example.com:443/help#faq", "https://shop.example.com:443/help#faq"),
    ("HTTPS://SHOP.EXAMPLE.COM/a", "https://SHOP.EXAMPLE.COM/a"),
])
def test_pages_of_the_same_site_resolve(url, expected):
    assert same_site_url(url, PAGE) == expected


@pytest.mark.parametrize("url", [
    "https://evil.example.com/cart", "http://shop.example.com/cart", "//evil.example.com/",
    "javascript:alert(1)", "data:text/html,<b>x</b>", "https://shop.example.com:8443/",
    "https://user:pw@shop.example.com/", "https://shop.example.com.evil.example/",
    "/ca\nrt", "https://shop.example.com\\@evil.example/",
])
def test_anything_else_is_refused(url):
    with pytest.raises(ForeignUrl):
        same_site_url(url, PAGE)


def test_no_known_page_means_no_navigation():
    with pytest.raises(ForeignUrl, match="not known"):
        same_site_url("/cart", None)


def test_remote_control_is_off_unless_the_site_is_listed():
    assert not control_allowed((), PAGE)
    assert control_allowed(("*",), PAGE)
    assert control_allowed(("https://shop.example.com",), PAGE)
    assert control_allowed(("https://SHOP.example.com:443/",), PAGE)
    assert not control_allowed(("https://other.example.com",), PAGE)
    assert not control_allowed(("http://shop.example.com",), PAGE)
    assert not control_allowed(("https://shop.example.com",), None)


def _share(agent_id: str = "a1", request_id: str = "r1") -> Share:
    share = Share()
    share.request(request_id=request_id, agent_id=agent_id, agent_name="Alice")
    share.answer(request_id, accept=True, now=1.0)
    return share


def test_control_is_granted_each_time_to_that_agent_within_that_share():
    share = _share()
    control = Control()
    assert not control.granted_to("a1", share)
    control.request(request_id="c1", agent_id="a1", share_request=share.request_id)
    assert control.state == ControlState.REQUESTED and not control.granted_to("a1", share)
    with pytest.raises(InvalidControlState):
        control.answer("forged", accept=True, now=2.0)
    control.answer("c1", accept=True, now=2.0)
    assert control.granted_to("a1", share)
    assert not control.granted_to("a2", share)          # another agent
    assert not control.granted_to(None, share)
    with pytest.raises(InvalidControlState, match="already has control"):
        control.request(request_id="c2", agent_id="a1", share_request=share.request_id)
    assert control.revoke() == 2.0
    assert control.state == ControlState.OFF and not control.granted_to("a1", share)
    with pytest.raises(InvalidControlState, match='Cannot revoke remote control in state "off"'):
        control.revoke()


def test_control_does_not_survive_the_share():
    share = _share()
    control = Control()
    control.request(request_id="c1", agent_id="a1", share_request=share.request_id)
    control.answer("c1", accept=True, now=2.0)
    share.stop()
    assert not control.granted_to("a1", share)
    again = Share()
    again.request(request_id="r2", agent_id="a1", agent_name="Alice")
    again.answer("r2", accept=True, now=3.0)
    assert not control.granted_to("a1", again)  # a new share never inherits control


def test_refusing_leaves_control_off():
    control = Control()
    control.request(request_id="c1", agent_id="a1", share_request="r1")
    control.answer("c1", accept=False, now=2.0)
    assert control.state == ControlState.OFF and control.since is None


def test_input_budget_refuses_a_flood_and_refills():
    budget = InputBudget(rate=10, burst=5, tokens=5, at=0.0)
    for _ in range(5):
        budget.take(0.0)
    with pytest.raises(ControlError) as flood:
        budget.take(0.0)
    assert flood.value.code == "rate_limited"
    budget.take(0.2)  # two tokens back after 0.2 s
    budget.take(0.2)
    with pytest.raises(ControlError):
        budget.take(0.2)
