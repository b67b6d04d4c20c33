"""Two-step sign-in (issue 15, item 5) on SQLite and PostgreSQL, in-process: a member enrols
through the API, signs in with password + code (replay refused, recovery codes once), wrong codes
count in the sign-in throttle, the half-signed-in browser reaches nothing, an admin sees and
resets factors (audited), a role that must enrol is sent to enrolment, SSO accounts are left to
their provider, and the secret is never stored or answered in clear once confirmed."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import subprocess
import sys
import time

import pyotp
import pytest
from sqlalchemy import delete, select
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.repository._store import AGENTS, STAFF_RECOVERY_CODES, STAFF_TOTP
from desktop.settings import Settings

ME = "/api/v1/me/second-factor"


@pytest.fixture
def client(database_url: str, tmp_path, request) -> TestClient:
    overrides = getattr(request, "param", {})
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url, secret_key="test-secret",
                        process_id="totp-test", **overrides)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        for name, role in (("ada", "agent"), ("root", "admin")):
            call(client, client.app.state.repo.add_agent, name, f"{name}-password-1", display_name=name.title(),
                 role=role)
        yield client


def call(client: TestClient, fn, *args, **kwargs):
    return client.portal.call(functools.partial(fn, *args, **kwargs))


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def password_step(client: TestClient, username: str):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": f"{username}-password-1",
                                       "csrf_token": form_token(page.text), "next": "/desk"}, follow_redirects=False)


def code_step(client: TestClient, code: str):
    page = client.get("/login/code")
    assert page.status_code == 200, page.text
    return client.post("/login/code", data={"code": code, "csrf_token": form_token(page.text)},
                       follow_redirects=False)


def api_headers(client: TestClient) -> dict[str, str]:
    page = client.get("/profile/security")
    assert page.status_code == 200
    return {"x-csrf-token": re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)}


def sign_out(client: TestClient) -> None:
    page = client.get("/profile/security")
    client.post("/logout", data={"csrf_token": form_token(page.text)})
    client.cookies.clear()


def enrol(client: TestClient) -> tuple[str, list[str]]:
    """As the signed-in member: set up, confirm with the app's code; (secret, recovery codes)."""
    headers = api_headers(client)
    assert client.post(f"{ME}/setup", headers={}).status_code == 403  # a change needs the page's token
    setup = client.post(f"{ME}/setup", headers=headers)
    assert setup.status_code == 200 and setup.headers["cache-control"] == "no-store"
    secret = setup.json()["secret"]
    assert setup.json()["qr"].startswith("data:image/svg+xml")
    assert pyotp.parse_uri(setup.json()["uri"]).secret == secret
    wrong = client.post(f"{ME}/confirm", headers=headers, json={"code": other_code(secret)})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_code"
    done = client.post(f"{ME}/confirm", headers=headers, json={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.text
    return secret, done.json()["recovery_codes"]


def other_code(secret: str) -> str:
    """A six-digit code that is none of the accepted window's."""
    now = time.time()
    window = {pyotp.TOTP(secret).at(now + offset) for offset in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in window)


def socket_answer(client: TestClient) -> dict:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    with client.websocket_connect("/ws/agent", headers={"cookie": cookie}) as socket:
        socket.send_text(json.dumps({"type": "hello"}))
        return socket.receive_json()


def test_enrol_then_sign_in_with_a_code_once_and_recovery_codes_once(client: TestClient) -> None:
    assert password_step(client, "ada").headers["location"] == "/desk"  # no factor yet: one step
    secret, recovery = enrol(client)
    assert len(recovery) == 10 == len(set(recovery))
    status = client.get(ME)
    assert status.json() == {"enrolled": True, "enrolled_at": status.json()["enrolled_at"],
                             "recovery_codes_left": 10, "sso": False, "required": False}
    assert secret not in status.text and secret not in client.get("/profile/security").text
    assert client.post(f"{ME}/setup", headers=api_headers(client)).json()["error"]["code"] == "already_enrolled"

    # At rest: the secret sealed, the recovery codes as digests.
    rows = call(client, client.app.state.repo.database.read, lambda conn: (
        conn.execute(select(STAFF_TOTP)).all(), conn.execute(select(STAFF_RECOVERY_CODES.c.digest)).scalars().all()))
    (factor,), digests = rows
    assert factor.secret and secret not in factor.secret and factor.pending is None
    assert len(digests) == 10 and not {c.replace("-", "") for c in recovery} & set(digests)

    sign_out(client)
    half = password_step(client, "ada")
    assert half.status_code == 303 and half.headers["location"] == "/login/code"
    assert "otodesk_session" not in half.cookies and "otodesk_second_step" in half.cookies
    # Half signed in: no staff page, API or socket.
    assert client.get("/desk", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get(ME).status_code == 401
    assert socket_answer(client)["code"] == "unauthorized"

    # The code that confirmed the enrolment was spent then: a replay is refused, and says so.
    replay = code_step(client, pyotp.TOTP(secret).now())
    assert replay.status_code == 401 and "already used" in replay.text and 'data-i18n="login.error.code_used"' in replay.text
    wrong = code_step(client, other_code(secret))
    assert wrong.status_code == 401 and 'data-i18n="login.error.wrong_code"' in wrong.text
    assert "otodesk_session" not in client.cookies
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the app's next code: within the drift window
    signed = code_step(client, next_code)
    assert signed.status_code == 303 and signed.headers["location"] == "/desk"
    assert client.get("/desk").status_code == 200 and socket_answer(client)["type"] == "welcome"

    sign_out(client)
    password_step(client, "ada")
    assert code_step(client, next_code).status_code == 401  # accepted once, never again
    used = code_step(client, recovery[3].upper().replace("-", " "))  # typed loosely
    assert used.status_code == 303
    assert client.get(ME).json()["recovery_codes_left"] == 9
    sign_out(client)
    password_step(client, "ada")
    again = code_step(client, recovery[3])
    assert again.status_code == 401 and 'data-i18n="login.error.wrong_code"' in again.text
    # Straight to the second step without a password: back to the start.
    client.cookies.clear()
    expired = client.get("/login/code")
    assert expired.status_code == 401 and 'data-i18n="login.error.step_expired"' in expired.text


@pytest.mark.parametrize("client", [{"login_failures_per_account": 3}], indirect=True)
def test_wrong_codes_count_in_the_sign_in_throttle(client: TestClient) -> None:
    password_step(client, "ada")
    secret, _ = enrol(client)
    sign_out(client)
    assert password_step(client, "ada").headers["location"] == "/login/code"  # a right password costs nothing
    answers = [code_step(client, other_code(secret)).status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    refused = code_step(client, pyotp.TOTP(secret).at(time.time() + 30))  # even the right code, now
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 900
    assert 'data-i18n="login.error.throttled"' in refused.text and "otodesk_session" not in client.cookies
    assert password_step(client, "ada").status_code == 429  # the same budget as passwords


def test_an_admin_sees_and_resets_second_factors_audited(client: TestClient) -> None:
    password_step(client, "ada")
    enrol(client)
    ada_id = client.get(ME).status_code and call(client, client.app.state.repo.get_agent_by_username, "ada").id
    refused = client.post(f"/api/v1/admin/users/{ada_id}/second-factor/reset", headers=api_headers(client))
    assert refused.status_code == 403  # not an admin
    sign_out(client)
    password_step(client, "root")
    admin = api_headers(client)
    users = {u["username"]: u for u in client.get("/api/v1/admin/users").json()["items"]}
    assert users["ada"]["second_factor"] is True and users["root"]["second_factor"] is False
    assert all("secret" not in json.dumps(u) for u in users.values())
    reset = client.post(f"/api/v1/admin/users/{ada_id}/second-factor/reset", headers=admin)
    assert reset.status_code == 200 and reset.json()["second_factor"] is False
    again = client.post(f"/api/v1/admin/users/{ada_id}/second-factor/reset", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_enrolled"
    audit = client.get(f"/api/v1/admin/audit?target=user:{ada_id}").json()["items"]
    assert [row["action"] for row in audit] == ["user.second_factor_reset", "user.second_factor_on"]
    assert audit[0]["actor_name"] == "root" and audit[1]["actor_name"] == "ada"
    assert audit[0]["before"]["second_factor"] is True and audit[0]["after"]["second_factor"] is False
    sign_out(client)
    assert password_step(client, "ada").headers["location"] == "/desk"  # the password alone again


def test_the_member_turns_it_off_with_a_code_or_the_password(client: TestClient) -> None:
    password_step(client, "ada")
    secret, recovery = enrol(client)
    headers = api_headers(client)
    assert client.post(f"{ME}/disable", headers=headers, json={}).json()["error"]["code"] == "invalid"
    wrong = client.post(f"{ME}/disable", headers=headers, json={"password": "not-it"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_password"
    assert client.post(f"{ME}/disable", headers=headers, json={"code": other_code(secret)}).json()["error"]["code"] \
        == "wrong_code"
    off = client.post(f"{ME}/disable", headers=headers, json={"code": recovery[0]})
    assert off.status_code == 200 and off.json()["enrolled"] is False
    assert call(client, client.app.state.repo.second_factor,
                call(client, client.app.state.repo.get_agent_by_username, "ada").id) is None
    assert client.post(f"{ME}/disable", headers=headers, json={"password": "ada-password-1"}).json()["error"][
        "code"] == "not_enrolled"
    # On again, off with the password this time.
    enrol(client)
    assert client.post(f"{ME}/disable", headers=headers, json={"password": "ada-password-1"}).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client: TestClient) -> None:
    password_step(client, "ada")
    secret, old = enrol(client)
    headers = api_headers(client)
    not_a_code = client.post(f"{ME}/recovery-codes", headers=headers, json={"code": old[0]})
    assert not_a_code.status_code == 422 and not_a_code.json()["error"]["code"] == "wrong_code"
    made = client.post(f"{ME}/recovery-codes", headers=headers, json={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    new = made.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old) and made.json()["recovery_codes_left"] == 10
    stale = client.post(f"{ME}/disable", headers=headers, json={"code": old[1]})
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "wrong_code"
    assert client.post(f"{ME}/disable", headers=headers, json={"code": new[1]}).status_code == 200


@pytest.mark.parametrize("client", [{"require_totp": ("agent",)}], indirect=True)
def test_a_role_that_must_enrol_is_sent_to_enrolment_before_any_session(client: TestClient) -> None:
    half = password_step(client, "ada")
    assert half.headers["location"] == "/login/enrol" and "otodesk_session" not in half.cookies
    first = client.get("/login/enrol")
    shown = re.search(r'data-testid="enrol-secret">([A-Z2-7 ]+)<', first.text).group(1)
    page = client.get("/login/enrol")  # a reload shows the same key (the app may have it already)
    assert shown in page.text and 'src="data:image/svg+xml' in page.text
    secret = shown.replace(" ", "")
    assert client.get("/desk", follow_redirects=False).headers["location"].startswith("/login")
    wrong = client.post("/login/enrol", data={"code": other_code(secret), "csrf_token": form_token(page.text)})
    assert wrong.status_code == 422 and 'data-i18n="login.error.wrong_code"' in wrong.text
    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": form_token(wrong.text)})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    codes = re.findall(r"<li><code>([0-9a-z]{5}-[0-9a-z]{5})</code></li>", done.text)
    assert len(codes) == 10 and "otodesk_session" in done.cookies
    assert client.get("/desk").status_code == 200
    refused = client.post(f"{ME}/disable", headers=api_headers(client), json={"password": "ada-password-1"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "totp_required"
    sign_out(client)
    assert password_step(client, "ada").headers["location"] == "/login/code"
    # The admin's role is not required: it signs in with the password.
    client.cookies.clear()
    assert password_step(client, "root").headers["location"] == "/supervisor"


@pytest.mark.parametrize("client", [{"require_totp": ("agent",)}], indirect=True)
def test_sso_accounts_leave_the_second_step_to_their_provider(client: TestClient) -> None:
    state = client.app.state
    agent = call(client, state.repo.sign_in_by_sso, "sol", "https://idp.example#sol", display_name="Sol",
                 role="agent", skills=[])
    assert agent.sso
    call(client, state.repo.open_staff_session, "sol-session", agent.id, now=time.time(), max_age=600)
    client.cookies.set("otodesk_session", state.signer.session_token(agent.id, "sol-session"))
    assert client.get(ME).json() == {"enrolled": False, "enrolled_at": None, "recovery_codes_left": 0,
                                     "sso": True, "required": False}
    refused = client.post(f"{ME}/setup", headers=api_headers(client))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sso_account"


async def test_the_factor_and_its_codes_go_with_the_account(repo) -> None:
    agent = await repo.add_agent("cy", "cy-password-1", display_name="Cy")
    await repo.set_pending_totp(agent.id, "sealed-1", now=10.0)
    assert await repo.confirm_totp(agent.id, pending="sealed-1", step=5, digests=["d1", "d2"], actor="t", now=11.0)
    assert not await repo.confirm_totp(agent.id, pending="sealed-1", step=6, digests=[], actor="t", now=12.0)
    assert [await repo.use_totp_step(agent.id, s) for s in (5, 4, 6, 6)] == [False, False, True, False]
    assert [await repo.use_recovery_code(agent.id, d) for d in ("d1", "d1", "zz")] == [True, False, False]
    assert (await repo.second_factor(agent.id)).recovery_left == 1
    assert await repo.second_factors_enrolled() == {agent.id: 11.0}
    await repo.database.write(lambda conn: conn.execute(delete(AGENTS).where(AGENTS.c.id == agent.id)))
    left = await repo.database.read(lambda conn: (conn.execute(select(STAFF_TOTP)).all(),
                                                  conn.execute(select(STAFF_RECOVERY_CODES)).all()))
    assert left == ([], [])


async def test_the_command_line_resets_a_locked_out_admins_factor(repo, database_url, tmp_path) -> None:
    boss = await repo.add_agent("boss", "boss-password-1", display_name="Boss", role="admin")
    await repo.set_pending_totp(boss.id, "sealed", now=1.0)
    assert await repo.confirm_totp(boss.id, pending="sealed", step=1, digests=["d"], actor="t", now=2.0)
    env = {**os.environ, "OTODESK_DATABASE_URL": database_url, "OTODESK_VAR_DIR": str(tmp_path / "cli")}

    def reset(name: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "desktop.cli", "user", "reset-2fa", name], env=env,
                              capture_output=True, text=True, timeout=60)

    done = await asyncio.to_thread(reset, "boss")
    assert done.returncode == 0, done.stderr
    assert "reset" in done.stdout and await repo.second_factor(boss.id) is None
    audit = await repo.admin_audit(target=f"user:{boss.id}")
    assert [(row["action"], row["actor"]) for row in audit][0] == ("user.second_factor_reset", "cli")
    again = await asyncio.to_thread(reset, "boss")
    assert again.returncode == 1 and "no two-step sign-in" in again.stderr
    assert (await asyncio.to_thread(reset, "nobody")).returncode == 1


def test_the_code_step_speaks_the_language_the_member_chose(client: TestClient) -> None:
    """Chosen in the staff menu (agents.locale), not the browser's: the step between the password
    and the desk was in English while the desk after it was in Chinese (a tour found it)."""
    password_step(client, "ada")
    enrol(client)
    ada = call(client, client.app.state.repo.get_agent_by_username, "ada")
    call(client, client.app.state.repo.set_agent_locale, ada.id, "zh-CN")
    sign_out(client)
    password_step(client, "ada")
    page = client.get("/login/code", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="zh-CN"' in page.text
