"""Callback request limits (issue 9, items 11 and 21): a cancelled request counts fairly and
a refusal says when to ask again; phone requests are limited per client address and for
the whole site, not only per number and per (freely minted) visitor. In-process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import time

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.repository import Repository
from desktop.settings import Settings
from tests.helpers.server import CONSENT

_ids = itertools.count(1)


@pytest.fixture
def client(tmp_path, request) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret", process_id="callme-test",
                        trusted_proxies=("testclient",), **getattr(request, "param", {}))
    settings.var_dir.mkdir()

    async def queue() -> None:  # before the router starts: it loads the queues as it leads
        async with Repository.open(settings.effective_database_url, upgrade=True) as repo:
            await repo.upsert_queue("support", title="Support", skills=["support"], service_level_target=60)

    asyncio.run(queue())
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while not client.get("/healthz").json()["leader"]:  # the router must know the requests
            assert time.monotonic() < deadline, "no router leader"
            time.sleep(0.02)
        yield client


@contextlib.contextmanager
def customer(client: TestClient, address: str = "203.0.113.7"):
    headers = {"X-Forwarded-For": address}
    token = client.post("/api/visitor", json={}, headers=headers).json()["token"]
    with client.websocket_connect("/ws/customer", headers=headers) as socket:
        socket.send_text(json.dumps({"type": "hello", "token": token}))
        assert socket.receive_json()["type"] == "welcome"
        yield socket


def command(socket, type_: str, **fields) -> dict:
    socket.send_text(json.dumps({"type": type_, "id": f"c{next(_ids)}", **fields}))
    while True:
        message = socket.receive_json()
        if message["type"] in ("ack", "error"):
            return message


def call_me(socket, **fields) -> dict:
    return command(socket, "call_me", name="Mia", queue="support", **fields)


def test_cancelled_requests_do_not_stop_a_customer_asking_again_and_refusals_say_when(client) -> None:
    with customer(client) as socket:
        # Requests cancelled before anyone called (by mistake, the wrong time...) don't count:
        # the old limit refused the fourth with "please wait" and no time.
        for _ in range(6):
            ack = call_me(socket)
            assert ack["type"] == "ack", ack
            cancelled = command(socket, "cancel", callback_id=ack["callback_id"])
            assert cancelled["type"] == "ack", cancelled
        # Cycling request/cancel is still bounded (2 x 3 attempts), and the refusal says when.
        refused = call_me(socket)
        assert refused["type"] == "error" and refused["code"] == "too_many_requests"
        assert 590 <= refused["retry_after"] <= 600
        assert refused["message"] == ("You've made 6 callback requests in the last 10 minutes. "
                                      "You can ask again in 10 minutes.")


def test_one_address_cannot_queue_phone_callbacks_to_many_numbers(client: TestClient) -> None:
    answers = []
    for n in range(12):
        with customer(client) as socket:  # a fresh token each time, as a script would mint
            answers.append(call_me(socket, channel="phone", consent=CONSENT, phone=f"+1 202 555 01{n:02d}"))
    assert [a["type"] for a in answers] == ["ack"] * 10 + ["error"] * 2
    assert answers[-1]["code"] == "too_many_requests" and answers[-1]["retry_after"] > 0
    assert "from your network" in answers[-1]["message"]
    # Browser callbacks from that network, and phone callbacks from another, still go through.
    with customer(client) as socket:
        assert call_me(socket)["type"] == "ack"
    with customer(client, "198.51.100.9") as socket:
        assert call_me(socket, channel="phone", consent=CONSENT, phone="+1 202 555 0199")["type"] == "ack"


@pytest.mark.parametrize("client", [{"phone_callbacks_per_site": 3}], indirect=True)
def test_the_whole_site_has_a_phone_callback_budget(client: TestClient) -> None:
    answers = []
    for n in range(4):
        with customer(client, f"198.51.100.{n + 1}") as socket:
            answers.append(call_me(socket, channel="phone", consent=CONSENT, phone=f"+1 202 555 01{n:02d}"))
    assert [a["type"] for a in answers] == ["ack"] * 3 + ["error"]
    assert "more phone callback requests than we can take" in answers[-1]["message"]


def test_a_callback_is_routed_with_the_analytics_tier_once_a_run_scored_the_customer(client) -> None:
    repo = client.app.state.repo
    run = lambda fn, *args, **kwargs: client.portal.call(functools.partial(fn, *args, **kwargs))  # noqa: E731
    with customer(client) as socket:
        ack = call_me(socket)
        first = run(repo.get_callback, ack["callback_id"])
        assert first.tier == "standard"  # no run, no spend
        assert command(socket, "cancel", callback_id=ack["callback_id"])["type"] == "ack"
        run_id = run(repo.start_analytics_run, now=time.time(), model_version="1", config={})
        run(repo.finish_analytics_run, run_id, now=time.time(), summary={}, rules=[],
            scores=[{"customer_id": first.customer_id, "tier": "gold", "at_risk": False, "data": {}}])
        ack = call_me(socket)
        assert run(repo.get_callback, ack["callback_id"]).tier == "gold"
