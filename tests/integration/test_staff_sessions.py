"""Staff sessions (issue 9, item 20): sign-out is final, sign-in is throttled, staff pages
can't be framed. In-process on SQLite; the session store on both databases."""

from __future__ import annotations

import functools
import json

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from desktop.app import create_app
from desktop.settings import Settings


@pytest.fixture
def client(tmp_path, request) -> TestClient:
    overrides = getattr(request, "param", {})
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret", process_id="staff-test",
                        **overrides)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        repo = client.app.state.repo
        for name in ("ada", "bob"):
            client.portal.call(functools.partial(repo.add_agent, name, f"{name}-password-1",
                                                 display_name=name.title(), role="agent"))
        yield client


def sign_in(client: TestClient, username: str, password: str):
    form = client.get("/login").text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf, "next": "/desk"}, follow_redirects=False)


def agent_socket_answer(client: TestClient) -> dict:
    # The test client's websockets don't send its cookie jar: send the cookie by hand.
    cookie = f"otodesk_session={client.cookies.get('otodesk_session')}"
    with client.websocket_connect("/ws/agent", headers={"cookie": cookie}) as socket:
        socket.send_text(json.dumps({"type": "hello"}))
        return socket.receive_json()


def test_sign_out_ends_the_session_on_the_desk_the_rest_api_and_sockets(client: TestClient) -> None:
    assert sign_in(client, "ada", "ada-password-1").status_code == 303
    cookie = client.cookies.get("otodesk_session")
    desk = client.get("/desk")
    assert desk.status_code == 200
    assert client.get("/api/v1/customers").status_code == 200
    assert agent_socket_answer(client)["type"] == "welcome"
    csrf = desk.text.split('name="csrf_token" value="')[1].split('"')[0]
    with client.websocket_connect("/ws/agent", headers={"cookie": f"otodesk_session={cookie}"}) as other_tab:
        other_tab.send_text(json.dumps({"type": "hello"}))
        assert other_tab.receive_json()["type"] == "welcome"
        assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        # A desk still open in another tab is closed, not left receiving the customer's events.
        while (message := other_tab.receive_json())["type"] != "error":
            pass
        assert message["code"] == "unauthorized" and message["message"] == "signed out"
        with pytest.raises(WebSocketDisconnect) as closed:
            other_tab.receive_json()
        assert closed.value.code == 4401

    # The old cookie, replayed as a stolen or cached copy would be.
    client.cookies.set("otodesk_session", cookie)
    assert client.get("/desk", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/v1/customers").status_code == 401
    refused = agent_socket_answer(client)
    assert refused["type"] == "error" and refused["code"] == "unauthorized"
    # Signing in again opens a new session; the old cookie stays dead.
    assert sign_in(client, "ada", "ada-password-1").status_code == 303
    assert client.get("/desk").status_code == 200


def test_failed_sign_ins_are_throttled_per_account_and_say_when_to_retry(client: TestClient) -> None:
    answers = [sign_in(client, "ada", f"wrong-{n}").status_code for n in range(25)]
    assert answers[:10] == [401] * 10 and set(answers[10:]) == {429}
    right = sign_in(client, "ada", "ada-password-1")
    assert right.status_code == 429 and "otodesk_session" not in right.cookies
    assert 0 < int(right.headers["retry-after"]) <= 900
    assert "Too many failed sign-ins for this account; try again in 15 minutes." in right.text
    # Another account from the same address is not locked by Ada's.
    assert sign_in(client, "bob", "bob-password-1").status_code == 303


@pytest.mark.parametrize("client", [{"login_failures_per_address": 4}], indirect=True)
def test_failed_sign_ins_are_throttled_per_address_and_successes_do_not_count(client: TestClient) -> None:
    for _ in range(6):  # right passwords cost no budget
        assert sign_in(client, "bob", "bob-password-1").status_code == 303
    answers = [sign_in(client, f"nobody-{n}", "guess").status_code for n in range(5)]
    assert answers == [401] * 4 + [429]
    refused = sign_in(client, "bob", "bob-password-1")
    assert refused.status_code == 429 and "from this address" in refused.text


def test_staff_pages_refuse_framing_and_run_only_their_own_scripts(client: TestClient) -> None:
    sign_in(client, "ada", "ada-password-1")
    for path in ("/login", "/desk", "/desk/customers", "/api/v1/customers"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == "DENY", path
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
    # The shop (a site that embeds the widget) is the site's own business.
    assert "x-frame-options" not in client.get("/").headers


async def test_the_session_store_expires_and_revokes(repo) -> None:
    agent = await repo.add_agent("cy", "cy-password-1", display_name="Cy")
    await repo.open_staff_session("sid-1", agent.id, now=1000.0, max_age=60.0)
    await repo.open_staff_session("sid-2", agent.id, now=1000.0, max_age=60.0)
    assert await repo.staff_session_agent("sid-1", now=1059.0) == agent.id
    assert await repo.staff_session_agent("sid-1", now=1060.0) is None  # expired
    assert await repo.staff_session_agent("nope", now=1000.0) is None
    await repo.revoke_staff_session("sid-1", now=1001.0)
    assert await repo.staff_session_agent("sid-1", now=1002.0) is None
    assert await repo.staff_session_agent("sid-2", now=1002.0) == agent.id
    assert await repo.revoke_agent_sessions(agent.id, now=1003.0) == 1
    assert await repo.staff_session_agent("sid-2", now=1004.0) is None
