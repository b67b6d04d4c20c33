"""A staff member's language (issue 14, item 4): the staff pages say it in ``<html lang>`` (their
profile's, else their browser's Accept-Language, else English); the desk's menu saves it; the
sign-in page's errors carry a code the page's catalogue translates. In-process on SQLite; the
column itself on both databases."""

from __future__ import annotations

import functools
import re

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.settings import Settings
from desktop.auth.locales import from_accept_language, match_locale


def test_tags_and_accept_language_choose_a_supported_locale() -> None:
    assert [match_locale(tag) for tag in ("zh-CN", "zh", "zh-Hans-SG", "zh-TW", "zh-HK", "zh-Hant", "zh_mo",
                                          "en-GB", "EN", "fr", "", None)] == [
        "zh-CN", "zh-CN", "zh-CN", "zh-TW", "zh-TW", "zh-TW", "zh-TW", "en", "en", None, None, None]
    assert from_accept_language("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.7") == "zh-TW"
    assert from_accept_language("en;q=0.5, zh-CN;q=0.9") == "zh-CN"  # by q, not by order
    assert from_accept_language("zh-CN;q=0, en") == "en"  # q=0: not acceptable
    assert from_accept_language("de, *") is None
    assert from_accept_language("zh-CN;q=abc, en") == "en"  # a broken q counts as 0
    assert from_accept_language(None) is None


@pytest.fixture
def client(tmp_path) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret", process_id="locale-test")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        client.portal.call(functools.partial(client.app.state.repo.add_agent, "ada", "ada-password-1",
                                             display_name="Ada", role="agent"))
        yield client


def lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_the_page_speaks_the_profile_then_the_browser_then_english(client: TestClient) -> None:
    chinese = {"accept-language": "zh-TW,zh;q=0.9,en;q=0.5"}
    assert lang(client.get("/login").text) == "en"
    login = client.get("/login", headers=chinese)  # (its form's token is the one that counts now)
    assert lang(login.text) == "zh-TW" and 'class="i18n-pending"' in login.text
    signed = client.post("/login", data={"username": "ada", "password": "ada-password-1",
                                         "csrf_token": csrf(login.text), "next": "/desk"}, follow_redirects=False)
    assert signed.status_code == 303
    desk = client.get("/desk", headers=chinese)
    assert lang(desk.text) == "zh-TW"
    assert re.search(r'<option value=""\s+selected', desk.text)  # no choice yet: the browser's

    # The desk's menu: Simplified Chinese, whatever the browser says; back to the same page.
    saved = client.post("/profile/locale", data={"locale": "zh-CN", "csrf_token": csrf(desk.text), "next": "/desk"},
                        headers=chinese, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/desk"
    desk = client.get("/desk", headers=chinese)
    assert lang(desk.text) == "zh-CN" and re.search(r'<option value="zh-CN"[^>]*selected', desk.text)
    agent = client.portal.call(client.app.state.repo.get_agent_by_username, "ada")
    assert agent.locale == "zh-CN"

    # Cleared: the browser's again.
    client.post("/profile/locale", data={"locale": "", "csrf_token": csrf(desk.text), "next": "/desk"})
    assert lang(client.get("/desk", headers={"accept-language": "en-GB"}).text) == "en"


def test_the_menu_refuses_a_forged_form_an_unknown_language_and_a_foreign_redirect(client: TestClient) -> None:
    login = client.get("/login")
    client.post("/login", data={"username": "ada", "password": "ada-password-1", "csrf_token": csrf(login.text)})
    token = csrf(client.get("/desk").text)
    assert client.post("/profile/locale", data={"locale": "zh-CN", "csrf_token": "forged"}).status_code == 400
    refused = client.post("/profile/locale", data={"locale": "klingon", "csrf_token": token})
    assert refused.status_code == 422 and "zh-TW" in refused.text
    away = client.post("/profile/locale", data={"locale": "en", "csrf_token": token, "next": "//evil.example/x"},
                       follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/desk"
    anonymous = TestClient(client.app, base_url="http://127.0.0.1:8000")
    assert anonymous.post("/profile/locale", data={"locale": "en"}, follow_redirects=False).status_code == 303


def test_sign_in_errors_carry_their_code_for_the_catalogue(client: TestClient) -> None:
    login = client.get("/login", headers={"accept-language": "zh-CN"})
    wrong = client.post("/login", data={"username": "ada", "password": "nope", "csrf_token": csrf(login.text)},
                        headers={"accept-language": "zh-CN"})
    assert wrong.status_code == 401 and lang(wrong.text) == "zh-CN"
    assert 'data-i18n="login.error.wrong"' in wrong.text and "Wrong username or password." in wrong.text
    expired = client.post("/login", data={"username": "ada", "password": "nope", "csrf_token": "stale"})
    assert 'data-i18n="login.error.session_expired"' in expired.text
    sso = client.get("/login?sso_error=disabled")
    assert 'data-i18n="login.error.sso_disabled"' in sso.text


@pytest.mark.asyncio
async def test_the_locale_column_on_each_database(repo) -> None:
    agent = await repo.add_agent("lin", "lin-password-1", display_name="Lin", role="agent")
    assert agent.locale is None
    await repo.set_agent_locale(agent.id, "zh-TW")
    assert (await repo.get_agent(agent.id)).locale == "zh-TW"
    changed, _ = await repo.admin_change_user(agent.id, actor="test", action="user.update", locale="")
    assert changed.locale is None


def test_an_admin_sets_a_members_language_through_the_api_and_it_is_audited(client: TestClient) -> None:
    repo = client.app.state.repo
    client.portal.call(functools.partial(repo.add_agent, "root", "root-password-1", display_name="Root", role="admin"))
    ada = client.portal.call(repo.get_agent_by_username, "ada")
    login = client.get("/login")
    client.post("/login", data={"username": "root", "password": "root-password-1", "csrf_token": csrf(login.text)})
    token = {"x-csrf-token": csrf(client.get("/admin").text)}
    changed = client.patch(f"/api/v1/admin/users/{ada.id}", json={"locale": "zh-TW"}, headers=token)
    assert changed.status_code == 200 and changed.json()["locale"] == "zh-TW"
    made = client.post("/api/v1/admin/users", headers=token, json={
        "username": "lin", "password": "lin-password-1", "display_name": "Lin", "locale": "zh-CN"})
    assert made.status_code == 201 and made.json()["locale"] == "zh-CN"
    refused = client.patch(f"/api/v1/admin/users/{ada.id}", json={"locale": "fr"}, headers=token)
    assert refused.status_code == 422
    audit = client.get("/api/v1/admin/audit", params={"target": f"user:{ada.id}"}).json()["items"]
    assert (audit[0]["before"]["locale"], audit[0]["after"]["locale"]) == (None, "zh-TW")
    assert client.patch(f"/api/v1/admin/users/{ada.id}", json={"locale": ""}, headers=token).json()["locale"] is None

    # Ada's pages speak it whatever her browser says.
    client.post("/logout", data={"csrf_token": token["x-csrf-token"]})
    client.patch(f"/api/v1/admin/users/{ada.id}", json={"locale": "zh-TW"}, headers=token)  # signed out: refused
    assert client.portal.call(repo.get_agent, ada.id).locale is None
    client.portal.call(repo.set_agent_locale, ada.id, "zh-TW")
    login = client.get("/login")
    client.post("/login", data={"username": "ada", "password": "ada-password-1", "csrf_token": csrf(login.text)})
    assert lang(client.get("/desk", headers={"accept-language": "en"}).text) == "zh-TW"
