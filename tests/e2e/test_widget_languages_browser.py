"""The widget in Simplified and Traditional Chinese (issue 14, item 4), as a customer sees it.

One server whose contact centre speaks Traditional Chinese (OTODESK_WIDGET_LOCALE=zh-TW): a
customer whose browser speaks English gets the widget in zh-TW (the site's setting wins over the
browser); a page that says ``data-locale="zh-CN"`` gets Simplified Chinese (the page wins over
the site). In each, the launcher, the form with every field shown, and the waiting state are
walked text node by text node (and placeholders, labels for screen readers): no English word
but the brand names and the contact centre's own queue titles, and no raw message key.
Screenshots (1280 and 390 px wide) go to $OTODESK_SHOTS when it is set, to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from desktop.demo.seed import DEMO_ACCOUNTS, DEMO_QUEUES
from tests.e2e.conftest import login

W = "otodesk-widget"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

#: Latin words a Chinese widget may show: key names and the contact centre's own data (queue
#: titles and its agents' names are set by the contact centre, not by the widget's catalogue).
ALLOWED = {"Esc", "JSON", *(title for _name, title, _skills, _target in DEMO_QUEUES),
           *(word for _username, name, _role, _skills in DEMO_ACCOUNTS for word in name.split())}
#: What an untranslated message key looks like ("form.name", "status.wait").
RAW_KEY = re.compile(r"\b[a-z]+\.[a-z_]+\b")

# Every visible text node in the widget's shadow roots, and the texts a person meets in
# attributes (placeholders, aria-labels, titles) of visible elements.
VISIBLE_TEXT = """() => {
    const found = [];
    for (const host of document.querySelectorAll("otodesk-widget, otodesk-cobrowse, otodesk-documents")) {
        const root = host.shadowRoot;
        if (!root) continue;
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const parent = node.parentElement;
            if (!parent || ["STYLE", "SCRIPT"].includes(parent.tagName) || !node.textContent.trim()) continue;
            const option = parent.closest("option");
            if (option ? option.closest("select").checkVisibility() : parent.checkVisibility()) found.push(node.textContent.trim());
        }
        for (const element of root.querySelectorAll("[placeholder], [aria-label], [title]")) {
            if (!element.checkVisibility()) continue;
            for (const name of ["placeholder", "aria-label", "title"]) {
                if (element.getAttribute(name)) found.push(element.getAttribute(name));
            }
        }
    }
    return found;
}"""

@pytest.fixture(scope="module")
def server(languages_server):
    # Shared with the staff pages' walk (tests/e2e/test_staff_languages_browser.py).
    return languages_server


def shot(page, name: str) -> None:
    if os.environ.get("OTODESK_SHOTS"):
        Path(os.environ["OTODESK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{os.environ['OTODESK_SHOTS']}/{name}.png")


def english_left(page) -> list[str]:
    """The texts on screen with an English word (not allowed) or a raw message key in them."""
    bad = []
    for text in page.evaluate(VISIBLE_TEXT):
        words = [word for word in re.findall(r"[A-Za-z]{2,}", text) if word not in ALLOWED]
        if words or RAW_KEY.search(text):
            bad.append(text)
    return bad


def walk(page, name: str) -> None:
    shot(page, name)
    assert english_left(page) == [], name


def open_form(page, launcher_text: str) -> None:
    launcher = page.locator(f"{W} [data-testid=otodesk-launcher]")
    expect(launcher).to_have_text(launcher_text, timeout=10000)
    walk(page, f"{page.viewport_size['width']}-launcher")
    launcher.click()
    expect(page.locator(f"{W} [data-testid=otodesk-form]")).to_be_visible()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_traditional_chinese_from_the_contact_centres_setting(browser, server, viewport):
    context = browser.new_context(viewport=viewport, locale="en-US")  # the browser speaks English
    page = context.new_page()
    page.goto(f"{server.base_url}/")
    assert page.evaluate("navigator.language") == "en-US"
    open_form(page, "回電給我")
    form = page.locator(f"{W} [data-testid=otodesk-form]")
    # Nobody is staffed in the demo until an agent signs in: a later time is offered at once.
    expect(form.locator("button[type=submit]")).to_have_text("預約回電")
    # Every field shown: the phone (its example number is Taiwan's) and a later time.
    page.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
    page.locator(f"{W} [data-testid=otodesk-when-later]").check(force=True)
    expect(form.locator("[name=phone]")).to_have_attribute("placeholder", "+886 912 345 678")
    # The form's own checks speak it too.
    form.locator("button[type=submit]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-error-name]")).to_have_text("請告訴我們您的姓名。")
    walk(page, f"zh-TW-form-{viewport['width']}")

    form.locator("[name=name]").fill("林小姐")
    form.locator("[name=phone]").fill("+886 912 345 678")
    form.locator("button[type=submit]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("您的回電已預約", timeout=8000)
    # The date and time from Intl, in Chinese: "預約時間：明天 下午3:00" or a weekday and date.
    expect(page.locator(f"{W} [data-testid=otodesk-scheduled]")).to_have_text(re.compile(r"^預約時間：.*\d"))
    expect(page.locator(f"{W} [data-testid=otodesk-detail]")).to_contain_text("+886912345678")
    walk(page, f"zh-TW-scheduled-{viewport['width']}")
    page.locator(f"{W} [data-testid=otodesk-cancel]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("您的要求已取消")
    walk(page, f"zh-TW-cancelled-{viewport['width']}")
    context.close()


def test_simplified_chinese_from_the_pages_data_locale_then_english_from_set_locale(browser, server):
    context = browser.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    page.goto(f"{server.base_url}/?locale=zh-CN")  # the demo shop's tag then says data-locale="zh-CN"
    assert page.locator("script[src='/widget.js']").get_attribute("data-locale") == "zh-CN"
    open_form(page, "回电给我")
    form = page.locator(f"{W} [data-testid=otodesk-form]")
    page.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    walk(page, "zh-CN-form")

    # Waiting in line, with nobody staffed: the position as an ordinal and what happens next.
    form.locator("[name=name]").fill("陈女士")
    form.locator("[name=queue]").select_option("support")
    page.locator(f"{W} [data-testid=otodesk-channel-browser]").check(force=True)
    page.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)  # now, though nobody is there
    form.locator("button[type=submit]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("您正在排队", timeout=8000)
    expect(page.locator(f"{W} [data-testid=otodesk-position]")).to_have_text(re.compile(r"^您排在第\d+位$"))
    expect(page.locator(f"{W} [data-testid=otodesk-wait]")).not_to_be_empty()
    walk(page, "zh-CN-waiting")
    page.locator(f"{W} [data-testid=otodesk-minimize]").click()
    launcher = page.locator(f"{W} [data-testid=otodesk-launcher]")
    expect(launcher).to_contain_text("排队中")
    walk(page, "zh-CN-minimised")

    # The site switches language while a request is waiting: the panel is drawn again, as it was.
    page.evaluate("otodesk.setLocale('en')")
    expect(launcher).to_contain_text("In line")
    launcher.click()
    expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("You're in line")
    expect(page.locator(f"{W} [data-testid=otodesk-cancel]")).to_have_text("Cancel my request")
    page.locator(f"{W} [data-testid=otodesk-cancel]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("Your request was cancelled")
    context.close()


def test_a_browser_call_without_a_microphone_says_why_in_chinese_on_a_phone(browser, server):
    """The customer's browser has no microphone (this Chromium has no fake devices): the call
    can't start, and the widget says why in Simplified Chinese, not in the browser's English
    ("Requested device not found" was shown to a Chinese reader); the agent's desk says why
    the line is silent (it said nothing: the customer never joined)."""
    desk = login(browser, server, "carol")  # support; not used by the tests above
    desk.get_by_test_id("btn-available").click()
    expect(desk.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server.base_url}/?locale=zh-CN")
    open_form(page, "回电给我")
    form = page.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill("陈女士")
    form.locator("[name=queue]").select_option("support")
    page.locator(f"{W} [data-testid=otodesk-channel-browser]").check(force=True)
    form.locator("button[type=submit]").click()
    expect(desk.get_by_test_id("offer-card")).to_be_visible(timeout=8000)
    desk.get_by_test_id("btn-accept").click()
    try:
        voice = page.locator(f"{W} [data-testid=otodesk-voice]")
        expect(voice).to_have_attribute("data-state", "failed", timeout=8000)
        expect(page.locator(f"{W} [data-testid=otodesk-voice-state]")).to_have_text(
            re.compile(r"^通话无法接通：(此设备上没有找到麦克风|此网页无权使用您的麦克风（请查看浏览器设置）)$"))
        expect(page.locator(f"{W} [data-testid=otodesk-mute]")).to_be_hidden()  # nothing to mute
        expect(page.locator(f"{W} [data-testid=otodesk-hangup]")).to_be_visible()
        walk(page, "zh-CN-no-microphone")
        # The agent is told why the line is silent (their desk is in English).
        panel = desk.get_by_test_id("voice-panel")
        expect(panel).to_have_attribute("data-customer-problem", re.compile("^(no_microphone|microphone_refused)$"))
        expect(panel).to_contain_text(re.compile(r"The customer's (browser has no microphone|browser may not use)"))
        shot(desk, "desk-customer-no-microphone")
    finally:
        context.close()
        desk.get_by_test_id("btn-end").click()
        desk.get_by_test_id("wrapup-disposition").select_option(index=1)
        desk.get_by_test_id("btn-wrapup").click()
        desk.context.close()
