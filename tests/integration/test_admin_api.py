"""The admin API (issue 14, items 1 and 2) against a real ``otodesk demo`` process: only an
admin may use it, every change is audited (who, when, before, after), a queue made through
it is routable without a restart, a disabled user is signed out at once and can't sign in,
and a queue's hours decide when a customer may ask for a call."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("admin")) as server:
        yield server


async def staff_client(base_url: str, username: str, password: str = DEMO_PASSWORD) -> httpx.AsyncClient:
    """Signed in through the form; changes carry the page's CSRF token."""
    http = httpx.AsyncClient(base_url=base_url, follow_redirects=False)
    page = await http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    signed = await http.post("/login", data={"username": username, "password": password,
                                             "csrf_token": token, "next": "/desk"})
    assert signed.status_code == 303, signed.text
    desk = await http.get("/supervisor" if username in ("admin", "sam") else "/desk")
    http.headers["x-csrf-token"] = re.search(r'name="csrf_token" value="([^"]+)"', desk.text).group(1)
    return http


async def test_only_an_admin_may_administer(server):
    anonymous = httpx.AsyncClient(base_url=server.base_url)
    alice = await staff_client(server.base_url, "alice")
    sam = await staff_client(server.base_url, "sam")
    admin = await staff_client(server.base_url, "admin")
    try:
        assert (await anonymous.get("/api/v1/admin/users")).status_code == 401
        for http in (alice, sam):
            refused = await http.get("/api/v1/admin/users")
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
            assert (await http.put("/api/v1/admin/queues/x", json={"title": "X"})).status_code == 403
            assert (await http.get("/api/v1/admin/webhooks")).status_code == 403
            assert (await http.get("/admin")).status_code == 403
        assert (await admin.get("/admin")).status_code == 200
        # A change without the page's token is refused even for an admin.
        no_csrf = await admin.post("/api/v1/admin/users", headers={"x-csrf-token": "forged"},
                                   json={"username": "x", "password": "password-1", "display_name": "X"})
        assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf"
        # API keys belong to sites: the document says so for every admin path.
        document = (await anonymous.get("/api/openapi.json")).json()
        admin_paths = [p for p in document["paths"] if p.startswith("/api/v1/admin/")]
        assert len(admin_paths) == 10 + 5 + 4 + 3  # users, queues, audit: 10 (a second factor reset among them); webhooks: 5; knowledge base: 4; centre: 3
        assert all(op["x-otodesk-scope"] == "admin" for p in admin_paths for op in document["paths"][p].values())
        assert "UserIn" in document["components"]["schemas"] and "QueueIn" in document["components"]["schemas"]
    finally:
        for http in (anonymous, alice, sam, admin):
            await http.aclose()


async def test_a_new_queue_and_user_route_without_restart_and_every_change_is_audited(server):
    admin = await staff_client(server.base_url, "admin")
    customer = dana = None
    try:
        made = await admin.post("/api/v1/admin/users", json={
            "username": "dana", "password": "dana-password-1", "display_name": "Dana Li",
            "role": "agent", "skills": ["billing"]})
        assert made.status_code == 201, made.text
        dana_id = made.json()["id"]
        queue = await admin.put("/api/v1/admin/queues/billing", json={
            "title": "Billing", "skills": ["billing"], "service_level_target": 45, "offer_timeout": 25,
            "wrapup_timeout": 15, "dispositions": ["Refund issued", "Invoice explained", "Refund issued"],
            "calling_hours": "09:00-20:00"})
        assert queue.status_code == 201, queue.text
        assert queue.json()["offer_timeout"] == 25 and queue.json()["hours"] is None
        assert queue.json()["calling_hours"] == "09:00-20:00"
        assert queue.json()["dispositions"] == ["Refund issued", "Invoice explained"]

        dana = await AgentBot.login(server.base_url, "dana", "dana-password-1")
        await dana.command("set_state", state="available")
        customer = await CustomerBot.start(server.base_url)
        assert "billing" in {q["name"] for q in (await customer.command("queues"))["queues"]}
        ack = await customer.command("call_me", name="Nadia", queue="billing")
        offer = await dana.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"], timeout=8)
        # The queue's own offer timeout, not the process-wide 20 s.
        assert offer["offer"]["expires_at"] - offer["offer"]["offered_at"] == pytest.approx(25, abs=0.01)
        # The card carries the queue's own wrap-up outcomes; only those are taken.
        assert offer["offer"]["dispositions"] == ["Refund issued", "Invoice explained"]
        await dana.command("accept", offer_id=offer["offer"]["offer_id"])
        await dana.command("end", callback_id=ack["callback_id"])
        wrap = await dana.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
        # The queue's own 15 s of wrap-up, not the process-wide 60 s.
        assert wrap["contact"]["wrap_up_ends_at"] - time.time() < 16
        with pytest.raises(CommandFailed, match="one of Refund issued, Invoice explained"):
            await dana.command("wrap_up", callback_id=ack["callback_id"], disposition="Resolved")
        await dana.command("wrap_up", callback_id=ack["callback_id"], disposition="Refund issued")

        # Disabled: the open desk is told and closed within a second; no sign-in any more.
        started = time.monotonic()
        mark = dana.mark()
        disabled = await admin.post(f"/api/v1/admin/users/{dana_id}/disable")
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True
        assert disabled.json()["sessions_ended"] == 1
        ended = await dana.wait_for("error", lambda m: m.get("message") == "signed out", start=mark, timeout=2)
        assert ended["code"] == "unauthorized" and time.monotonic() - started < 1.0
        with pytest.raises(RuntimeError, match="HTTP 401"):
            await AgentBot.login(server.base_url, "dana", "dana-password-1")
        enabled = await admin.post(f"/api/v1/admin/users/{dana_id}/enable")
        assert enabled.json()["disabled"] is False
        await (await AgentBot.login(server.base_url, "dana", "dana-password-1")).close()

        # Who, when, what, before and after; newest first; passwords never in it.
        audit = (await admin.get("/api/v1/admin/audit", params={"target": f"user:{dana_id}"})).json()["items"]
        assert [row["action"] for row in audit] == ["user.enable", "user.disable", "user.add"]
        admin_id = (await admin.get("/api/v1/admin/users")).json()["items"]
        admin_id = next(u["id"] for u in admin_id if u["username"] == "admin")
        assert {row["actor"] for row in audit} == {f"agent:{admin_id}"}
        assert {row["actor_name"] for row in audit} == {"admin"}
        assert audit[1]["before"]["disabled"] is False and audit[1]["after"]["disabled"] is True
        assert audit[2]["before"] is None and audit[2]["after"]["skills"] == ["billing"]
        assert all(time.time() - 60 < row["at"] <= time.time() for row in audit)
        assert "password" not in str(audit).replace("'password': 'reset'", "")
        queue_audit = (await admin.get("/api/v1/admin/audit", params={"target": "queue:billing"})).json()["items"]
        assert queue_audit[0]["action"] == "queue.add" and queue_audit[0]["after"]["title"] == "Billing"
    finally:
        for bot in (customer, dana):
            if bot is not None:
                await bot.close()
        await admin.aclose()


async def test_bad_input_is_refused_with_a_reason(server):
    admin = await staff_client(server.base_url, "admin")
    try:
        users = {u["username"]: u for u in (await admin.get("/api/v1/admin/users")).json()["items"]}
        own = await admin.post(f"/api/v1/admin/users/{users['admin']['id']}/disable")
        assert own.status_code == 409 and "your own account" in own.json()["error"]["message"]
        taken = await admin.post("/api/v1/admin/users", json={
            "username": "alice", "password": "password-123", "display_name": "Another Alice"})
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "username_taken"
        short = await admin.post("/api/v1/admin/users", json={
            "username": "eve", "password": "short", "display_name": "Eve"})
        assert short.status_code == 422
        overlap = await admin.put("/api/v1/admin/queues/night", json={
            "title": "Night", "hours": {"weekly": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}})
        assert overlap.status_code == 422 and "overlap" in overlap.json()["error"]["message"]
        bad_name = await admin.put("/api/v1/admin/queues/Bad%20Name", json={"title": "Bad"})
        assert bad_name.status_code == 422
        calling = await admin.put("/api/v1/admin/queues/night", json={"title": "Night", "calling_hours": "9-5"})
        assert calling.status_code == 422 and calling.json()["error"]["message"].startswith("calling_hours:")
        assert (await admin.post("/api/v1/admin/users/nobody/enable")).status_code == 404
        # A NUL can't be stored in PostgreSQL text: refused up front, as the rest of the API does.
        nul = await admin.put("/api/v1/admin/queues/nul", json={"title": "Nul\u0000queue"})
        assert nul.status_code == 422 and "NUL" in nul.json()["error"]["message"]
        not_json = await admin.put("/api/v1/admin/queues/nul", content=b"{", headers={"content-type": "application/json"})
        assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "bad_json"
        # Nothing refused reached the audit.
        audit = (await admin.get("/api/v1/admin/audit")).json()["items"]
        assert not any(row["target"] in ("queue:night", "queue:nul", "user:nobody") for row in audit)
    finally:
        await admin.aclose()


async def test_outside_hours_the_widget_is_told_when_it_opens_and_calls_are_only_taken_in_hours(server):
    admin = await staff_client(server.base_url, "admin")
    customer = await CustomerBot.start(server.base_url)
    try:
        # Open every day except today (UTC, the demo's time zone): closed now, whatever the hour.
        today = dt.datetime.now(dt.UTC).date()
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        weekly = {day: [["09:00", "17:00"]] for i, day in enumerate(days) if i != today.weekday()}
        tomorrow = today + dt.timedelta(days=1)
        made = await admin.put("/api/v1/admin/queues/office", json={
            "title": "Office", "hours": {"weekly": weekly, "exceptions": [
                {"date": tomorrow.isoformat(), "closed": True}]}})
        assert made.status_code == 201, made.text
        queues = {q["name"]: q for q in (await customer.command("queues"))["queues"]}
        office = queues["office"]
        assert office["open"] is False and office["closed"] == "hours" and office["hours_open"] is False
        opens = dt.datetime.fromtimestamp(office["opens_at"], dt.UTC)
        assert opens.date() == today + dt.timedelta(days=2) and opens.strftime("%H:%M") == "09:00"
        assert office["slots"][0] == office["opens_at"] and len(office["slots"]) == 4
        assert all(9 <= dt.datetime.fromtimestamp(s, dt.UTC).hour < 17 for s in office["slots"])

        with pytest.raises(CommandFailed) as now:
            await customer.command("call_me", name="Nadia", queue="office")
        assert now.value.code == "bad_time" and "Office is closed now; it opens" in now.value.error["message"]
        night = office["opens_at"] - 6 * 3600   # 03:00 the day it opens
        with pytest.raises(CommandFailed) as at_night:
            await customer.command("call_me", name="Nadia", queue="office", scheduled_at=night)
        assert "closed at the time you chose" in at_night.value.error["message"]
        ack = await customer.command("call_me", name="Nadia", queue="office", scheduled_at=office["slots"][1])
        status = await customer.wait_for("callback_status", lambda m: m["callback"]["id"] == ack["callback_id"])
        assert status["callback"]["state"] == "scheduled"
        assert status["callback"]["scheduled_at"] == office["slots"][1]
        await customer.command("cancel", callback_id=ack["callback_id"])
        # An always-open queue: any time will do, no slots.
        sales = queues["sales"]
        assert sales["hours_open"] is True and sales["opens_at"] is None and sales["slots"] == []
    finally:
        await customer.close()
        await admin.aclose()


async def test_webhook_changes_are_audited_without_their_secret(server):
    admin = await staff_client(server.base_url, "admin")
    try:
        made = await admin.post("/api/v1/admin/webhooks", json={"url": "https://crm.example.com/hooks",
                                                               "events": ["callback.ended"]})
        assert made.status_code == 201, made.text
        hook = made.json()
        # A refused receiver names its reason for the console to word (and is not audited).
        private = await admin.post("/api/v1/admin/webhooks", json={"url": "http://10.1.2.3/hooks", "events": ["callback.ended"]})
        assert private.status_code == 422 and private.json()["error"]["detail"] == {"reason": "private"}
        rotated = await admin.post(f"/api/v1/admin/webhooks/{hook['id']}/rotate-secret", json={"overlap_hours": 1})
        assert rotated.status_code == 200 and rotated.json()["secret"] not in ("", hook["secret"])
        assert (await admin.post(f"/api/v1/admin/webhooks/{hook['id']}/rotate-secret",
                                 json={"overlap_hours": 999})).status_code == 422
        removed = await admin.delete(f"/api/v1/admin/webhooks/{hook['id']}")
        assert removed.status_code == 200 and removed.json()["disabled_at"]
        audit = (await admin.get("/api/v1/admin/audit", params={"target": f"webhook:{hook['id']}"})).json()["items"]
    finally:
        await admin.aclose()
    assert [row["action"] for row in audit] == ["webhook.remove", "webhook.rotate", "webhook.add"]
    assert len({row["actor"] for row in audit}) == 1 and audit[0]["actor"].startswith("agent:")  # the admin
    added, gone = audit[2], audit[0]
    assert added["before"] is None and added["after"]["url"] == "https://crm.example.com/hooks"
    assert gone["before"]["disabled_at"] is None and gone["after"]["disabled_at"]
    # Shown once, never kept in the audit (neither the first secret nor the rotated one).
    assert hook["secret"] not in str(audit) and rotated.json()["secret"] not in str(audit)
    assert "secret" not in added["after"]
