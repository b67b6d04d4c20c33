"""The callback loop as people see it: a shopper, two agents and a supervisor in Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login

W = "otodesk-widget"  # the widget's host element; Playwright's CSS pierces its open shadow root


def open_widget_form(page, *, name: str, queue: str, topic: str) -> None:
    page.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = page.locator(f"{W} [data-testid=otodesk-form]")
    expect(form).to_be_visible()
    form.locator("[name=name]").fill(name)
    form.locator("[name=queue]").select_option(queue)
    form.locator("[name=topic]").fill(topic)


def go_available(desk) -> None:
    desk.get_by_test_id("btn-available").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")


def go_away(desk) -> None:
    desk.get_by_test_id("btn-away").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "away")


def test_shopper_calls_agent_sees_trail_and_accepts(browser, server):
    alice = login(browser, server, "alice")
    wall = login(browser, server, "sam", "/supervisor")
    go_available(alice)
    support = wall.get_by_test_id("wall-queue-sales")
    expect(support).to_be_visible()
    answered_before = int(support.get_by_test_id("answered").inner_text())

    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    shopper.locator("[data-testid^=product-]").first.locator("a").first.click()
    shopper.wait_for_url(re.compile(r"/product/"))
    product_title = shopper.title()
    open_widget_form(shopper, name="Dana Shopper", queue="sales", topic="Which size fits?")
    shopper.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
    shopper.locator(f"{W} [name=phone]").fill("+1 415 555 2671")
    # What asking for a call agrees to, next to the number (sent as shown, kept with the request).
    expect(shopper.locator(f"{W} [data-testid=otodesk-consent]")).to_contain_text("you agree that we call it")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()

    # The agent's desk rings with who it is and where they are.
    offer = alice.get_by_test_id("offer-card")
    expect(offer).to_be_visible(timeout=5000)
    expect(alice.get_by_test_id("offer-name")).to_contain_text("Dana Shopper")
    expect(alice.get_by_test_id("offer-phone")).to_contain_text("415")
    expect(alice.get_by_test_id("offer-topic")).to_contain_text("Which size fits?")
    expect(alice.get_by_test_id("offer-page")).to_contain_text(product_title)
    expect(alice.get_by_test_id("offer-trail").locator("li")).to_have_count(2, timeout=5000)  # home, product
    expect(alice.get_by_test_id("offer-countdown")).to_contain_text(re.compile(r"\d"))

    # The shopper moves to the cart; the agent sees it live.
    shopper.goto(f"{server.base_url}/cart")
    expect(alice.get_by_test_id("offer-page")).to_contain_text("/cart", timeout=5000)
    # The request survived the page load.
    expect(shopper.locator(f"{W} [data-testid=otodesk-status]")).to_be_visible(timeout=5000)

    alice.get_by_test_id("btn-accept").click()
    expect(alice.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    # A phone callback: the agent dials it, so the shopper is told their phone will ring.
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_contain_text("is calling you", timeout=5000)
    expect(wall.get_by_test_id("wall-queue-sales").get_by_test_id("answered")).to_have_text(
        str(answered_before + 1), timeout=8000)
    expect(wall.get_by_test_id("agent-alice").get_by_test_id("agent-state")).to_have_attribute(
        "data-state", "busy", timeout=8000)

    # A reload of either tab restores everything.
    alice.reload()
    expect(alice.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    expect(alice.get_by_test_id("contact-page")).to_contain_text("/cart")
    shopper.reload()
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_contain_text("is calling you", timeout=5000)

    alice.get_by_test_id("btn-end").click()
    expect(alice.get_by_test_id("wrapup-form")).to_be_visible()
    alice.get_by_test_id("wrapup-disposition").select_option("Resolved")
    alice.get_by_test_id("wrapup-note").fill("Helped with sizing")
    alice.get_by_test_id("btn-wrapup").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    go_away(alice)
    for page in (alice, wall, shopper):
        page.context.close()


def test_decline_and_timeout_reoffer_to_another_agent(browser, server):
    bob = login(browser, server, "bob")
    go_available(bob)
    alice = login(browser, server, "alice")
    go_available(alice)

    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    open_widget_form(shopper, name="Eve Decline", queue="sales", topic="Bulk order")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()

    # Bob has been idle longest: he rings first and declines.
    expect(bob.get_by_test_id("offer-name")).to_contain_text("Eve Decline", timeout=5000)
    bob.get_by_test_id("btn-decline").click()
    expect(alice.get_by_test_id("offer-name")).to_contain_text("Eve Decline", timeout=5000)
    # Alice lets it ring out (4 s here): she is set away and it comes back to Bob.
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "away", timeout=8000)
    expect(bob.get_by_test_id("offer-name")).to_contain_text("Eve Decline", timeout=8000)
    bob.get_by_test_id("btn-accept").click()
    expect(bob.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_contain_text(re.compile("connected", re.I),
                                                                                timeout=5000)
    bob.get_by_test_id("btn-end").click()
    bob.get_by_test_id("wrapup-disposition").select_option("Sale made")
    bob.get_by_test_id("btn-wrapup").click()
    expect(bob.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    go_away(bob)
    for page in (alice, bob, shopper):
        page.context.close()


def test_customer_cancels_and_sees_position(browser, server):
    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    open_widget_form(shopper, name="Pat Waiting", queue="support", topic="Return")
    # Nobody is available: the widget offers "Later"; Pat asks now all the same.
    shopper.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(shopper.locator(f"{W} [data-testid=otodesk-position]")).to_contain_text(re.compile(r"1|first|next", re.I),
                                                                                   timeout=5000)
    shopper.locator(f"{W} [data-testid=otodesk-cancel]").click()
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_contain_text(re.compile("cancel", re.I),
                                                                                timeout=5000)
    shopper.context.close()


def test_invalid_phone_is_explained_next_to_the_field(browser, server):
    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    open_widget_form(shopper, name="Quinn", queue="support", topic="Phone")
    shopper.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
    shopper.locator(f"{W} [name=phone]").fill("+1 900 555 0123")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(shopper.locator(f"{W} [data-testid=otodesk-error-phone]")).to_contain_text("premium", timeout=5000)
    shopper.context.close()


def test_after_wrap_up_the_customer_rates_presses_not_solved_and_it_rings_as_a_follow_up(browser, server, tmp_path):
    alice = login(browser, server, "alice")
    go_available(alice)
    # A phone in Chinese, 390 px wide: the card must fit and speak the customer's language.
    shopper = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    shopper.goto(f"{server.base_url}/")
    open_widget_form(shopper, name="Lin Follow", queue="sales", topic="Invoice missing")
    shopper.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
    shopper.locator(f"{W} [name=phone]").fill("+1 415 555 2672")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()

    expect(alice.get_by_test_id("offer-name")).to_contain_text("Lin Follow", timeout=5000)
    expect(alice.get_by_test_id("offer-follow-up")).to_have_count(0)
    alice.get_by_test_id("btn-accept").click()
    alice.get_by_test_id("btn-end").click()
    alice.get_by_test_id("wrapup-disposition").select_option("Resolved")
    summary = "发票已重新发送到您的邮箱，一小时内送达。"
    alice.get_by_test_id("wrapup-summary").fill(summary)
    alice.get_by_test_id("btn-wrapup").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")

    # The widget, still open, tells what was done and asks.
    card = shopper.locator(f"{W} [data-testid=otodesk-aftercall]")
    expect(card.get_by_test_id("otodesk-aftercall-summary")).to_have_text(summary, timeout=5000)
    expect(card).to_contain_text("Alice Martin")
    expect(card).to_contain_text("您对我们的帮助满意吗")
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    shopper.screenshot(path=str(tmp_path / "aftercall-zh-CN-390.png"))
    card.get_by_test_id("otodesk-rate-4").click()
    expect(card.get_by_test_id("otodesk-rate-4")).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_test_id("otodesk-aftercall-thanks")).to_have_text("感谢您的评价。")
    # The next page load shows it again, with the answer given.
    shopper.goto(f"{server.base_url}/cart")
    expect(card.get_by_test_id("otodesk-rate-4")).to_have_attribute("aria-pressed", "true", timeout=5000)

    # "Not solved": the request is back, and the agent sees it as a follow-up of that contact.
    card.get_by_test_id("otodesk-not-solved").click()
    expect(card).to_have_count(0)
    expect(shopper.locator(f"{W} [data-testid=otodesk-status]")).to_be_visible(timeout=5000)
    follow_up = alice.get_by_test_id("offer-follow-up")
    expect(follow_up).to_contain_text("Follow-up of", timeout=5000)
    expect(follow_up).to_contain_text("Alice Martin")
    expect(follow_up).to_contain_text(summary)
    expect(alice.get_by_test_id("offer-name")).to_contain_text("Lin Follow")
    alice.get_by_test_id("btn-accept").click()
    expect(alice.get_by_test_id("contact-follow-up")).to_contain_text(summary)  # and during the call
    alice.get_by_test_id("btn-end").click()
    alice.get_by_test_id("wrapup-disposition").select_option("Resolved")
    alice.get_by_test_id("btn-wrapup").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    go_away(alice)
    for page in (alice, shopper):
        page.context.close()
