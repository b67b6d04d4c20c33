"""A customer is told before asking whether anybody can answer, with the wall's own estimate
(issue 9, item 7): a real ``otodesk demo`` process, Python bots."""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot, SupervisorBot
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("availability")) as server:
        yield server


async def queues_until(customer: CustomerBot, predicate, timeout: float = 8.0) -> dict[str, dict]:
    """The customer's ``queues`` answer once ``predicate`` holds (the leader says it within ~1 s)."""
    deadline = time.monotonic() + timeout
    while True:
        queues = {q["name"]: q for q in (await customer.command("queues"))["queues"]}
        if predicate(queues) or time.monotonic() > deadline:
            return queues
        await asyncio.sleep(0.2)


async def test_nobody_to_answer_is_said_before_and_after_asking(server):
    customer = await CustomerBot.start(server.base_url)
    carol = bob = None
    try:
        # Nobody logged in: the welcome already says so, queue by queue.
        queues = await queues_until(customer, lambda q: "open" in q["sales"])
        assert queues["sales"]["open"] is False and queues["sales"]["estimated_wait"] is None
        assert queues["support"]["open"] is False
        assert {q["name"]: q.get("open") for q in customer.welcome["queues"]} in (
            {"sales": False, "support": False}, {"sales": None, "support": None})

        # Carol (support only) is available: support can answer, sales still can't.
        carol = await AgentBot.login(server.base_url, "carol", DEMO_PASSWORD)
        await carol.command("set_state", state="available")
        queues = await queues_until(customer, lambda q: q["support"]["open"])
        assert queues["support"] == {**queues["support"], "open": True, "estimated_wait": 0}
        assert queues["sales"]["open"] is False

        # The widget's figure for a new request is the wall's.
        sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
        try:
            wall = await sam.wait_for_wall(lambda m: any(
                q["name"] == "support" and q["agents_staffed"] == 1 for q in m["queues"]), timeout=8)
            support = next(q for q in wall["queues"] if q["name"] == "support")
            assert support["estimated_wait"] == queues["support"]["estimated_wait"]
        finally:
            await sam.close()

        # Asked anyway, now, of sales: the status says nobody can answer (not "estimating").
        ack = await customer.command("call_me", name="Nadia", queue="sales")
        status = await customer.wait_for("callback_status", lambda m: m["callback"]["id"] == ack["callback_id"]
                                         and m["callback"]["state"] == "queued" and m["callback"]["position"])
        assert status["callback"]["nobody_available"] is True and status["callback"]["estimated_wait"] is None

        # Bob (sales) comes: the request is offered, and sales is open again.
        bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
        await bob.command("set_state", state="available")
        await bob.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"], timeout=8)
        assert (await queues_until(customer, lambda q: q["sales"]["open"]))["sales"]["open"] is True
        await customer.command("cancel", callback_id=ack["callback_id"])
    finally:
        await customer.close()
        for agent in (carol, bob):
            if agent is not None:
                await agent.command("set_state", state="away", reason="test over")
                await agent.close()
