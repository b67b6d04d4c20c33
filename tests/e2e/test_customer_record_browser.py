"""The customer's record as agents see it: a returning shopper's previous call, last visit's pages
and a colleague's note on the offer; an in-store visit logged on the customer page; the next
agent sees it."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from desktop.customers.identity import user_hash
from tests.e2e.conftest import login
from tests.helpers.server import running_server
from tests.e2e.test_callback_browser import W, go_available, go_away

NAME = "Rita Returning"
SITE_SECRET = "e2e-identity-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "10", "OTODESK_WRAPUP_TIMEOUT": "60",
           "OTODESK_IDENTITY_SECRET": SITE_SECRET}
    with running_server(tmp_path_factory.mktemp("ccr-e2e"), env=env) as server:
        yield server


def call_me(shopper, topic: str) -> None:
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    # The widget's own API opens a fresh form whatever the last request's card shows.
    shopper.wait_for_function("window.otodesk && window.otodesk.loaded")
    shopper.evaluate("otodesk.open({queue: 'sales'})")
    expect(form).to_be_visible()
    form.locator("[name=name]").fill(NAME)
    form.locator("[name=queue]").select_option("sales")
    form.locator("[name=topic]").fill(topic)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(shopper.locator(f"{W} [data-testid=otodesk-status]")).to_be_visible(timeout=5000)


def answer_and_wrap_up(desk, shopper, note: str) -> None:
    desk.get_by_test_id("btn-accept").click()
    expect(desk.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    desk.get_by_test_id("btn-end").click()
    desk.get_by_test_id("wrapup-disposition").select_option("Resolved")
    desk.get_by_test_id("wrapup-note").fill(note)
    desk.get_by_test_id("btn-wrapup").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_contain_text(re.compile("complete|ended|thank", re.I),
                                                                                timeout=5000)


def open_customer(desk_context, server, query: str):
    page = desk_context.new_page()
    page.goto(f"{server.base_url}/desk/customers")
    page.get_by_test_id("customer-search").fill(query)
    page.get_by_test_id("btn-search").click()
    page.get_by_test_id("customer-result").first.click()
    expect(page.get_by_test_id("customer-name")).to_have_text(NAME)
    return page


def test_returning_customer_history_note_and_store_visit(browser, server):
    bob = login(browser, server, "bob")
    go_available(bob)

    # First visit: a product page, a call, a wrap-up note.
    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    shopper.locator("[data-testid^=product-]").first.locator("a").first.click()
    shopper.wait_for_url(re.compile(r"/product/"))
    product_title = shopper.title()
    call_me(shopper, "Sizes")
    expect(bob.get_by_test_id("offer-name")).to_contain_text(NAME, timeout=5000)
    answer_and_wrap_up(bob, shopper, "Explained the sizes")
    go_away(bob)

    # Another agent finds her and leaves a note.
    carol = login(browser, server, "carol")
    record = open_customer(carol.context, server, "rita")
    record.get_by_test_id("log-kind").select_option("note")
    record.get_by_test_id("log-text").fill("Prefers calls in the evening")
    record.get_by_test_id("log-submit").click()
    expect(record.get_by_test_id("timeline-event").first).to_contain_text("Prefers calls in the evening")

    # She comes back: the offer shows her previous call, last pages and Carol's note.
    alice = login(browser, server, "alice")
    go_available(alice)
    shopper.goto(f"{server.base_url}/cart")
    call_me(shopper, "Back again")
    expect(alice.get_by_test_id("offer-name")).to_contain_text(NAME, timeout=5000)
    previous = alice.get_by_test_id("offer-previous")
    expect(previous).to_contain_text("Prefers calls in the evening")
    expect(previous).to_contain_text("Explained the sizes")
    expect(alice.get_by_test_id("offer-trail")).to_contain_text(product_title)
    expect(alice.get_by_test_id("offer-tier")).to_have_text("Standard")
    alice.get_by_test_id("btn-accept").click()
    expect(alice.get_by_test_id("contact-view")).to_have_attribute("data-state", "connected")
    # Connected, the same summary stays in view.
    expect(alice.get_by_test_id("contact-tier")).to_have_text("Standard")
    expect(alice.get_by_test_id("contact-previous")).to_contain_text("Prefers calls in the evening")

    # From the call, the full record opens in a tab; she logs an in-store visit.
    with alice.context.expect_page() as opened:
        alice.get_by_test_id("contact-timeline-link").click()
    page = opened.value
    expect(page.get_by_test_id("customer-name")).to_have_text(NAME)
    expect(page.get_by_test_id("timeline")).to_contain_text("Explained the sizes")
    page.get_by_test_id("log-kind").select_option("store_visit")
    page.get_by_test_id("log-text").fill("Tried the jacket at the Main Street store")
    page.get_by_test_id("log-submit").click()
    expect(page.get_by_test_id("timeline-event").first).to_contain_text("Main Street store")
    page.get_by_test_id("timeline-filter").select_option("store_visit")
    expect(page.get_by_test_id("timeline-event")).to_have_count(1)
    # By channel: the in-store visit is the one contact "in the store"; the web has her pages.
    page.get_by_test_id("timeline-filter").select_option("")
    page.get_by_test_id("timeline-channel").select_option("store")
    expect(page.get_by_test_id("timeline-event")).to_have_count(1)
    expect(page.get_by_test_id("timeline-event")).to_have_attribute("data-kind", "store_visit")
    page.get_by_test_id("timeline-channel").select_option("web")
    expect(page.get_by_test_id("timeline-event").first).to_have_attribute("data-channel", "web")
    expect(page.get_by_test_id("timeline")).to_contain_text(product_title)
    expect(page.get_by_test_id("timeline")).not_to_contain_text("Main Street store")
    alice.get_by_test_id("btn-end").click()
    alice.get_by_test_id("wrapup-disposition").select_option("Follow-up needed")
    alice.get_by_test_id("wrapup-note").fill("Bring the receipt next time")
    alice.get_by_test_id("btn-wrapup").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    go_away(alice)

    # The next agent sees the visit, on the record and on the next offer.
    nextone = open_customer(bob.context, server, "Rita Returning")
    expect(nextone.get_by_test_id("timeline")).to_contain_text("Main Street store")
    go_available(bob)
    call_me(shopper, "Third time")
    expect(bob.get_by_test_id("offer-previous")).to_contain_text("Main Street store", timeout=5000)
    # What is still open comes first: Alice's follow-up.
    expect(bob.get_by_test_id("offer-previous").get_by_test_id("open-issues")).to_contain_text("Bring the receipt")
    answer_and_wrap_up(bob, shopper, "Third call")
    go_away(bob)
    for page in (bob, carol, alice, shopper):
        page.context.close()


def test_identified_customer_views_corrects_downloads_and_erases_their_data(browser, server):
    shopper = browser.new_context(accept_downloads=True).new_page()
    shopper.goto(f"{server.base_url}/")
    shopper.wait_for_function("window.otodesk && window.otodesk.loaded")
    my_data = shopper.locator(f"{W} [data-testid=mydata-open]")
    shopper.evaluate("otodesk.identify({name: 'Lena Claimed', userId: 'lena-1', userHash: 'forged'})")
    shopper.wait_for_timeout(500)
    expect(my_data).to_have_count(0)  # a forged hash links nothing and shows nothing
    hash_ = user_hash(SITE_SECRET, "lena-1")
    shopper.evaluate(f"otodesk.identify({{name: 'Lena Lovelace', email: 'lena@example.com', userId: 'lena-1', userHash: '{hash_}'}})")
    expect(my_data).to_be_visible(timeout=5000)
    my_data.click()
    panel = shopper.locator(f"{W} [data-testid=mydata]")
    expect(panel.get_by_test_id("mydata-name")).to_have_value("Lena Lovelace")
    expect(panel.get_by_test_id("mydata-summary")).to_contain_text(re.compile(r"\d+ contact records?, \d+ orders?"))  # plural rules: "1 contact record"
    panel.get_by_test_id("mydata-name").fill("Lena Corrected")
    panel.get_by_test_id("mydata-phone").fill("(415) 555-2671")
    panel.get_by_test_id("mydata-save").click()
    expect(panel.get_by_test_id("mydata-status")).to_have_text("Saved.")
    with shopper.expect_download() as download:
        panel.get_by_test_id("mydata-download").click()
    data = json.loads(open(download.value.path()).read())
    assert data["customer"]["name"] == "Lena Corrected" and data["customer"]["phone"] == "+14155552671"
    assert any(e["kind"] == "page_view" for e in data["timeline"])
    shopper.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_test_id("mydata-erase").click()
    # The widget says so; the demo shop, told by the widget's "erased" event, signs the person
    # out at once and says it on its account page (which may replace the widget's words).
    expect(panel.get_by_test_id("mydata-erased").or_(shopper.get_by_test_id("erased-signed-out"))).to_be_visible()

    admin = login(browser, server, "admin", "/desk/customers")  # no skills: /desk is not theirs
    admin.get_by_test_id("customer-search").fill("Lena")
    admin.get_by_test_id("btn-search").click()
    expect(admin.get_by_test_id("no-results")).to_be_visible()
    for page in (admin, shopper):
        page.context.close()


def test_demo_shop_sign_in_links_a_returning_customers_visits_and_opens_my_data(browser, server):
    # Two browsers of one person (say a laptop, then a phone): each browses anonymously, then
    # signs in to the demo shop as Mei Chen; the shop's server computes the HMAC.
    titles = []
    shoppers = []
    for slug in ("aurora-laptop-14", "nimbus-headphones"):
        shopper = browser.new_context().new_page()
        shoppers.append(shopper)
        shopper.goto(f"{server.base_url}/product/{slug}")
        titles.append(shopper.locator("h1").first.inner_text())
        shopper.wait_for_function("window.otodesk && window.otodesk.loaded")
        expect(shopper.locator(f"{W} [data-testid=mydata-open]")).to_have_count(0)  # anonymous
        shopper.get_by_test_id("account-link").click()
        shopper.get_by_test_id("sign-in-nova-mei").click()
        expect(shopper.get_by_test_id("account-name")).to_have_text("Mei Chen")
        expect(shopper.get_by_test_id("account-link")).to_have_text("Mei Chen")
        # The widget trusted the shop's HMAC: "My data" shows her own record.
        my_data = shopper.locator(f"{W} [data-testid=mydata-open]")
        expect(my_data).to_be_visible(timeout=5000)
        my_data.click()
        panel = shopper.locator(f"{W} [data-testid=mydata]")
        expect(panel.get_by_test_id("mydata-name")).to_have_value("Mei Chen")
        expect(panel.get_by_test_id("mydata-email")).to_have_value("mei.chen@example.com")

    # An agent finds one Mei Chen, whose timeline holds both browsers' pages and her seeded past.
    carol = login(browser, server, "carol")
    carol.goto(f"{server.base_url}/desk/customers")
    # Found by phone in any format, e-mail in any case, the shop's id, or name.
    for query in ("(202) 555-0143", "+1 202-555-0143", "MEI.CHEN@example.com", "nova-mei"):
        carol.get_by_test_id("customer-search").fill(query)
        carol.get_by_test_id("btn-search").click()
        expect(carol.get_by_test_id("customer-result")).to_have_count(1)
        expect(carol.get_by_test_id("customer-result")).to_contain_text("Mei Chen")
        carol.get_by_test_id("customer-search").fill("nobody-at-all")
        carol.get_by_test_id("btn-search").click()
        expect(carol.get_by_test_id("no-results")).to_be_visible()
    carol.get_by_test_id("customer-search").fill("Mei Chen")
    carol.get_by_test_id("btn-search").click()
    expect(carol.get_by_test_id("customer-result")).to_have_count(1)
    carol.get_by_test_id("customer-result").click()
    expect(carol.get_by_test_id("customer-name")).to_have_text("Mei Chen")
    expect(carol.get_by_test_id("customer-tier")).to_have_text("Gold")
    identities = carol.get_by_test_id("customer-identities")
    expect(identities).to_contain_text("nova-mei")
    # Her seeded browser and the two new ones, on one record.
    expect(identities.locator("li", has_text=re.compile(r"^Visitor: "))).to_have_count(3)
    carol.get_by_test_id("timeline-filter").select_option("page_view")
    timeline = carol.get_by_test_id("timeline")
    for title in titles:
        expect(timeline).to_contain_text(title)

    # Signing out stops vouching: after a reload the widget shows no "My data".
    shopper = shoppers[0]
    shopper.get_by_test_id("sign-out").click()
    expect(shopper.get_by_test_id("account-link")).to_have_text("Sign in")
    shopper.wait_for_function("window.otodesk && window.otodesk.loaded")
    shopper.wait_for_timeout(500)
    expect(shopper.locator(f"{W} [data-testid=mydata-open]")).to_have_count(0)
    # ...and this browser carries on as someone new: what it does next is not on her record.
    shopper.goto(f"{server.base_url}/product/swift-e-bike")
    after = shopper.locator("h1").first.inner_text()
    shopper.wait_for_function("window.otodesk && window.otodesk.loaded && window.otodesk.ready")
    shopper.wait_for_timeout(500)
    carol.reload()
    expect(carol.get_by_test_id("customer-name")).to_have_text("Mei Chen")
    carol.get_by_test_id("timeline-filter").select_option("page_view")
    expect(carol.get_by_test_id("timeline")).to_contain_text(titles[0])
    expect(carol.get_by_test_id("timeline")).not_to_contain_text(after)
    for page in (carol, *shoppers):
        page.context.close()


def test_shop_sign_out_revokes_the_widgets_old_token(browser, server):
    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/account")
    shopper.get_by_test_id("sign-in-nova-oskar").click()
    expect(shopper.locator(f"{W} [data-testid=mydata-open]")).to_be_visible(timeout=5000)
    other_tab = shopper.context.new_page()  # the same browser, still on a signed-in page
    other_tab.goto(f"{server.base_url}/cart")
    expect(other_tab.locator(f"{W} [data-testid=mydata-open]")).to_be_visible(timeout=5000)
    old = shopper.evaluate("localStorage.getItem('otodesk.token')")
    shopper.get_by_test_id("sign-out").click()
    expect(shopper.get_by_test_id("account-link")).to_have_text("Sign in")
    # The other tab hears it: its "My data" goes without a reload.
    expect(other_tab.locator(f"{W} [data-testid=mydata-open]")).to_have_count(0, timeout=5000)
    shopper.wait_for_function(f"localStorage.getItem('otodesk.token') && localStorage.getItem('otodesk.token') !== '{old}'")
    # A copy of the old token opens nothing: the server gives a new anonymous visitor instead.
    assert httpx.post(f"{server.base_url}/api/visitor", json={"token": old}).json()["token"] != old
    shopper.context.close()


def test_shop_correction_sticks_and_erasure_signs_the_customer_out_for_good(browser, server):
    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/account")
    shopper.get_by_test_id("sign-in-nova-ana").click()
    my_data = shopper.locator(f"{W} [data-testid=mydata-open]")
    panel = shopper.locator(f"{W} [data-testid=mydata]")
    expect(my_data).to_be_visible(timeout=5000)
    my_data.click()
    expect(panel.get_by_test_id("mydata-name")).to_have_value("Ana Souza")
    panel.get_by_test_id("mydata-name").fill("Ana Paula Souza")
    panel.get_by_test_id("mydata-save").click()
    expect(panel.get_by_test_id("mydata-status")).to_have_text("Saved.")

    # The next page: the shop identifies her with its own profile again; her correction stays.
    shopper.goto(f"{server.base_url}/cart")
    expect(my_data).to_be_visible(timeout=5000)
    my_data.click()
    expect(panel.get_by_test_id("mydata-name")).to_have_value("Ana Paula Souza")

    shopper.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_test_id("mydata-erase").click()
    # The shop is told and signs her out; the widget starts afresh without "My data".
    expect(shopper.get_by_test_id("erased-signed-out")).to_be_visible(timeout=5000)
    expect(shopper.get_by_test_id("account-link")).to_have_text("Sign in")
    expect(my_data).to_have_count(0)

    # Signing in again: the shop still vouches for her, and the service recreates nothing.
    shopper.get_by_test_id("sign-in-nova-ana").click()
    expect(shopper.get_by_test_id("erased-notice")).to_be_visible(timeout=5000)
    expect(my_data).to_have_count(0)
    admin = login(browser, server, "admin", "/desk/customers")  # no skills: /desk is not theirs
    for query in ("Souza", "ana.souza@example.net"):
        admin.get_by_test_id("customer-search").fill(query)
        admin.get_by_test_id("btn-search").click()
        expect(admin.get_by_test_id("no-results")).to_be_visible()
    for page in (admin, shopper):
        page.context.close()
