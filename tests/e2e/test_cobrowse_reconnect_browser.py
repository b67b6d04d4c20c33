"""Co-browse in Chromium across a brief network drop: the customer's socket closes under a
live share, the widget reconnects by itself, and the agent's mirror carries on."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.e2e.test_cobrowse_browser import CB, PROMO, _connected_shopper

# Keeps every socket the page opens, so the test can drop one as a network would.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


def test_a_dropped_customer_socket_reconnects_and_the_mirror_carries_on(browser, server):
    alice = login(browser, server, "alice")
    alice.get_by_test_id("btn-available").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")

    shopper = _connected_shopper(browser, server, alice, [], init_script=TRACK_SOCKETS)

    alice.get_by_test_id("btn-cobrowse").click()
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click()
    banner = shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-banner]")
    expect(banner).to_be_visible(timeout=5000)
    mirror = alice.frame_locator("[data-testid=cobrowse-replay] iframe")
    expect(mirror.locator("[data-testid=checkout-form]")).to_be_attached(timeout=5000)

    # The network drops the customer's socket mid-share.
    opened = shopper.evaluate("window.__sockets.filter((s) => s.readyState === 1).length")
    assert opened >= 1
    shopper.evaluate("window.__sockets.forEach((s) => s.close())")
    shopper.wait_for_function(
        "window.__sockets.filter((s) => s.readyState === 1).length >= 1", timeout=10_000)

    # Still shared on both sides, and what the customer types now reaches the agent.
    expect(banner).to_be_visible()
    shopper.locator("#co-promo").type(PROMO, delay=5)
    expect(mirror.locator("#co-promo")).to_have_value(PROMO, timeout=8000)
    expect(alice.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "sharing")
    # The call itself survived the drop too.
    expect(alice.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    for page in (alice, shopper):
        page.context.close()
