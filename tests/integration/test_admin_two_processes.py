"""An admin's change on one process takes effect on the other at once (real Redis and
PostgreSQL): a queue and a user made on the process that does not lead the router are routed
by the leader without a restart, and disabling the user closes their desk open on the leader's
process."""

from __future__ import annotations

import time

import pytest

from signaling.client import AgentBot, CustomerBot
from tests.integration.test_admin_api import staff_client
from tests.integration.test_two_processes import cluster  # noqa: F401  (the two-process fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_change_made_on_one_process_holds_on_the_other(cluster):  # noqa: F811
    leader, other = cluster
    assert leader.health()["leader"] and not other.health()["leader"]
    admin = await staff_client(other.base_url, "admin")
    dana = customer = None
    try:
        made = await admin.post("/api/v1/admin/users", json={
            "username": "dana", "password": "dana-password-1", "display_name": "Dana Li",
            "skills": ["billing"]})
        assert made.status_code == 201, made.text
        queue = await admin.put("/api/v1/admin/queues/billing", json={"title": "Billing", "skills": ["billing"]})
        assert queue.status_code == 201, queue.text

        dana = await AgentBot.login(leader.base_url, "dana", "dana-password-1")
        await dana.command("set_state", state="available")
        customer = await CustomerBot.start(other.base_url)
        ack = await customer.command("call_me", name="Nadia", queue="billing")
        offer = await dana.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"], timeout=8)
        await dana.command("decline", offer_id=offer["offer"]["offer_id"])
        await customer.command("cancel", callback_id=ack["callback_id"])

        mark, started = dana.mark(), time.monotonic()
        assert (await admin.post(f"/api/v1/admin/users/{made.json()['id']}/disable")).status_code == 200
        ended = await dana.wait_for("error", lambda m: m.get("message") == "signed out", start=mark, timeout=2)
        assert ended["code"] == "unauthorized" and time.monotonic() - started < 1.0
    finally:
        for bot in (customer, dana):
            if bot is not None:
                await bot.close()
        await admin.aclose()


async def test_a_queue_set_and_deleted_on_one_process_holds_for_a_customer_on_the_other(cluster):  # noqa: F811
    """Issue 14: topics, languages and recording reach a widget on the leader's process; a
    queue deleted on the other moves the customer waiting in it, who is told on their process
    and offered to an agent of the fallback signed in on the first."""
    from desktop.demo.seed import DEMO_PASSWORD

    leader, other = cluster
    admin = await staff_client(other.base_url, "admin")
    customer = bob = None
    try:
        made = await admin.put("/api/v1/admin/queues/taiwan", json={
            "title": "Taiwan", "skills": ["hokkien"], "languages": ["zh-TW"], "recording": "consent",
            "topics": [{"text": "Refund", "translations": {"zh-TW": "退款"}}]})
        assert made.status_code == 201, made.text
        customer = await CustomerBot.start(leader.base_url)
        queues = {q["name"]: q for q in (await customer.command("queues"))["queues"]}
        assert queues["taiwan"]["recording"] == "consent" and queues["taiwan"]["languages"] == ["zh-TW"]
        assert queues["taiwan"]["topics"][0]["translations"] == {"zh-TW": "退款"}
        ack = await customer.command("call_me", name="Mei", locale="zh-TW")  # no queue named: by language
        assert ack["queue"] == "taiwan"
        mark = customer.mark()

        deleted = await admin.delete("/api/v1/admin/queues/taiwan", params={"fallback": "sales"})
        assert deleted.status_code == 200 and deleted.json()["moved"] == 1
        told = await customer.wait_for("callback_status", lambda m: m["callback"].get("moved_from") == "taiwan",
                                       start=mark, timeout=5)
        assert told["callback"]["queue"] == "sales"
        bob = await AgentBot.login(other.base_url, "bob", DEMO_PASSWORD)
        await bob.command("set_state", state="available")
        offer = await bob.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"], timeout=8)
        assert offer["offer"]["callback"]["queue"] == "sales"
    finally:
        for bot in (customer, bob):
            if bot is not None:
                await bot.close()
        await admin.aclose()
