"""The widget behind a busy NAT (issue 9, item 13): a 429 on its visitor token is waited
out as Retry-After says, then it asks again and the customer gets the launcher."""

from __future__ import annotations

import json

from playwright.sync_api import expect

W = "otodesk-widget"


def test_the_widget_waits_as_told_on_429_and_starts(browser, server):
    context = browser.new_context()
    page = context.new_page()
    asked: list[str] = []

    def busy_once(route):
        asked.append(route.request.method)
        if len(asked) == 1:  # what an office sharing one address gets at its busiest minute
            route.fulfill(status=429, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body=json.dumps({"code": "rate_limited", "retry_after": 1,
                                           "message": "too many new visitors from this address"}))
        else:
            route.continue_()

    page.route("**/api/visitor", busy_once)
    page.goto(f"{server.base_url}/")
    expect(page.locator(f"{W} [data-testid=otodesk-launcher]")).to_be_visible(timeout=10000)
    assert asked == ["POST", "POST"]
    context.close()


def test_the_widget_asks_again_while_a_server_restarts_behind_its_proxy(browser, server):
    """A rolling restart: the proxy answers 502 for a moment, or the connection drops. The
    widget asked once and vanished from that page ("unavailable"); it asks again now."""
    context = browser.new_context()
    page = context.new_page()
    asked: list[str] = []

    def restarting(route):
        asked.append(route.request.method)
        if len(asked) == 1:
            route.fulfill(status=502, body="Bad Gateway")
        elif len(asked) == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/visitor", restarting)
    page.goto(f"{server.base_url}/")
    expect(page.locator(f"{W} [data-testid=otodesk-launcher]")).to_be_visible(timeout=15000)
    assert asked == ["POST", "POST", "POST"]
    context.close()
