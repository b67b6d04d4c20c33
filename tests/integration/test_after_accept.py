"""The step after the first one (issue 9): what the desk is told after Accept, End, a wrap-up
timeout and a retried command. A real ``otodesk demo`` process, Python bots."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from signaling.client import AgentBot, CommandFailed, CustomerBot
from tests.helpers.server import running_server
from tests.integration.test_callback_loop import available

pytestmark = pytest.mark.asyncio(loop_scope="module")

WRAPUP_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "20", "OTODESK_WRAPUP_TIMEOUT": str(WRAPUP_TIMEOUT),
           "OTODESK_CALLME_PER_PHONE": "20"}
    with running_server(tmp_path_factory.mktemp("after-accept"), env=env) as server:
        yield server


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
        # The cart changes during the call: the desk is told, as it is of page moves.
        await customer.command("set_context", context={"cart": ["kettle", "toaster", "mug"]})
        told = await carol.wait_for("customer_context", lambda m: "mug" in m["context"]["cart"], start=mark)
        assert (told["callback_id"], told["context"]["cart"]) == (ack["callback_id"], ["kettle", "toaster", "mug"])

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


async def test_wrap_up_has_a_limit_keeps_its_note_when_time_runs_out_and_needs_an_outcome(server):
    carol = await available(server.base_url, "carol")
    customer, offer, _ = await connected_call(server, carol)
    callback_id = offer["callback_id"]
    try:
        mark = carol.mark()
        await carol.command("end", callback_id=callback_id)
        wrap = (await carol.wait_for("contact", lambda m: m["contact"]["state"] == "wrap_up",
                                     start=mark))["contact"]
        state = await carol.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        # The desk can show how long is left.
        assert wrap["wrap_up_ends_at"] == pytest.approx(state["state"]["since"] + WRAPUP_TIMEOUT)

        # "Available" (or "Away") can't close the contact without an outcome...
        for target in ("available", "away"):
            with pytest.raises(CommandFailed) as refused:
                await carol.command("set_state", state=target)
            assert refused.value.error["code"] == "invalid_state"
            assert "Done" in refused.value.error["message"]
        # ...nor can Done without one.
        with pytest.raises(CommandFailed) as refused:
            await carol.command("wrap_up", callback_id=callback_id, disposition="")
        assert refused.value.error["code"] == "bad_message"

        # Time runs out: the agent is available again; what was typed is saved, marked so.
        await carol.wait_for("agent_state", lambda m: m["state"]["state"] == "available",
                             start=mark, timeout=WRAPUP_TIMEOUT + 5)
        await carol.command("wrap_up", callback_id=callback_id, disposition="", note="Sent the manual",
                            timed_out=True)
        with pytest.raises(CommandFailed) as again:
            await carol.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        assert again.value.error["code"] == "invalid_state"

        # The customer's next call shows it on the card.
        await customer.close()
        second = await CustomerBot.start(server.base_url, token=customer.token)
        customer = second
        mark = carol.mark()
        ack = await second.command("call_me", name="Nina", queue="support")
        card = (await carol.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"],
                                     start=mark))["offer"]
        wrap_ups = [e for e in card["previous"] if e["kind"] == "wrap_up" and e["data"].get("timed_out")]
        assert wrap_ups and wrap_ups[0]["data"]["note"] == "Sent the manual"
        await second.command("cancel", callback_id=ack["callback_id"])
    finally:
        await customer.close()
        await carol.close()


async def test_an_agent_who_signs_out_leaves_the_wall_at_once(server):
    import re

    import httpx

    from signaling.client import SupervisorBot

    bob = await available(server.base_url, "bob")
    sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
    try:
        await sam.wait_for_wall(lambda m: any(a["username"] == "bob" for a in m["agents"]))
        cookie = bob.headers["Cookie"]
        async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as http:
            page = await http.get("/desk")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            mark = sam.mark_wall()
            response = await http.post("/logout", data={"csrf_token": token})
            assert response.status_code == 303
        await bob.close()  # the desk goes to the sign-in page
        # Gone from the wall well before the 30-s reconnect grace a closed tab gets.
        await sam.wait_for_wall(lambda m: all(a["username"] != "bob" for a in m["agents"]),
                           start=mark, timeout=10)
    finally:
        await bob.close()
        await sam.close()


async def test_a_socket_coming_back_does_not_store_its_page_again(server):
    """A dropped connection (a process restarted behind a proxy) comes back with ``last_seq``
    on the page it was on: the trail lists that page once, not once a reconnection."""
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/back-again", title="Back")
    try:
        for _ in range(2):
            await customer.close()
            await customer.connect(resume=True)
        await customer.send({"type": "page_view", "url": "http://shop.test/next", "title": "Next"})
        async with Repository.open(server.database_url) as repo:
            for _ in range(50):  # the page_view has no ack: until it is stored
                urls = await repo.database.read(lambda conn: [json.loads(row.data)["url"] for row in conn.execute(text(
                    "SELECT data FROM contact_events WHERE visitor_id = :v AND kind = 'page_view' ORDER BY id"),
                    {"v": customer.welcome["visitor_id"]})])
                if "http://shop.test/next" in urls:
                    break
                await asyncio.sleep(0.1)
        assert urls == ["http://shop.test/back-again", "http://shop.test/next"]
    finally:
        await customer.close()
