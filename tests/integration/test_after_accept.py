"""The step after the first one (issue 9): what the desk is told after Accept, End, a wrap-up
timeout and a retried command. A real ``otodesk demo`` process, Python bots."""

from __future__ import annotations

import asyncio

import pytest

from desktop.repository.demo import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot
from tests.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

WRAPUP_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "20", "OTODESK_WRAPUP_TIMEOUT": str(WRAPUP_TIMEOUT),
           "OTODESK_CALLME_PER_PHONE": "20"}
    with running_server(tmp_path_factory.mktemp("after-accept"), env=env) as server:
        yield server


async def available(base_url: str, username: str) -> AgentBot:
    agent = await AgentBot.login(base_url, username, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
    return agent


async def connected_call(server, agent: AgentBot, queue: str = "support", **call):
    """A customer asks, ``agent`` is offered the call and accepts: (customer, offer, contact)."""
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/a", title="A")
    mark = agent.mark()
    ack = await customer.command("call_me", name="Nina", queue=queue, **call)
    offer = (await agent.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"],
                                  start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    contact = await agent.wait_for("contact", lambda m: (m["contact"] or {}).get("state") == "connected",
                                   start=mark)
    return customer, offer, contact["contact"]


async def test_the_connected_and_wrap_up_cards_show_where_the_customer_is_now(server):
    carol = await available(server.base_url, "carol")
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/kettle", title="Kettle")
    try:
        await customer.command("set_context", context={"cart": ["kettle"]})
        mark = carol.mark()
        ack = await customer.command("call_me", name="Nina", queue="support")
        offer = (await carol.wait_for("offer", start=mark))["offer"]
        assert offer["page"]["url"] == "http://shop.test/kettle"

        # While the offer rings, the customer moves on and fills the cart.
        await customer.send({"type": "page_view", "url": "http://shop.test/cart", "title": "Cart"})
        await carol.wait_for("customer_page", start=mark)
        await customer.command("set_context", context={"cart": ["kettle", "toaster"]})

        await carol.command("accept", offer_id=offer["offer_id"])
        contact = (await carol.wait_for("contact", lambda m: m["contact"]["state"] == "connected",
                                        start=mark))["contact"]
        assert contact["page"]["url"] == "http://shop.test/cart"
        assert [p["url"] for p in contact["trail"]][:2] == ["http://shop.test/cart", "http://shop.test/kettle"]
        assert contact["context"]["cart"] == ["kettle", "toaster"]
        assert contact["answered_at"]

        await customer.send({"type": "page_view", "url": "http://shop.test/checkout", "title": "Checkout"})
        await carol.wait_for("customer_page", lambda m: m["url"].endswith("/checkout"), start=mark)
        await carol.command("end", callback_id=ack["callback_id"])
        wrap = (await carol.wait_for("contact", lambda m: m["contact"]["state"] == "wrap_up",
                                     start=mark))["contact"]
        assert wrap["page"]["url"] == "http://shop.test/checkout"
        assert [p["url"] for p in wrap["trail"]][:3] == [
            "http://shop.test/checkout", "http://shop.test/cart", "http://shop.test/kettle"]
        await carol.command("wrap_up", callback_id=ack["callback_id"], disposition="Resolved")
    finally:
        await customer.close()
        await carol.close()
