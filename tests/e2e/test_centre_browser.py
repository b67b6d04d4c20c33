"""An admin changes the widget's colour, corner and greeting and adds a site in the console; the
widget on that site (another origin) shows them at once, with no restart. Before the site is
added, the widget on it never appears (its requests are refused)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.helpers.static_site import static_site

W = "otodesk-widget"
GREETING = "您好！下单遇到问题？我们给您回电。"


def shop_site(otodesk_url: str):
    """A site on another 127.0.0.1 port whose page embeds the widget in Simplified Chinese."""
    return static_site(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>小店</title>'
                       f'<h1>小店</h1><script src="{otodesk_url}/widget.js" data-locale="zh-CN" async></script>'.encode())


def test_an_admin_restyles_the_widget_and_adds_the_site_that_shows_it(browser, server):
    admin = login(browser, server, "admin", "/admin")
    with shop_site(server.base_url) as site:
        shopper = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        shopper.goto(site)
        shopper.wait_for_timeout(3000)  # the loader waits for idle; then its requests are refused
        expect(shopper.locator(f"{W} [data-testid=otodesk-launcher]")).to_be_hidden()

        widget = admin.get_by_test_id("widget-section")
        expect(admin.get_by_test_id("widget-accent")).to_have_value("#4338ca")
        admin.get_by_test_id("widget-accent").fill("teal")
        admin.get_by_test_id("widget-save").click()
        expect(admin.get_by_test_id("widget-error")).to_contain_text("#rrggbb")
        admin.get_by_test_id("widget-accent").fill("#0f766e")
        admin.get_by_test_id("widget-position").select_option("bottom-left")
        admin.get_by_test_id("widget-greeting-zh-CN").fill(GREETING)
        admin.get_by_test_id("widget-save").click()
        expect(admin.get_by_test_id("widget-error")).to_be_empty()
        expect(widget.get_by_test_id("widget-accent-picker")).to_have_value("#0f766e")

        admin.get_by_test_id("sites-origins").fill("shop.example")
        admin.get_by_test_id("sites-save").click()
        expect(admin.get_by_test_id("sites-error")).to_contain_text("'shop.example' is not a site")
        admin.get_by_test_id("sites-origins").fill(f"{site}/")
        admin.get_by_test_id("sites-save").click()
        expect(admin.get_by_test_id("sites-origins")).to_have_value(site)  # as browsers write it
        expect(admin.locator("[data-testid=audit-row][data-action='settings.origins']")).to_have_count(1)

        shopper.reload()
        launcher = shopper.locator(f"{W} [data-testid=otodesk-launcher]")
        expect(launcher).to_be_visible(timeout=10_000)
        expect(launcher).to_have_css("background-color", "rgb(15, 118, 110)")
        box = launcher.bounding_box()
        assert box["x"] < 100, box  # bottom left, not right
        launcher.click()
        expect(shopper.locator(f"{W} [data-testid=otodesk-subtitle]")).to_have_text(GREETING)
        header = shopper.locator(f"{W} .panel header")
        # From the colour to a darker shade of it (the browser mixes it: color-mix()).
        expect(header).to_have_css("background-image", re.compile(r"^linear-gradient\(135deg, rgb\(15, 118, 110\), "))
        submit = shopper.locator(f"{W} button[type=submit]").first
        expect(submit).to_have_css("background-color", "rgb(15, 118, 110)")

        # Removed: the next page of that site has no widget.
        admin.get_by_test_id("sites-origins").fill("")
        admin.get_by_test_id("sites-save").click()
        expect(admin.get_by_test_id("sites-origins")).to_have_value("")
        # Saved (its audit row is there), not only typed: under load the reload could come first.
        expect(admin.locator("[data-testid=audit-row][data-action='settings.origins']")).to_have_count(2)
        shopper.reload()
        shopper.wait_for_timeout(3000)
        expect(launcher).to_be_hidden()
