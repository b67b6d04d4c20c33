"""The server's refusals in the reader's language (issue 14, item 4), in Chromium, in zh-CN.

The server words its errors in English, for developers; what a customer or a staff member
reads is the catalogue's words for the error's code, filled from its facts. Here a customer
whose page speaks Simplified Chinese gives a phone number that does not exist, books a time when
the queue is closed (told when it opens), and asks once too often (told how many and how long
to wait); an admin whose browser speaks Simplified Chinese adds a user whose name is taken. Each
time the text-node walk of the widget's and the staff pages' language tests finds no English.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_staff_languages_browser import english_left as staff_english
from tests.e2e.test_staff_languages_browser import sign_in
from tests.e2e.test_widget_languages_browser import english_left as widget_english
from tests.e2e.test_widget_languages_browser import shot
from tests.helpers.server import running_server

W = "otodesk-widget"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # One request a visitor per window, two attempts: the third request is refused.
    with running_server(tmp_path_factory.mktemp("errors"), env={"OTODESK_CALLME_PER_PHONE": "1"}) as server:
        yield server


def test_server_errors_read_in_chinese_in_the_admin_console_and_the_widget(browser, server):
    admin, _ = sign_in(browser, server, "admin", "/admin")
    expect(admin.get_by_test_id("queue-support")).to_be_visible()
    # A user whose username is taken: the server says so in English, the console in Chinese.
    admin.get_by_test_id("user-new").click()
    dialog = admin.get_by_test_id("user-dialog")
    dialog.get_by_test_id("user-username").fill("carol")
    dialog.get_by_test_id("user-display-name").fill("另一个卡罗尔")
    dialog.get_by_test_id("user-password").fill("carol-password-2")
    dialog.get_by_test_id("user-save").click()
    expect(dialog.locator("[data-form-error]")).to_have_text("该用户名已被使用，请换一个。")
    assert staff_english(admin) == []
    dialog.locator("[data-close]").click()

    # A queue open 09:00-17:00 every day but today, and closed tomorrow (the demo runs in UTC).
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = today + dt.timedelta(days=1)
    admin.get_by_test_id("queue-new").click()
    queue = admin.get_by_test_id("queue-dialog")
    queue.get_by_test_id("queue-name").fill("office")
    queue.get_by_test_id("queue-title").fill("办公室")
    queue.get_by_test_id("queue-always").uncheck()
    for i, key in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        queue.get_by_test_id(f"queue-day-{key}").fill("" if i == today.weekday() else "09:00-17:00")
    queue.get_by_test_id("queue-exceptions").fill(f"{tomorrow.isoformat()} closed")
    queue.get_by_test_id("queue-save").click()
    expect(admin.get_by_test_id("queue-office")).to_be_visible()
    admin.context.close()

    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="UTC")
    page = context.new_page()
    page.goto(f"{server.base_url}/?locale=zh-CN")
    page.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = page.locator(f"{W} [data-testid=otodesk-form]")
    form.locator("[name=name]").fill("陈女士")

    # A phone number that does not exist (the form's own check only wants digits).
    form.locator("[name=queue]").select_option("support")
    page.locator(f"{W} [data-testid=otodesk-channel-phone]").check(force=True)
    page.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    form.locator("[name=phone]").fill("+86 123")
    form.locator("button[type=submit]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-error-phone]")).to_have_text(re.compile("号码"))
    shot(page, "errors-zh-CN-phone")
    assert widget_english(page) == []

    # A time when the queue is closed: told when it opens, in Chinese, in the customer's zone.
    page.locator(f"{W} [data-testid=otodesk-channel-browser]").check(force=True)
    form.locator("[name=queue]").select_option("office")
    page.locator(f"{W} [data-testid=otodesk-when-later]").check(force=True)
    form.locator("[name=scheduled_at]").fill(f"{tomorrow.isoformat()}T10:00")
    form.locator("button[type=submit]").click()
    error = page.locator(f"{W} [data-testid=otodesk-error-scheduled_at]")
    expect(error).to_contain_text("办公室在您选择的时间")
    expect(error).to_contain_text(re.compile(r"将于.*9:00.*开始服务"))
    shot(page, "errors-zh-CN-closed")
    assert widget_english(page) == []

    # Asking a third time within the window: how many, and how long to wait.
    form.locator("[name=queue]").select_option("support")
    page.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    for _ in range(2):
        form.locator("button[type=submit]").click()
        expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_have_text("您正在排队", timeout=8000)
        page.locator(f"{W} [data-testid=otodesk-cancel]").click()
        page.locator(f"{W} [data-testid=otodesk-again]").click()
        page.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    form.locator("button[type=submit]").click()
    refused = page.locator(f"{W} [data-testid=otodesk-error]")
    expect(refused).to_contain_text(re.compile(r"已提交2次回电请求，请在.*后再试"))
    shot(page, "errors-zh-CN-limit")
    assert widget_english(page) == []
    context.close()
