"""Nobody to answer: the widget says so before and after asking and offers a later time
(issue 9, item 7). A server of its own: no agent logs in here."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.server import running_server

W = "otodesk-widget"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("nobody")) as server:
        yield server


def test_nobody_logged_in_is_said_before_submit_and_a_later_time_offered(browser, server):
    page = browser.new_context().new_page()
    page.goto(f"{server.base_url}/")
    page.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = page.locator(f"{W} [data-testid=otodesk-form]")
    expect(form).to_be_visible()

    # Before submit: said for the chosen queue, and "Later" offered.
    notice = page.locator(f"{W} [data-testid=otodesk-availability]")
    expect(notice).to_contain_text("Nobody from Sales can take a call right now", timeout=8000)
    expect(page.locator(f"{W} [data-testid=otodesk-when-later]")).to_be_checked()
    expect(page.locator(f"{W} [name=scheduled_at]")).to_be_visible()

    # Asked now anyway: no "estimating…" for ever, but the truth and a way to a later time.
    page.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    form.locator("[name=name]").fill("Nadia Nobody")
    page.locator(f"{W} [data-testid=otodesk-submit]").click()
    wait = page.locator(f"{W} [data-testid=otodesk-wait]")
    expect(wait).to_contain_text("Nobody can take your call right now", timeout=8000)
    expect(wait).not_to_contain_text("estimating")
    page.locator(f"{W} [data-testid=otodesk-later]").click()

    # The form again, at a later time, with what was typed: a scheduled call.
    expect(form).to_be_visible()
    expect(page.locator(f"{W} [data-testid=otodesk-when-later]")).to_be_checked()
    expect(form.locator("[name=name]")).to_have_value("Nadia Nobody")
    page.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(page.locator(f"{W} [data-testid=otodesk-state]")).to_contain_text(re.compile("scheduled", re.I))
    page.context.close()
