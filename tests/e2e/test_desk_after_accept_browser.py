"""The desk after the first step (issue 9): a missed offer, a phone callback nobody has dialled
yet, a wrap-up that runs out of time, the next contact, the timeline, a supervisor on /desk.
Chromium for the agent, the shopper and the supervisor; one server for the module."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.helpers.server import running_server

W = "otodesk-widget"
WRAPUP_TIMEOUT = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "3", "OTODESK_WRAPUP_TIMEOUT": str(WRAPUP_TIMEOUT)}
    with running_server(tmp_path_factory.mktemp("desk-after"), env=env) as server:
        yield server


def ask_for_a_call(shopper, server, *, name: str, phone: str | None = None) -> None:
    shopper.goto(f"{server.base_url}/")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill(name)
    form.locator("[name=queue]").select_option("support")
    form.locator("[name=topic]").fill("Manual missing")
    if phone:
        shopper.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
        shopper.locator(f"{W} [name=phone]").fill(phone)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()


def test_missed_offer_phone_callback_wrap_up_timeout_and_the_next_contact(browser, server):
    carol = login(browser, server, "carol")
    carol.get_by_test_id("btn-available").click()
    expect(carol.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")

    shopper = browser.new_context().new_page()
    ask_for_a_call(shopper, server, name="Nina Phone", phone="+1 415 555 2671")

    # Carol lets the offer ring out: she is away, and told why...
    expect(carol.get_by_test_id("offer-card")).to_be_visible(timeout=5000)
    expect(carol.get_by_test_id("desk-state")).to_have_attribute("data-state", "away", timeout=8000)
    missed = carol.get_by_test_id("toast").filter(has_text="You missed an offer")
    expect(missed).to_be_visible()
    # ...until she is back: the message goes with the state it explained.
    carol.get_by_test_id("btn-available").click()
    expect(missed).to_have_count(0)

    # A phone callback: nobody is connected before Carol dials. Both sides say so.
    expect(carol.get_by_test_id("offer-card")).to_be_visible(timeout=5000)
    carol.get_by_test_id("btn-accept").click()
    expect(carol.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    expect(carol.get_by_test_id("contact-state")).to_have_text("Calling their phone")
    expect(carol.get_by_test_id("contact-dial")).to_contain_text("Call the customer now on +14155552671")
    expect(carol.get_by_test_id("contact-dial-number")).to_have_attribute("href", "tel:+14155552671")
    state = shopper.locator(f"{W} [data-testid=otodesk-state]")
    expect(state).to_have_text("Carol Nguyen is calling you", timeout=5000)
    expect(shopper.locator(f"{W} [data-testid=otodesk-detail]")).to_contain_text("answer it to talk")
    expect(shopper.locator(f"{W} [data-testid=otodesk-status]")).not_to_contain_text("with you now")

    # She asks to see the page (the shopper doesn't answer), then ends the call.
    carol.get_by_test_id("btn-cobrowse").click()
    expect(carol.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "requested")
    carol.get_by_test_id("btn-end").click()

    # Wrap-up shows its limit, and can't be left by Available.
    expect(carol.get_by_test_id("wrapup-form")).to_be_visible()
    expect(carol.get_by_test_id("wrapup-timer")).to_contain_text(re.compile(r"^0:0\d left$"))
    expect(carol.get_by_test_id("btn-available")).to_be_disabled()
    carol.get_by_test_id("wrapup-note").fill("Sent the manual by email")

    # Time runs out with no outcome chosen: the note is saved, and she is told.
    saved = carol.get_by_test_id("toast").filter(has_text="Wrap-up time ran out")
    expect(saved).to_contain_text("note was saved without an outcome", timeout=(WRAPUP_TIMEOUT + 5) * 1000)
    expect(carol.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    expect(carol.get_by_test_id("contact-view")).to_have_count(0)

    # The next customer's co-browse panel starts afresh, not "You stopped viewing…".
    second = browser.new_context().new_page()
    ask_for_a_call(second, server, name="Otto Next")
    expect(carol.get_by_test_id("offer-name")).to_contain_text("Otto Next", timeout=5000)
    panel_state = carol.get_by_test_id("cobrowse-state")
    expect(panel_state).to_have_attribute("data-state", "idle")
    expect(panel_state).not_to_contain_text("stopped")
    second.locator(f"{W} [data-testid=otodesk-cancel]").click()
    expect(carol.get_by_test_id("offer-card")).to_have_count(0, timeout=5000)

    # The timeline names the agent and keeps the timed-out wrap-up's note.
    carol.goto(f"{server.base_url}/desk/customers")
    carol.get_by_test_id("customer-search").fill("Nina Phone")
    carol.get_by_test_id("btn-search").click()
    carol.get_by_test_id("customer-result").first.click()
    wrap_up = carol.locator("[data-testid=timeline-event][data-kind=wrap_up]")
    expect(wrap_up).to_contain_text("wrap-up time ran out: Sent the manual by email")
    expect(wrap_up.get_by_test_id("timeline-agent")).to_have_text(" · by Carol Nguyen")
    for page in (carol, shopper, second):
        page.context.close()


def test_a_supervisor_opening_the_desk_is_not_made_an_agent(browser, server):
    wall = login(browser, server, "sam", "/supervisor")
    expect(wall.get_by_test_id("wall-queue-sales")).to_be_visible()
    desk = wall.context.new_page()
    desk.goto(f"{server.base_url}/desk")
    expect(desk).to_have_url(re.compile(r"/supervisor$"))
    desk.wait_for_timeout(1500)  # more than a wall period: had sam been logged in, he'd show
    expect(wall.get_by_test_id("agent-sam")).to_have_count(0)
    wall.context.close()
