"""Suggestions on the desk in Chromium (issue 11): the planner writes an action in /planner and
publishes it; a customer with a laptop in the cart calls;
the offer card shows "Suggested now" with the script filled in; the customer adds an e-bike
during the call and the suggestions change; the agent accepts one and pushes its document,
which opens on the customer's page; the planner's Results show the impression and the
acceptance. Also at 390 px wide. One server and one browser for the module."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.e2e.test_cobrowse_documents_browser import png
from tests.helpers.server import running_server

W = "otodesk-widget"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "30", "OTODESK_WRAPUP_TIMEOUT": "60"}
    with running_server(tmp_path_factory.mktemp("suggestions"), env=env) as server:
        yield server


def csrf(page) -> str:
    return page.evaluate("""() => document.querySelector('meta[name=csrf-token]')?.content
        || document.querySelector('input[name=csrf_token]')?.value""")


def api(page, server, method: str, path: str, body=None, *, headers=None):
    """A request with the page's cookies and CSRF token; returns the JSON body."""
    response = page.request.fetch(f"{server.base_url}{path}", method=method, data=body,
                                  headers={"X-CSRF-Token": csrf(page), **(headers or {})})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def add_to_cart(shopper, server, slug: str) -> None:
    shopper.goto(f"{server.base_url}/product/{slug}")
    shopper.get_by_test_id("add-to-cart").first.click()


def test_suggested_now_follows_the_cart_accept_push_and_the_planners_results(browser, server, tmp_path):
    bob = login(browser, server, "bob")
    # A leaflet in the library, for the sleeve's one-click push.
    leaflet = api(bob, server, "POST", "/api/documents?name=sleeve-leaflet.png", png(),
                  headers={"Content-Type": "application/octet-stream"})
    pat = login(browser, server, "pat", path="/planner")
    # The catalogue replaced by the sleeve (the demo's go; imported, as a JSON file would be) ...
    api(pat, server, "POST", "/api/v1/rules/import", {"actions": [
        {"id": "laptop-sleeve", "kind": "cross-sell", "title": "A sleeve for the new laptop",
         "script": "{first_name}, a padded {product} keeps your laptop safe on the move.",
         "product_sku": "aurora-sleeve", "product_name": "Aurora sleeve", "value": 39.0, "priority": 5.0,
         "applicability": '"aurora-laptop-14" in cart_skus',
         "push": {"kind": "document", "target": leaflet["id"], "label": "the sleeve leaflet"}},
    ]})
    # ... and the helmet written by the planner in /planner, then published there: what the desk
    # shows below is what she made.
    pat.reload()
    expect(pat.get_by_test_id("action-laptop-sleeve")).to_be_visible()
    pat.get_by_test_id("btn-new-action").click()
    pat.get_by_test_id("field-id").fill("bike-helmet")
    pat.get_by_test_id("field-kind").select_option("cross-sell")
    pat.get_by_test_id("field-title").fill("A helmet with the e-bike")
    pat.get_by_test_id("field-script").fill("{first_name}, most riders of the {product} take our light helmet.")
    pat.get_by_test_id("field-product_sku").fill("swift-helmet")
    pat.get_by_test_id("field-product_name").fill("Swift E-Bike")
    pat.get_by_test_id("field-value").fill("59")
    pat.get_by_test_id("field-priority").fill("9")
    pat.get_by_test_id("field-applicability").fill('"swift-e-bike" in cart_skus')
    # A page to push, with no label: the desk's button names the whole path (it must still fit at 390 px).
    pat.get_by_test_id("field-push_kind").select_option("page")
    pat.get_by_test_id("field-push_target").fill("/product/swift-e-bike?accessories=helmets-and-lights")
    pat.get_by_test_id("btn-save-action").click()
    expect(pat.get_by_test_id("action-bike-helmet")).to_be_visible()
    live = pat.get_by_test_id("live-version").inner_text()
    pat.get_by_test_id("publish-note").fill("laptop and bike")
    pat.get_by_test_id("btn-publish").click()
    expect(pat.get_by_test_id("live-version")).not_to_have_text(live)
    assert sorted(a["id"] for a in api(pat, server, "GET", "/api/v1/rules/versions/" + pat.get_by_test_id(
        "live-version").inner_text().rsplit(" ", 1)[1])["actions"]) == ["bike-helmet", "laptop-sleeve"]

    bob.get_by_test_id("btn-available").click()
    expect(bob.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    shopper = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    add_to_cart(shopper, server, "aurora-laptop-14")
    shopper.goto(f"{server.base_url}/cart")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill("Nina Park")
    form.locator("[name=queue]").select_option("sales")
    form.locator("[name=topic]").fill("Which bag fits?")
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()

    # The offer card: one suggestion, the script filled in with her first name and the product.
    offer = bob.get_by_test_id("offer-card")
    expect(offer).to_be_visible(timeout=5000)
    suggestions = offer.get_by_test_id("offer-suggestions").get_by_test_id("suggestion")
    expect(suggestions).to_have_count(1, timeout=5000)
    expect(suggestions.first.get_by_test_id("suggestion-title")).to_have_text("A sleeve for the new laptop")
    offer.get_by_text("Script").first.click()
    expect(suggestions.first.get_by_test_id("suggestion-script")).to_have_text(
        "Nina, a padded Aurora sleeve keeps your laptop safe on the move.")
    bob.screenshot(path=str(tmp_path / "offer-suggested.png"), full_page=True)
    bob.get_by_test_id("btn-accept").click()
    contact = bob.get_by_test_id("contact-view")
    expect(contact).to_have_attribute("data-state", "connected")

    # She adds the e-bike during the call: the helmet comes first, the sleeve stays.
    shopper.locator(f"{W} [data-testid=otodesk-minimize]").click()
    add_to_cart(shopper, server, "swift-e-bike")
    listed = contact.get_by_test_id("contact-suggestions").get_by_test_id("suggestion")
    expect(listed.get_by_test_id("suggestion-title")).to_have_text(
        ["A helmet with the e-bike", "A sleeve for the new laptop"], timeout=5000)

    # Bob accepts the sleeve and pushes its leaflet: it opens on her page.
    sleeve = listed.filter(has_text="A sleeve for the new laptop")
    sleeve.get_by_test_id("btn-suggestion-accept").click()
    expect(sleeve.get_by_test_id("suggestion-status")).to_have_text("Accepted")
    sleeve.get_by_test_id("btn-suggestion-push").click()
    overlay = shopper.locator("otodesk-documents [data-testid=otodesk-doc]")
    expect(overlay.get_by_test_id("otodesk-doc-title")).to_have_text("sleeve-leaflet.png", timeout=8000)
    # The helmet: declined, with a reason.
    helmet = listed.filter(has_text="A helmet with the e-bike")
    helmet.get_by_test_id("btn-suggestion-decline").click()
    helmet.get_by_test_id("suggestion-reason").select_option("Not now")
    helmet.get_by_test_id("btn-suggestion-decline-confirm").click()
    expect(helmet.get_by_test_id("suggestion-status")).to_have_text("Declined: Not now")
    bob.screenshot(path=str(tmp_path / "contact-suggested.png"), full_page=True)

    # 390 px wide (a phone): the panel fits the screen, nothing in it runs off to the side (the
    # helmet's "Send to page: /product/…" button did, before the card's column could shrink).
    # (The desk's top bar itself is wider than 390 px on main: not this panel's doing.)
    bob.set_viewport_size({"width": 390, "height": 844})
    expect(listed.first).to_be_visible()
    panel = contact.locator(".suggested-now")
    assert panel.evaluate("(e) => e.getBoundingClientRect().right") <= 390
    assert panel.evaluate("""(panel) => [...panel.querySelectorAll('*')].every(
        (e) => e.getBoundingClientRect().right <= panel.getBoundingClientRect().right + 0.5)""")
    bob.screenshot(path=str(tmp_path / "contact-suggested-390.png"), full_page=True)

    # The planner's Results: the sleeve shown once, accepted once; the helmet declined.
    pat.reload()
    pat.get_by_role("tab", name=re.compile("Results")).click()
    sleeve_stats = pat.locator("[data-testid=stats-action][data-action-id=laptop-sleeve]")
    expect(sleeve_stats.get_by_test_id("stats-total").get_by_test_id("stat-impressions")).to_have_text("1", timeout=5000)
    expect(sleeve_stats.get_by_test_id("stats-title")).to_contain_text("A sleeve for the new laptop")
    expect(sleeve_stats.get_by_test_id("stats-total").get_by_test_id("stat-accepted")).to_have_text("1 of 1")
    expect(sleeve_stats.get_by_test_id("stats-total").get_by_test_id("stat-acceptance")).to_contain_text("100%")
    helmet_stats = pat.locator("[data-testid=stats-action][data-action-id=bike-helmet]")
    expect(helmet_stats.get_by_test_id("stats-total").get_by_test_id("stat-accepted")).to_have_text("0 of 1")
    pat.screenshot(path=str(tmp_path / "planner-results.png"), full_page=True)
