"""Staff pages in Chromium (issue 9, item 20): another site can't frame them (Accept, End,
Erase under a clickjacking overlay), and the desk with a live co-browse mirror and the
wall run under their Content-Security-Policy without a single violation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.e2e.test_cobrowse_browser import CB, _connected_shopper

#: Every CSP violation the page reports, kept for the test to read.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`), true);
"""


def test_another_site_cannot_frame_the_desk_or_the_sign_in(browser, server):
    page = browser.new_context().new_page()
    # A page of another origin embeds the staff pages; set_content returns once every
    # frame has loaded (or been refused).
    page.set_content(f'<iframe id="desk" src="{server.base_url}/desk"></iframe>'
                     f'<iframe id="login" src="{server.base_url}/login"></iframe>', wait_until="load")
    for frame_id in ("desk", "login"):
        framed = page.frame_locator(f"#{frame_id}")
        expect(framed.locator("[data-testid=login-form]")).to_have_count(0)
    # The same page opened on its own works.
    own = browser.new_context().new_page()
    own.goto(f"{server.base_url}/login")
    expect(own.get_by_test_id("login-form")).to_be_visible()
    page.context.close()
    own.context.close()


def test_the_desk_mirror_and_the_wall_run_under_the_csp_without_violations(browser, server):
    alice = login(browser, server, "alice")
    alice.context.add_init_script(WATCH_CSP)
    alice.reload()
    alice.get_by_test_id("btn-available").click()
    expect(alice.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    sam = login(browser, server, "sam", "/supervisor")
    sam.context.add_init_script(WATCH_CSP)
    sam.reload()

    shopper = _connected_shopper(browser, server, alice, [])
    alice.get_by_test_id("btn-cobrowse").click()
    shopper.locator(f"{CB} [data-testid=otodesk-cobrowse-accept]").click()
    expect(alice.get_by_test_id("cobrowse-state")).to_have_attribute("data-state", "sharing", timeout=5000)
    mirror = alice.frame_locator("[data-testid=cobrowse-replay] iframe")
    expect(mirror.locator("[data-testid=checkout-form]")).to_be_attached(timeout=5000)
    expect(sam.locator("body")).to_contain_text("alice", ignore_case=True, timeout=5000)

    assert alice.evaluate("window.__csp") == []
    assert sam.evaluate("window.__csp") == []
    for page in (alice, sam, shopper):
        page.context.close()
