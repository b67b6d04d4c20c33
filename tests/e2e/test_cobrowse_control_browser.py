"""The agent's hand on the page in Chromium: "go to this page" (the customer confirms, the
mirror follows), and remote control on a server that allows it: the agent's click adds to
the customer's cart, the wheel scrolls their page, typing fills an unmasked field, a masked
field is refused (in the desk, and on the customer's device for a forged input), Esc takes
control back and a further click does nothing."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from desktop.demo.seed import DEMO_PASSWORD
from tests.e2e.test_cobrowse_browser import CB, W
from tests.helpers.server import running_server

PRODUCT = "nimbus-headphones"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "4", "OTODESK_WRAPUP_TIMEOUT": "60", "OTODESK_COBROWSE_REMOTE_CONTROL": "*"}
    with running_server(tmp_path_factory.mktemp("e2e-control"), env=env) as server:
        yield server


def _login(browser, server, username: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{server.base_url}/desk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/desk")
    return page


def _click_mirror(agent, locator, fx: float = 0.5) -> None:
    box = locator.bounding_box()
    agent.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)


def _mirror_follows(agent, shopper) -> None:
    """Wait until the agent's mirror is scrolled where the customer's page is (rrweb samples scrolls)."""
    shopper.wait_for_timeout(300)  # the page's scroll has settled
    y = shopper.evaluate("Math.round(window.scrollY)")
    agent.wait_for_function(
        "(y) => Math.abs((window.otodeskCobrowse?.view?.document?.scrollingElement?.scrollTop ?? -999) - y) < 2",
        arg=y, timeout=5000)


def test_go_to_page_then_remote_control_click_scroll_type_and_revoke(browser, server):
    alice = _login(browser, server, "alice")
    alice.get_by_test_id("btn-available").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    shopper = browser.new_context(viewport={"width": 1100, "height": 700}).new_page()
    received: list[str] = []
    shopper.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(
        payload if isinstance(payload, str) else "")))
    shopper.goto(f"{server.base_url}/")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill("Gus Guided")
    form.locator("[name=queue]").select_option("sales")
    form.locator("[name=topic]").fill("Which headphones?")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(alice.get_by_test_id("offer-card")).to_be_visible(timeout=5000)
    alice.get_by_test_id("btn-accept").click()
    expect(alice.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()

    alice.get_by_test_id("btn-cobrowse").click()
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click(timeout=5000)
    expect(alice.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "sharing", timeout=5000)
    mirror = alice.frame_locator("[data-testid=cobrowse-replay] iframe")
    expect(mirror.locator("[data-testid=product-grid]")).to_be_attached(timeout=8000)
    status = alice.get_by_test_id("cobrowse-control-status")

    # "Go to this page": another site is refused in the desk; the shop's page is proposed.
    url_input = alice.get_by_test_id("cobrowse-nav-url")
    url_input.fill("https://evil.example/phish")
    alice.get_by_test_id("btn-cobrowse-nav").click()
    expect(status).to_contain_text("own site")
    url_input.fill(f"/product/{PRODUCT}")
    alice.get_by_test_id("btn-cobrowse-nav").click()
    prompt = shopper.locator(f"{CB} [data-testid=otodesk-nav-prompt]")
    expect(prompt).to_be_visible(timeout=5000)
    expect(prompt).to_contain_text(f"wants to take you to /product/{PRODUCT}")
    shopper.locator(f"{CB} [data-testid=otodesk-nav-go]").click()
    shopper.wait_for_url(f"**/product/{PRODUCT}")
    expect(status).to_contain_text("The customer is going to", timeout=5000)
    # The share continues on the new page; the agent's mirror shows it.
    expect(shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-banner]")).to_be_visible(timeout=5000)
    expect(mirror.locator(f"[data-testid=product-detail][data-slug={PRODUCT}]")).to_be_attached(timeout=8000)

    # Remote control: asked, allowed by the customer, a banner says so.
    control = alice.get_by_test_id("btn-cobrowse-control")
    control.click()
    ask = shopper.locator(f"{CB} [data-testid=otodesk-control-prompt]")
    expect(ask).to_be_visible(timeout=5000)
    expect(ask).to_contain_text("asks to control this page")
    shopper.locator(f"{CB} [data-testid=otodesk-control-allow]").click()
    banner = shopper.locator(f"{CB} [data-testid=otodesk-control-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Alice Martin has control — Esc or click to revoke")
    expect(control).to_have_attribute("data-state", "granted", timeout=5000)

    # The agent clicks "Add to cart" on the mirror: the customer's cart gets it.
    alice.get_by_test_id("cobrowse-replay").scroll_into_view_if_needed()
    _click_mirror(alice, mirror.locator(".product-detail [data-testid=add-to-cart]"))
    expect(shopper.locator("[data-testid=cart-count]")).to_have_text("1", timeout=5000)
    expect(shopper.locator("[data-added]")).to_have_text("Added 1 × Nimbus Headphones to your cart.")
    expect(banner).to_be_visible()  # the agent's click did not revoke anything

    # To the checkout (the customer's click on Go takes control back; the agent asks again).
    url_input.fill("/checkout")
    alice.get_by_test_id("btn-cobrowse-nav").click()
    shopper.locator(f"{CB} [data-testid=otodesk-nav-go]").click(timeout=5000)
    shopper.wait_for_url("**/checkout")
    expect(mirror.locator("[data-testid=checkout-form]")).to_be_attached(timeout=8000)
    expect(control).to_have_attribute("data-state", "off", timeout=5000)
    control.click()
    shopper.locator(f"{CB} [data-testid=otodesk-control-allow]").click(timeout=5000)
    expect(control).to_have_attribute("data-state", "granted", timeout=5000)

    # The wheel on the mirror scrolls the customer's page.
    alice.get_by_test_id("cobrowse-replay").scroll_into_view_if_needed()
    replay_box = alice.get_by_test_id("cobrowse-replay").bounding_box()
    alice.mouse.move(replay_box["x"] + 200, replay_box["y"] + 150)
    alice.mouse.wheel(0, 300)
    shopper.wait_for_function("window.scrollY > 100", timeout=5000)
    _mirror_follows(alice, shopper)

    # Typing into the unmasked promo field appears on the customer's page.
    promo = mirror.locator("#co-promo")
    expect(promo).to_be_in_viewport(timeout=5000)
    _click_mirror(alice, promo)
    alice.keyboard.type("SPRING24", delay=20)
    expect(shopper.locator("#co-promo")).to_have_value("SPRING24", timeout=5000)
    expect(promo).to_have_value("SPRING24", timeout=5000)  # and the mirror shows it
    alice.keyboard.press("Backspace")
    expect(shopper.locator("#co-promo")).to_have_value("SPRING2", timeout=5000)

    # A masked field: the desk refuses, nothing is typed on the customer's page.
    alice.mouse.move(replay_box["x"] + 200, replay_box["y"] + 150)
    alice.mouse.wheel(0, -2000)
    shopper.wait_for_function("window.scrollY === 0", timeout=5000)
    _mirror_follows(alice, shopper)
    name = mirror.locator("#co-name")
    expect(name).to_be_in_viewport(timeout=5000)
    _click_mirror(alice, name)
    expect(status).to_contain_text("hidden from you")
    alice.keyboard.type("Mallory")
    # A forged input straight into it (as a hostile desk would send): the customer's device refuses.
    alice.evaluate("""() => {
        const panel = window.otodeskCobrowse;
        const doc = panel.view.document;
        const node = panel.view.replayer.getMirror().getId(doc.querySelector('#co-name'));
        panel.socket.notify('cobrowse_input', {visitor_id: panel.visitorId, action: 'text', node, text: 'Mallory'});
        const card = panel.view.replayer.getMirror().getId(doc.querySelector('#co-card'));
        panel.socket.notify('cobrowse_input', {visitor_id: panel.visitorId, action: 'click', node: card});
    }""")
    expect(status).to_contain_text("The customer's page refused", timeout=5000)
    assert shopper.locator("#co-name").input_value() == ""
    assert shopper.evaluate("document.activeElement?.id") != "co-card"

    # Esc on the customer's page takes control back at once; a further click does nothing.
    shopper.keyboard.press("Escape")
    expect(banner).to_be_hidden()
    expect(status).to_contain_text("The customer took back control", timeout=5000)
    expect(control).to_have_attribute("data-state", "off")
    inputs_before = sum('"cobrowse_input"' in frame for frame in received)
    _click_mirror(alice, promo)
    alice.keyboard.type("XYZ")
    shopper.wait_for_timeout(500)
    expect(shopper.locator("#co-promo")).to_have_value("SPRING2")
    assert sum('"cobrowse_input"' in frame for frame in received) == inputs_before
    # One click of the customer, anywhere, takes it back too.
    control.click()
    shopper.locator(f"{CB} [data-testid=otodesk-control-allow]").click(timeout=5000)
    expect(banner).to_be_visible()
    expect(control).to_have_attribute("data-state", "granted", timeout=5000)
    shopper.locator("h1").first.click()
    expect(banner).to_be_hidden()
    expect(control).to_have_attribute("data-state", "off", timeout=5000)
    # The customer's socket was never refused anything.
    errors = [json.loads(frame) for frame in received if re.search(r'"type":\s*"error"', frame)]
    assert errors == []
    for page in (alice, shopper):
        page.context.close()
