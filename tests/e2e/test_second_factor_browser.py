"""Two-step sign-in in Chromium, as a person goes through it (issue 15, item 5): Bob enrols from
the top bar's "Sign-in security" (the test reads the key on the page and computes the codes with
pyotp, as his phone would), signs out, signs in with password + code; a wrong code is refused in
words; a recovery code works once. The code step is read in Chinese on a 390 px phone too, and
the admin console shows who has a second factor and resets Bob's, audited."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from desktop.demo.seed import DEMO_PASSWORD
from tests.helpers.server import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("totp")) as server:
        yield server


def password(page, server, username: str = "bob") -> None:
    page.goto(f"{server.base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()


def sign_out(page) -> None:
    page.get_by_test_id("btn-logout").click()
    page.wait_for_url("**/login")


def test_enrol_sign_in_with_a_code_refuse_a_wrong_one_and_spend_a_recovery_code(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    password(page, server)
    page.wait_for_url("**/desk")
    # From the desk it opens beside it (a new tab: the desk may be carrying a call).
    with context.expect_page() as opened:
        page.get_by_test_id("my-security").click()
    desk, page = page, opened.value
    page.wait_for_url("**/profile/security")
    desk.close()
    expect(page.get_by_test_id("security-status")).to_have_text("Off")
    page.get_by_test_id("security-setup").click()
    qr = page.get_by_test_id("enrol-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # a drawn QR code, not a broken image
    page.screenshot(path=str(tmp_path / "enrol-qr.png"), full_page=True)
    secret = page.get_by_test_id("enrol-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    page.get_by_test_id("enrol-code").fill(pyotp.TOTP(secret).now())
    page.get_by_test_id("enrol-submit").click()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    recovery = codes.nth(0).inner_text().strip()
    page.screenshot(path=str(tmp_path / "enrolled.png"), full_page=True)
    page.get_by_test_id("enrol-continue").click()
    expect(page.get_by_test_id("security-status")).to_contain_text("On")
    expect(page.get_by_test_id("security-status")).to_contain_text("10 recovery codes left.")
    assert secret not in page.content()  # never shown again

    sign_out(page)
    password(page, server)
    page.wait_for_url("**/login/code")
    expect(page.get_by_role("heading")).to_have_text("Two-step sign-in")
    page.get_by_test_id("login-code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_test_id("code-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text(
        "That code is not right; check your authenticator app and try again.")
    page.screenshot(path=str(tmp_path / "wrong-code.png"))
    # The code used to confirm the enrolment is spent: his phone's next one (within the window).
    page.get_by_test_id("login-code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_test_id("code-submit").click()
    page.wait_for_url("**/desk")
    expect(page.get_by_test_id("agent-name")).to_have_text("Bob Okafor")

    sign_out(page)
    password(page, server)
    page.wait_for_url("**/login/code")
    page.get_by_test_id("login-code").fill(recovery)
    page.get_by_test_id("code-submit").click()
    page.wait_for_url("**/desk")
    sign_out(page)
    password(page, server)
    page.wait_for_url("**/login/code")
    page.get_by_test_id("login-code").fill(recovery)
    page.get_by_test_id("code-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    assert "/login/code" in page.url

    # In Chinese, on a phone: the same step, in its words, without sideways scrolling.
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    password(mobile, server)
    mobile.wait_for_url("**/login/code")
    expect(mobile.get_by_role("heading")).to_have_text("两步登录")
    expect(mobile.get_by_text("身份验证器应用当前显示的 6 位数字，或您的一个恢复码。")).to_be_visible()
    mobile.get_by_test_id("login-code").fill(recovery)  # spent
    mobile.get_by_test_id("code-submit").click()
    expect(mobile.get_by_test_id("login-error")).to_have_text("验证码不正确，请查看身份验证器应用后重试。")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    expect(mobile.get_by_test_id("code-submit")).to_be_in_viewport()
    mobile.screenshot(path=str(tmp_path / "code-zh-CN-390.png"), full_page=True)
    phone.close()
    context.close()

    # The admin sees who has a second factor and resets Bob's (he lost his phone), audited.
    admin = browser.new_context(viewport={"width": 700, "height": 900})
    console = admin.new_page()
    password(console, server, "admin")
    console.wait_for_url("**/supervisor")
    console.goto(f"{server.base_url}/admin")
    row = console.get_by_test_id("user-bob")
    expect(row.get_by_test_id("user-second-factor").locator(".badge")).to_have_text("On")
    expect(console.get_by_test_id("user-alice").get_by_test_id("user-second-factor").locator(".badge")).to_have_text("Off")
    assert console.evaluate("document.documentElement.scrollWidth") <= 700  # the top bar wraps, not overflows
    row.get_by_test_id("user-reset-second-factor").click()
    expect(row.get_by_test_id("user-second-factor").locator(".badge")).to_have_text("Off")
    expect(console.get_by_test_id("audit-row").first).to_contain_text("reset the two-step sign-in of bob")
    console.screenshot(path=str(tmp_path / "admin-700.png"))
    admin.close()
    print(f"screenshots: {tmp_path}")
