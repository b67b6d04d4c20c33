"""A queue's languages, topics and recording policy, and a queue deleted while customers wait
(issue 14), against a real ``otodesk demo`` process: set through the admin API, audited, in
the OpenAPI document, read by the widget at once; a deleted queue's waiting and scheduled
callbacks move to a fallback, their customers are told, and an agent of the fallback is
offered them; the only queue can't be deleted."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot
from tests.helpers.server import ServerProcess, running_server
from tests.integration.test_admin_api import staff_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOPICS = [{"text": "Payment failed", "translations": {"zh-cn": "付款失败", "zh-TW": "付款失敗"}},
          {"text": "Delivery"}, {"text": "delivery "}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("admin-queues")) as server:
        yield server


async def test_languages_topics_and_recording_reach_the_widget_at_once_and_are_audited(server):
    admin = await staff_client(server.base_url, "admin")
    customer = await CustomerBot.start(server.base_url)
    try:
        saved = await admin.put("/api/v1/admin/queues/china", json={
            "title": "China desk", "languages": ["zh-cn", "en", "zh-CN"], "topics": TOPICS, "recording": "on"})
        assert saved.status_code == 201, saved.text
        body = saved.json()
        # One spelling of each language; a topic twice (any case) kept once.
        assert body["languages"] == ["zh-CN", "en"] and body["recording"] == "on"
        assert body["topics"] == [
            {"text": "Payment failed", "translations": {"zh-CN": "付款失败", "zh-TW": "付款失敗"}},
            {"text": "Delivery", "translations": {}}]
        # The widget's next look at the queues has them: no restart.
        queues = {q["name"]: q for q in (await customer.command("queues"))["queues"]}
        assert queues["china"]["languages"] == ["zh-CN", "en"]
        assert queues["china"]["topics"] == body["topics"] and queues["china"]["recording"] == "on"
        # A queue with no policy of its own: OTODESK_VOICE_RECORDING's (none in this server).
        assert queues["sales"]["recording"] == "off" and queues["sales"]["topics"] == []
        # A site's callMe() naming no queue: the one whose agents speak the customer's language.
        for locale, expected in (("zh-TW", "china"), (None, next(iter(queues)))):
            speaker = await CustomerBot.start(server.base_url)
            try:
                ack = await speaker.command("call_me", name="Mei", **({"locale": locale} if locale else {}))
                assert ack["queue"] == expected, locale
                await speaker.command("cancel", callback_id=ack["callback_id"])
            finally:
                await speaker.close()

        changed = await admin.put("/api/v1/admin/queues/china", json={"title": "China desk", "recording": "consent"})
        assert changed.status_code == 200 and changed.json()["topics"] == [] and changed.json()["languages"] == []
        queues = {q["name"]: q for q in (await customer.command("queues"))["queues"]}
        assert queues["china"]["recording"] == "consent"
        audit = (await admin.get("/api/v1/admin/audit", params={"target": "queue:china"})).json()["items"]
        assert [row["action"] for row in audit] == ["queue.update", "queue.add"]
        assert audit[0]["before"]["recording"] == "on" and audit[0]["after"]["recording"] == "consent"
        assert audit[0]["before"]["topics"][0]["translations"]["zh-CN"] == "付款失败"

        document = (await admin.get("/api/openapi.json")).json()
        operations = document["paths"]["/api/v1/admin/queues/{name}"]
        assert set(operations) == {"put", "delete"} and operations["delete"]["x-otodesk-scope"] == "admin"
        schemas = document["components"]["schemas"]
        assert {"languages", "topics", "recording"} <= set(schemas["QueueIn"]["properties"])
        assert "QueueDelete" in schemas and "Topic" in schemas
    finally:
        await customer.close()
        await admin.aclose()


async def test_bad_languages_topics_and_recording_are_refused_and_not_audited(server):
    admin = await staff_client(server.base_url, "admin")
    try:
        for bad in ({"languages": ["Chinese please"]}, {"languages": ["zh_CN"]}, {"recording": "sometimes"},
                    {"topics": [{"text": "x" * 81}]}, {"topics": [{"text": "  "}]},
                    {"topics": [{"text": "Refund", "translations": {"中文": "退款"}}]},
                    {"topics": [{"text": "Refund", "words": "退款"}]}, {"topics": ["Refund"]},
                    {"topics": [{"text": f"t{i}"} for i in range(21)]}):
            refused = await admin.put("/api/v1/admin/queues/badq", json={"title": "Bad", **bad})
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.json()["error"]["message"], bad
        assert (await admin.get("/api/v1/admin/audit", params={"target": "queue:badq"})).json()["items"] == []
        # Deleting: an unknown queue or fallback, or itself as fallback.
        assert (await admin.delete("/api/v1/admin/queues/nosuch")).status_code == 404
        unknown = await admin.request("DELETE", "/api/v1/admin/queues/support", json={"fallback": "nowhere"})
        assert unknown.status_code == 404 and "nowhere" in unknown.json()["error"]["message"]
        itself = await admin.delete("/api/v1/admin/queues/support", params={"fallback": "support"})
        assert itself.status_code == 422 and "own fallback" in itself.json()["error"]["message"]
        bad_body = await admin.request("DELETE", "/api/v1/admin/queues/support", json={"fallback": "Not A Queue"})
        assert bad_body.status_code == 422
        assert "support" in {q["name"] for q in (await admin.get("/api/v1/admin/queues")).json()["items"]}
        # An agent may not delete a queue.
        alice = await staff_client(server.base_url, "alice")
        try:
            assert (await alice.delete("/api/v1/admin/queues/support")).status_code == 403
        finally:
            await alice.aclose()
    finally:
        await admin.aclose()


async def test_a_deleted_queues_waiting_customers_move_are_told_and_are_offered_to_the_fallbacks_agent(server):
    admin = await staff_client(server.base_url, "admin")
    waiting = scheduled = bob = None
    try:
        # Nobody has the "billing" skill: customers wait in it.
        made = await admin.put("/api/v1/admin/queues/billing", json={"title": "Billing", "skills": ["billing"]})
        assert made.status_code == 201, made.text
        waiting = await CustomerBot.start(server.base_url)
        scheduled = await CustomerBot.start(server.base_url)
        first = (await waiting.command("call_me", name="Nadia", queue="billing"))["callback_id"]
        later = (await scheduled.command("call_me", name="Oskar", queue="billing",
                                         scheduled_at=time.time() + 3600))["callback_id"]
        await waiting.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued")
        mark, scheduled_mark = waiting.mark(), scheduled.mark()

        deleted = await admin.delete("/api/v1/admin/queues/billing", params={"fallback": "sales"})
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["fallback"] == "sales" and deleted.json()["moved"] == 2
        # Each customer is told where their request is now, and that it moved.
        told = await waiting.wait_for("callback_status", lambda m: m["callback"].get("moved_from"),
                                      start=mark, timeout=5)
        assert told["callback"]["id"] == first
        assert told["callback"]["queue"] == "sales" and told["callback"]["moved_from"] == "billing"
        assert told["callback"]["state"] == "queued"
        told = await scheduled.wait_for("callback_status", lambda m: m["callback"].get("moved_from"),
                                        start=scheduled_mark, timeout=5)
        assert told["callback"]["id"] == later
        assert (told["callback"]["queue"], told["callback"]["state"]) == ("sales", "scheduled")
        assert "billing" not in {q["name"] for q in (await waiting.command("queues"))["queues"]}

        # An agent of the fallback queue is offered the customer who waited in the deleted one.
        bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
        bob_mark = bob.mark()
        await bob.command("set_state", state="available")
        offer = await bob.wait_for("offer", lambda m: m["offer"]["callback_id"] == first, start=bob_mark, timeout=8)
        assert offer["offer"]["callback"]["queue"] == "sales"
        await bob.command("accept", offer_id=offer["offer"]["offer_id"])
        await waiting.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected", timeout=5)

        audit = (await admin.get("/api/v1/admin/audit", params={"target": "queue:billing"})).json()["items"]
        assert audit[0]["action"] == "queue.delete" and audit[0]["after"]["moved"] == 2
        assert sorted(audit[0]["after"]["callbacks"]) == sorted([first, later])
    finally:
        for bot in (waiting, scheduled, bob):
            if bot is not None:
                await bot.close()
        await admin.aclose()


async def test_the_only_queue_of_a_fresh_install_cant_be_deleted(tmp_path):
    with running_server(tmp_path, seed=False) as fresh:
        # A fresh install's only queue is "general"; no account but the one the test adds.
        subprocess.run([sys.executable, "-m", "desktop.cli", "user", "add", "root", "--role", "admin",
                        "--password", "root-password-1"], check=True, env=fresh.env, capture_output=True)
        admin = httpx.AsyncClient(base_url=fresh.base_url)
        page = await admin.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = await admin.post("/login", data={"username": "root", "password": "root-password-1",
                                                  "csrf_token": token, "next": "/admin"})
        assert signed.status_code == 303, signed.text
        console = await admin.get("/admin")
        admin.headers["x-csrf-token"] = re.search(r'name="csrf-token" content="([^"]+)"', console.text).group(1)
        try:
            refused = await admin.delete("/api/v1/admin/queues/general")
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_queue"
            assert "only queue" in refused.json()["error"]["message"]
            assert [q["name"] for q in (await admin.get("/api/v1/admin/queues")).json()["items"]] == ["general"]
        finally:
            await admin.aclose()


async def test_a_queue_removed_by_hand_loses_nobody_after_a_restart(tmp_path):
    """Before issue 14 a queue row removed in SQL left its waiting callbacks in a queue the
    rebuilt router did not know: the leader failed on every start and nobody was routed."""
    server = ServerProcess(tmp_path).start()
    customer = bob = None
    try:
        admin = await staff_client(server.base_url, "admin")
        made = await admin.put("/api/v1/admin/queues/temp", json={"title": "Temp", "skills": ["nobody"]})
        assert made.status_code == 201, made.text
        await admin.aclose()
        customer = await CustomerBot.start(server.base_url)
        callback_id = (await customer.command("call_me", name="Nadia", queue="temp"))["callback_id"]
        token = customer.token
        await customer.close()
        server.stop()
        with sqlite3.connect(tmp_path / "otodesk.db") as db:
            db.execute("DELETE FROM queues WHERE name = 'temp'")
        server.start()
        customer = await CustomerBot.start(server.base_url, token=token)  # back within the grace
        bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
        await bob.command("set_state", state="available")
        # Moved to the first queue the widget lists ("sales": the demo has no "general").
        offer = await bob.wait_for("offer", lambda m: m["offer"]["callback_id"] == callback_id, timeout=10)
        assert offer["offer"]["callback"]["queue"] == "sales"
    finally:
        for bot in (customer, bob):
            if bot is not None:
                await bot.close()
        server.stop()
