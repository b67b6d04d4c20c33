"""Webhooks through a real server and a real receiver (issue 15): a receiver that fails the
first two deliveries and is down across a restart of the server gets every event exactly once
after dedupe by id, in order per callback, each with a valid signature; an erased customer's
pending deliveries go out without their personal data. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from desktop.demo.seed import DEMO_PASSWORD
from desktop.webhooks.signing import HEADER, verify
from signaling.client import AgentBot, CustomerBot
from tests.helpers.server import CONSENT, ServerProcess, free_port
from tests.integration.test_admin_api import staff_client

ENV = {"OTODESK_WEBHOOK_ALLOW_PRIVATE": "true", "OTODESK_WEBHOOK_BACKOFF": "0.2",
       "OTODESK_WEBHOOK_BACKOFF_CAP": "1", "OTODESK_WEBHOOK_POLL": "0.1", "OTODESK_WEBHOOK_MAX_ATTEMPTS": "200",
       "OTODESK_OFFER_TIMEOUT": "20", "OTODESK_WRAPUP_TIMEOUT": "60", "OTODESK_CALLME_PER_ADDRESS": "1000"}


class Receiver:
    """A CRM's endpoint on 127.0.0.1: answers 500 to its first ``fail_first`` requests, then 200."""

    def __init__(self, port: int, *, fail_first: int) -> None:
        self.port, self.fail_first = port, fail_first
        self.url = f"http://127.0.0.1:{port}/hooks"
        #: (time received, headers, body, status answered), in arrival order.
        self.requests: list[tuple[float, dict[str, str], bytes, int]] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        status = 500 if len(self.requests) < self.fail_first else 200
        self.requests.append((time.time(), dict(request.headers), body, status))
        return Response(status_code=status)

    async def start(self) -> None:
        config = uvicorn.Config(Starlette(routes=[Route("/hooks", self._hook, methods=["POST"])]),
                                host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            await self._task
            self._server = None

    def accepted(self) -> list[dict]:
        """The payloads answered 200, first reception of each event id only (the dedupe)."""
        seen, events = set(), []
        for _, _, body, status in self.requests:
            event = json.loads(body)
            if status == 200 and event["id"] not in seen:
                seen.add(event["id"])
                events.append(event)
        return events


async def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


async def _phone_callback(base_url: str, alice: AgentBot, *, wrap: bool) -> str:
    customer = await CustomerBot.start(base_url)
    try:
        ack = await customer.command("call_me", name="Ann Example", queue="sales", channel="phone",
                                     phone="(415) 555-2671", topic="Kettle", consent=CONSENT)
        callback_id = ack["callback_id"]
        if not wrap:
            await customer.command("cancel", callback_id=callback_id)
            return callback_id
        offer = (await alice.wait_for("offer", lambda m: m["offer"]["callback_id"] == callback_id))["offer"]
        await alice.command("accept", offer_id=offer["offer_id"])
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected")
        await alice.command("end", callback_id=callback_id)
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
        await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved", note="Refund sent")
        return callback_id
    finally:
        await customer.close()


async def test_every_event_once_in_order_signed_across_failures_and_a_restart(database_url, tmp_path):
    receiver = Receiver(free_port(), fail_first=2)
    await receiver.start()
    env = {**ENV, "OTODESK_DATABASE_URL": database_url}
    server = ServerProcess(tmp_path / "var", env=env).start()
    admin = alice = None
    try:
        admin = await staff_client(server.base_url, "admin")
        refused = await admin.post("/api/v1/admin/webhooks", json={"url": "ftp://127.0.0.1/x", "events": ["*"]})
        assert refused.status_code == 422 and "http" in refused.json()["error"]["message"]
        made = await admin.post("/api/v1/admin/webhooks", json={"url": receiver.url, "events": ["*"]})
        assert made.status_code == 201, made.text
        webhook_id, secret = made.json()["id"], made.json()["secret"]
        listed = (await admin.get("/api/v1/admin/webhooks")).json()["items"]
        assert [w["id"] for w in listed] == [webhook_id] and "secret" not in listed[0]  # shown once only

        alice = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
        await alice.command("set_state", state="available")
        answered = await _phone_callback(server.base_url, alice, wrap=True)
        # The first two deliveries failed (500) and were retried: the answered call's four events arrive.
        await _wait(lambda: _async(sum(1 for e in receiver.accepted() if e["data"].get("callback_id") == answered) == 4),
                    60, "the answered call's events")
        await receiver.stop()

        # Down: a cancelled callback, and a customer made then erased, all queued meanwhile...
        cancelled = await _phone_callback(server.base_url, alice, wrap=False)
        erin = await admin.post("/api/v1/customers", json={"name": "Erin Erasable", "email": "erin@example.org",
                                                           "phone": "+14155550199"})
        assert erin.status_code == 201, erin.text
        await alice.command("set_state", state="away", reason="restart")
        await alice.close()
        alice = None
        await admin.aclose()
        admin = None
        server.stop()  # ...and the server restarts while the receiver is still down
        server = ServerProcess(tmp_path / "var", env=env, port=server.port, seed=False, log_name="again").start()
        admin = await staff_client(server.base_url, "admin")
        erased = await admin.delete(f"/api/v1/customers/{erin.json()['id']}")
        assert erased.status_code in (200, 204), erased.text
        await asyncio.sleep(1.0)  # a few more refused attempts
        await receiver.start()

        async def all_delivered():
            log = (await admin.get(f"/api/v1/admin/webhooks/{webhook_id}/deliveries?limit=500")).json()["items"]
            return log if log and all(d["state"] == "delivered" for d in log) else None

        log = await _wait(all_delivered, 60, "every delivery delivered")
    finally:
        if alice is not None:
            await alice.close()
        if admin is not None:
            await admin.aclose()
        server.stop()
        await receiver.stop()

    # Every request carries a valid signature of its body, made when it was sent.
    for received_at, headers, body, _ in receiver.requests:
        verify(secret, headers[HEADER.lower()], body, now=received_at, tolerance=5)
        assert headers["otodesk-event-id"] == json.loads(body)["id"]
    # Exactly once after dedupe by id: what was received is what was queued, nothing more or less.
    events = receiver.accepted()
    assert sorted(e["id"] for e in events) == sorted(d["event_id"] for d in log)
    assert [s for *_, s in receiver.requests[:2]] == [500, 500]
    # In order per callback; n+1 never even sent before n was answered 200.
    by_callback = defaultdict(list)
    for event in events:
        if "callback_id" in event["data"]:
            by_callback[event["data"]["callback_id"]].append(event["type"])
    assert by_callback[answered] == ["callback.requested", "callback.connected", "callback.ended",
                                     "callback.wrapped_up"]
    assert by_callback[cancelled] == ["callback.requested", "callback.ended"]
    acked: set[str] = set()
    order = {cb: [e["id"] for e in events if e["data"].get("callback_id") == cb] for cb in (answered, cancelled)}
    for _, _, body, status in receiver.requests:
        event = json.loads(body)
        ids = order.get(event["data"].get("callback_id"), [])
        if event["id"] in ids:
            assert set(ids[:ids.index(event["id"])]) <= acked, "sent before the previous one succeeded"
        if status == 200:
            acked.add(event["id"])
    wrapped = next(e for e in events if e["type"] == "callback.wrapped_up")
    assert wrapped["data"]["disposition"] == "Resolved" and wrapped["data"]["agent_id"]
    # The failures are in the log: the two 500s, and refused connections while the receiver was down.
    errors = [a["error"] for d in log for a in d["log"] if a["error"]]
    assert errors.count("HTTP 500") == 2 and any("Connect" in e for e in errors)
    # Erin was erased before her customer.created went out: it went out without her data.
    created = [e for e in events if e["type"] == "customer.created"]
    assert [e["data"] for e in created] == [{"redacted": True}]
    erasure = next(e for e in events if e["type"] == "customer.erased")
    assert erasure["data"]["customer_ids"] == [erin.json()["id"]]
    assert events.index(created[0]) < events.index(erasure)
    everything = b"".join(body for _, _, body, _ in receiver.requests)
    assert b"Erin" not in everything and b"erin@" not in everything and b"5550199" not in everything


async def _async(value):
    return value
