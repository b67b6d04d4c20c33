"""A command retried after a reconnect, on another process, gets its first outcome (issue 9,
item 26): the desk resends an unanswered ``accept`` / ``end`` / ``wrap_up`` with the same id,
and the process that got the first try may be gone. Two processes on the real Redis and
PostgreSQL (the ``cluster`` of test_two_processes)."""

from __future__ import annotations

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot
from tests.integration.test_two_processes import cluster  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_retry_on_another_process_is_answered_with_the_first_outcome(cluster):  # noqa: F811
    a, b = cluster
    on_a = await AgentBot.login(a.base_url, "carol", DEMO_PASSWORD)
    await on_a.command("set_state", state="available")
    customer = await CustomerBot.start(a.base_url)
    ack = await customer.command("call_me", id="widget-call-me-1", name="Retry", queue="support")
    # The widget's call_me, its ack lost with a restarting process, resent from the page now on
    # B: the same callback, not "already_waiting" (what a rolling restart met).
    page_on_b = await CustomerBot.start(b.base_url, token=customer.token)
    resent = await page_on_b.command("call_me", id="widget-call-me-1", name="Retry", queue="support")
    assert resent["callback_id"] == ack["callback_id"]
    await page_on_b.close()
    offer = (await on_a.wait_for("offer"))["offer"]
    callback_id = offer["callback_id"]

    # Each command took effect on A; its ack "never came": the desk resends it, same id,
    # from a desk now connected to B.
    on_b = await AgentBot.login(b.base_url, "carol", DEMO_PASSWORD)
    commands = [
        ("accept", {"offer_id": offer["offer_id"]}),
        ("end", {"callback_id": callback_id}),
        ("wrap_up", {"callback_id": callback_id, "disposition": "Resolved", "note": "once"}),
    ]
    try:
        for n, (type_, fields) in enumerate(commands):
            command_id = f"desk-retry-{callback_id}-{n}"
            first = await on_a.command(type_, id=command_id, **fields)
            retry = await on_b.command(type_, id=command_id, **fields)  # raises if refused
            assert (retry["type"], retry["id"]) == (first["type"], first["id"]) == ("ack", command_id)
        # Applied once: one wrap-up on the timeline, and the agent is available, not stranded.
        await on_b.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "completed")
        again = await CustomerBot.start(a.base_url, token=customer.token)
        second = await again.command("call_me", name="Retry", queue="support")
        card = (await on_b.wait_for("offer", lambda m: m["offer"]["callback_id"] == second["callback_id"]))
        wrap_ups = [e for e in card["offer"]["previous"] if e["kind"] == "wrap_up"]
        assert [e["data"]["note"] for e in wrap_ups] == ["once"]
        await again.command("cancel", callback_id=second["callback_id"])
        await again.close()
    finally:
        await customer.close()
        await on_a.close()
        await on_b.close()
    assert ack["callback_id"] == callback_id
