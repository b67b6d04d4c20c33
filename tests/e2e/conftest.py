"""Real Chromium (Debian's) driven by Playwright, against a real ``otodesk demo`` process."""

from __future__ import annotations

import os

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from tests.helpers.server import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def require_chromium() -> None:
    """Skip when Debian's Chromium is absent; under ``CI=true`` fail instead."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright gives every launch a fresh, empty profile directory of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "4", "OTODESK_WRAPUP_TIMEOUT": "60"}
    with running_server(tmp_path_factory.mktemp("e2e"), env=env) as server:
        yield server


@pytest.fixture(scope="session")
def languages_server(tmp_path_factory):
    """One server for the pages walked in Chinese (the widget's and the staff pages' modules):
    its contact centre speaks Traditional Chinese (OTODESK_WIDGET_LOCALE=zh-TW)."""
    with running_server(tmp_path_factory.mktemp("languages"), env={"OTODESK_WIDGET_LOCALE": "zh-TW"}) as server:
        yield server


def snap(page, name: str) -> None:
    """A screenshot to look at, only when ``OTODESK_TEST_SCREENSHOTS`` names a folder: trying a
    journey as a person would, with the suite's own rig (nothing is asserted on it)."""
    folder = os.environ.get("OTODESK_TEST_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def login(browser, server, username: str, path: str = "/desk"):
    """A fresh browser context (its own cookies) logged in as ``username`` on ``path``."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.base_url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page
