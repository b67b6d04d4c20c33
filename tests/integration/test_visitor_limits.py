"""What a stranger with visitor tokens can make the server hold (issue 9, items 13 and 22):
sockets per visitor, stored events per visitor, body sizes counted as read, and the
new-visitor budget per address (behind trusted proxies, refused requests free, with
when to retry). In-process, one app per test."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.settings import Settings

_ids = itertools.count(1)


@pytest.fixture
def client(tmp_path, request) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret", process_id="limits-test",
                        **getattr(request, "param", {}))
    with TestClient(create_app(settings)) as client:
        yield client


def hello(client: TestClient, stack: contextlib.ExitStack, token: str) -> tuple[object, dict]:
    socket = stack.enter_context(client.websocket_connect("/ws/customer"))
    socket.send_text(json.dumps({"type": "hello", "token": token, "url": "http://testserver/shop",
                                 "title": "Shop"}))
    return socket, socket.receive_json()


def command(socket, type_: str, **fields) -> dict:
    socket.send_text(json.dumps({"type": type_, "id": f"c{next(_ids)}", **fields}))
    while True:
        message = socket.receive_json()
        if message["type"] in ("ack", "error"):
            return message


def test_one_visitor_can_open_a_few_tabs_not_a_hundred_sockets(client: TestClient) -> None:
    token = client.post("/api/visitor", json={}).json()["token"]
    with contextlib.ExitStack() as stack:
        welcomes = [hello(client, stack, token)[1]["type"] for _ in range(8)]
        assert welcomes == ["welcome"] * 8
        _, refused = hello(client, stack, token)
        assert refused["code"] == "rate_limited" and refused["retry_after"] > 0
        assert "at most 8 open sockets" in refused["message"]
        # Another visitor is not affected.
        other = client.post("/api/visitor", json={}).json()["token"]
        assert hello(client, stack, other)[1]["type"] == "welcome"
    with contextlib.ExitStack() as stack:  # closed sockets free their places
        assert hello(client, stack, token)[1]["type"] == "welcome"


def test_a_visitors_stored_page_views_are_rate_limited_across_its_sockets(client: TestClient) -> None:
    token = client.post("/api/visitor", json={}).json()["token"]
    with contextlib.ExitStack() as stack:
        sockets = [hello(client, stack, token)[0] for _ in range(3)]  # 3 pages stored by hello
        answers = [command(sockets[n % 3], "page_view", url=f"http://testserver/p/{n}")
                   for n in range(80)]
        visitor_id = hello(client, stack, token)[1]["visitor_id"]  # over budget: opens, stores nothing
    acks = [a for a in answers if a["type"] == "ack"]
    refused = [a for a in answers if a["type"] == "error"]
    assert len(acks) == 57 and len(refused) == 23
    assert {r["code"] for r in refused} == {"rate_limited"} and all(0 < r["retry_after"] <= 60 for r in refused)
    trail = client.portal.call(functools.partial(client.app.state.repo.trail, visitor_id, limit=500))
    assert len(trail) == 60


def test_the_visitor_endpoint_counts_body_bytes_as_read_not_as_declared(client: TestClient) -> None:
    def chunked(total: int):
        chunk = b" " * 65536
        for _ in range(total // len(chunk)):
            yield chunk

    declared = client.post("/api/visitor", content=b"{" + b" " * 8192 + b"}",
                           headers={"content-type": "application/json"})
    assert declared.status_code == 413
    streamed = client.post("/api/visitor", content=chunked(8 * 1024 * 1024),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["code"] == "too_large"
    assert client.post("/api/visitor", json={}).status_code == 200
    # The sign-in form, which anyone may post, too.
    assert client.post("/login", content=chunked(8 * 1024 * 1024),
                       headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413


@pytest.mark.parametrize("client", [{"new_visitors_per_minute": 5, "trusted_proxies": ("127.0.0.1", "testclient")}],
                         indirect=True)
def test_new_visitors_are_counted_per_forwarded_address_and_refusals_cost_nothing(client: TestClient) -> None:
    office = {"X-Forwarded-For": "203.0.113.7"}
    answers = [client.post("/api/visitor", json={}, headers=office) for _ in range(12)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 7
    refused = answers[-1]
    wait = int(refused.headers["retry-after"])
    assert 0 < wait <= 60 and refused.json()["retry_after"] == wait
    assert "try again in" in refused.json()["message"]
    # Another customer behind the same proxy is another address.
    assert client.post("/api/visitor", json={}, headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    # A returning visitor's token is confirmed without spending the budget.
    token = answers[0].json()["token"]
    assert client.post("/api/visitor", json={"token": token}, headers=office).status_code == 200


@pytest.mark.parametrize("client", [{"new_visitors_per_minute": 3}], indirect=True)
def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(client: TestClient) -> None:
    spoofed = [client.post("/api/visitor", json={}, headers={"X-Forwarded-For": f"192.0.2.{n}"})
               for n in range(4)]
    assert [a.status_code for a in spoofed] == [200, 200, 200, 429]
