"""Staff sign in with the company's OpenID provider, in Chromium.

The provider is real: the certified `oidc-provider` (npm) on 127.0.0.1, with its own login
form. Its directory says Olivia is in the agents' group with the sales skill, Sven in the
supervisors' and someone else in neither; otodesk makes their accounts on first sign-in, sends
each to their page, refuses the third, and never lets a password open an SSO account.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.helpers.server import ROOT, free_port, running_server

PROVIDER = ROOT / "tests" / "helpers" / "oidc_provider.mjs"


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node and the oidc-provider package (npm ci) are needed for the OpenID provider")
    provider_port, server_port = free_port(), free_port()
    client_id, client_secret = "otodesk", secrets.token_urlsafe(16)
    provider = subprocess.Popen([node, str(PROVIDER), str(provider_port), client_id, client_secret,
                                 f"http://127.0.0.1:{server_port}/login/sso/callback"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        said = [provider.stdout.readline().strip() for _ in range(1)]
        while said[-1] != "ready":  # it may warn first (it prefers a newer Node.js LTS)
            assert provider.poll() is None and len(said) < 20, "\n".join(said)
            said.append(provider.stdout.readline().strip())
        env = {"OTODESK_OIDC_ISSUER": f"http://127.0.0.1:{provider_port}", "OTODESK_OIDC_CLIENT_ID": client_id,
               "OTODESK_OIDC_CLIENT_SECRET": client_secret, "OTODESK_OIDC_NAME": "Example Corp account",
               "OTODESK_OIDC_ROLES": "otodesk-agents=agent,otodesk-supervisors=supervisor"}
        with running_server(tmp_path_factory.mktemp("sso"), port=server_port, env=env) as server:
            yield server
    finally:
        provider.terminate()
        provider.wait(10)


def sign_in_at_the_provider(browser, server, login: str):
    page = browser.new_context().new_page()
    page.goto(f"{server.base_url}/desk")
    sso_button = page.get_by_test_id("login-sso")
    expect(sso_button).to_have_text("Sign in with your Example Corp account")
    sso_button.click()
    page.locator("input[name=login]").fill(login)  # the provider's own form, on its own origin
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    return page


def test_an_agent_and_a_supervisor_sign_in_with_the_company_account(browser, sso):
    olivia = sign_in_at_the_provider(browser, sso, "olivia")
    olivia.wait_for_url(f"{sso.base_url}/desk")
    expect(olivia.get_by_test_id("agent-name")).to_have_text("Olivia Sso")
    olivia.get_by_test_id("btn-available").click()
    expect(olivia.get_by_test_id("desk-state")).to_have_attribute("data-state", "available")

    sven = sign_in_at_the_provider(browser, sso, "sven")
    sven.wait_for_url(f"{sso.base_url}/supervisor")
    expect(sven.get_by_test_id("agent-name")).to_have_text("Sven Sso")
    expect(sven.get_by_test_id("wall-queues")).to_contain_text("Sales")  # the wall works for him
    # The agent's socket and the supervisor's are real sessions: the wall sees Olivia available.
    expect(sven.locator("body")).to_contain_text("Olivia Sso")
    olivia.get_by_test_id("btn-away").click()
    for page in (olivia, sven):
        page.context.close()


def test_someone_outside_the_mapped_groups_is_refused_and_no_password_opens_an_sso_account(browser, sso):
    nobody = sign_in_at_the_provider(browser, sso, "nobody")
    nobody.wait_for_url(re.compile(r"/login\?sso_error=no_role"))
    expect(nobody.get_by_test_id("login-error")).to_contain_text("no access to otodesk")
    nobody.context.close()

    # Olivia's account exists now (the previous test); a password can't open it.
    page = browser.new_context().new_page()
    page.goto(f"{sso.base_url}/login")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", "!sso:")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong username or password")

    # A crafted link can't put its own words on the sign-in page: only known codes are shown.
    page.goto(f"{sso.base_url}/login?sso_error=Call+555-0100+to+verify+your+account")
    expect(page.get_by_test_id("login-error")).to_have_count(0)
    page.context.close()
