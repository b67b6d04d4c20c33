"""The staff pages in Simplified and Traditional Chinese (issue 14, item 4), walked text node by
text node in Chromium: the desk idle, with an offer ringing, after accept and in wrap-up; the
wall; the admin console; the planner; the reports. No English word but the brand and what the
contact centre itself named (queue titles, people, the site's pages: marked translate="no"),
no raw message key, and only the page's own language's catalogues fetched.

The language comes from the browser (Accept-Language: zh-CN) or from the profile menu (zh-TW,
chosen in the page). This module shares the widget-languages module's server (the suite's time
is counted): conftest's ``languages_server``. Screenshots (1280 and 390 px wide) go to $OTODESK_SHOTS.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from desktop.demo.seed import DEMO_PASSWORD, DEMO_QUEUES

W = "otodesk-widget"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
#: Latin words a Chinese staff page may show: the brand, formats, the language menu's own names
#: ("English" is written in English everywhere), and the centre's queue titles where a sentence
#: quotes one.
ALLOWED = {"otodesk", "CSV", "PDF", "PNG", "UTC", "Esc", "English",
           *(title for _name, title, _skills, _target in DEMO_QUEUES)}
RAW_KEY = re.compile(r"\b[a-z]+\.[a-z0-9_]+\b")

# Every visible text node of the page and the texts of its visible elements' placeholder,
# aria-label and title, outside [translate=no] (data the centre or the customer wrote), and the
# document's title. Braces are placeholders of the planner's scripts ({first_name|您好}).
VISIBLE_TEXT = """() => {
    const found = [document.title];
    const kept = (element) => !element.closest('[translate="no"]');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || ["STYLE", "SCRIPT", "NOSCRIPT"].includes(parent.tagName) || !node.textContent.trim()) continue;
        const option = parent.closest("option");
        const shown = option ? option.parentElement.closest("select")?.checkVisibility() : parent.checkVisibility();
        if (shown && kept(parent)) found.push(node.textContent.trim());
    }
    for (const element of document.body.querySelectorAll("[placeholder], [aria-label], [title]")) {
        if (!element.checkVisibility() || !kept(element)) continue;
        for (const name of ["placeholder", "aria-label", "title"]) {
            if (element.getAttribute(name)) found.push(element.getAttribute(name));
        }
    }
    return found;
}"""


def shot(page, name: str) -> None:
    if os.environ.get("OTODESK_SHOTS"):
        Path(os.environ["OTODESK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{os.environ['OTODESK_SHOTS']}/staff-{name}.png", full_page=True)


def english_left(page) -> list[str]:
    bad = []
    for text in page.evaluate(VISIBLE_TEXT):
        plain = re.sub(r"\{[^}]*\}", "", text)
        words = [word for word in re.findall(r"[A-Za-z]{2,}", plain) if word not in ALLOWED]
        if words or RAW_KEY.search(plain):
            bad.append(text)
    return bad


def walk(page, name: str, *, phone_too: bool = False) -> None:
    shot(page, f"{name}-1280")
    assert english_left(page) == [], name
    if phone_too:  # the same page at a phone's width: what wraps must still be translated
        page.set_viewport_size(PHONE)
        shot(page, f"{name}-390")
        assert english_left(page) == [], f"{name} at 390 px"
        page.set_viewport_size(LAPTOP)


class Catalogues:
    """The message catalogues a page fetched (only its language's may be)."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url) if "/messages-" in request.url else None)

    def only(self, locale: str) -> None:
        fetched = {re.search(r"messages-([\w-]+)\.js", url).group(1) for url in self.urls}
        assert fetched == {locale}, self.urls


def sign_in(browser, server, username: str, path: str, *, locale: str = "zh-CN"):
    """A browser speaking ``locale`` (its Accept-Language), signed in as ``username`` on ``path``."""
    context = browser.new_context(viewport=LAPTOP, locale=locale)
    page = context.new_page()
    catalogues = Catalogues(page)
    page.goto(f"{server.base_url}{path}")
    expect(page.locator("h1")).to_have_text("登录" if locale == "zh-CN" else "登入")
    walk(page, f"login-{locale}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page, catalogues


def choose_language(page, locale: str) -> None:
    """The profile menu in the top bar: the page comes back in ``locale``."""
    page.get_by_test_id("my-locale").select_option(locale)
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("html")).not_to_have_class(re.compile("i18n-pending"))


def ask_for_a_call(browser, server, name: str):
    shopper = browser.new_context().new_page()
    shopper.goto(f"{server.base_url}/")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill(name)
    form.locator("[name=queue]").select_option("support")
    form.locator("[name=topic]").fill("退款")
    shopper.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    return shopper


def take_a_call(browser, server, carol, locale: str, customer: str) -> None:
    """An offer rings (walked), is accepted (walked), ends in wrap-up (walked), and is done."""
    shopper = ask_for_a_call(browser, server, customer)
    expect(carol.get_by_test_id("offer-name")).to_have_text(customer, timeout=10000)
    walk(carol, f"desk-offer-{locale}", phone_too=locale == "zh-CN")
    carol.get_by_test_id("btn-accept").click()
    expect(carol.get_by_test_id("contact-view")).to_be_visible(timeout=10000)
    walk(carol, f"desk-contact-{locale}", phone_too=locale == "zh-CN")
    carol.get_by_test_id("btn-end").click()
    expect(carol.get_by_test_id("wrapup-form")).to_be_visible()
    walk(carol, f"desk-wrapup-{locale}")
    carol.get_by_test_id("wrapup-disposition").select_option(index=1)
    carol.get_by_test_id("btn-wrapup").click()
    expect(carol.get_by_test_id("contact-view")).to_have_count(0, timeout=5000)
    shopper.context.close()


def test_the_staff_pages_in_chinese_have_no_english_left(browser, languages_server):
    server = languages_server
    # The desk in Simplified Chinese, from the browser's Accept-Language.
    carol, carol_catalogues = sign_in(browser, server, "carol", "/desk")
    expect(carol.locator("html")).to_have_attribute("lang", "zh-CN")
    carol.get_by_test_id("btn-available").click()
    expect(carol.get_by_test_id("desk-state")).to_have_text("空闲")
    walk(carol, "desk-idle-zh-CN", phone_too=True)

    # The wall in Simplified Chinese, while Carol takes a call and wraps it up.
    sam, sam_catalogues = sign_in(browser, server, "sam", "/supervisor")
    take_a_call(browser, server, carol, "zh-CN", "王芳")
    expect(sam.get_by_test_id("agent-carol").get_by_test_id("agent-state")).to_have_text("空闲")
    expect(sam.get_by_test_id("wall-queue-support").get_by_test_id("answered")).not_to_have_text("0")
    walk(sam, "wall-zh-CN", phone_too=True)
    sam.get_by_test_id("nav-reports").click()
    expect(sam.get_by_test_id("report-totals")).not_to_be_empty()
    expect(sam.locator("[data-status]")).to_contain_text("按天")
    walk(sam, "reports-zh-CN")
    carol_catalogues.only("zh-CN")
    sam_catalogues.only("zh-CN")

    # The desk in Traditional Chinese, chosen in the profile menu (the browser still says zh-CN).
    choose_language(carol, "zh-TW")
    expect(carol.get_by_test_id("btn-available")).to_have_text("空閒")
    take_a_call(browser, server, carol, "zh-TW", "陳大文")

    # The admin's pages in Traditional Chinese, from the profile menu too.
    admin, _ = sign_in(browser, server, "admin", "/admin")
    choose_language(admin, "zh-TW")
    admin_catalogues = Catalogues(admin)
    admin.reload()
    expect(admin.get_by_test_id("queue-support")).to_be_visible()
    walk(admin, "admin-zh-TW")
    # Each page walked once its script has run: translated (app.css reveals the English HTML
    # after 3 s if its catalogue never comes, which a loaded machine can reach) and filled in
    # by what only the script draws (the server's HTML has a "Loading…" in each of these).
    drawn = {  # what only the page's script draws, once it has its data
        "/planner": lambda: expect(admin.get_by_test_id("btn-new-action")).to_be_enabled(timeout=15000),
        "/reports": lambda: expect(admin.get_by_test_id("report-totals")).not_to_be_empty(timeout=15000),
        "/supervisor": lambda: expect(admin.get_by_test_id("wall-queue-support")).to_be_visible(timeout=15000),
    }
    for path, drawn_by_its_script in drawn.items():
        admin.goto(f"{server.base_url}{path}")
        expect(admin.locator("html")).not_to_have_class(re.compile("i18n-pending"), timeout=15000)
        drawn_by_its_script()
        walk(admin, f"{path.strip('/')}-zh-TW")
    admin_catalogues.only("zh-TW")
    for page in (carol, sam, admin):
        page.context.close()
