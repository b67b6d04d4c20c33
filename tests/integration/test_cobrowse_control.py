""""Go to this page" and remote control over real sockets against a real ``otodesk demo``
process (remote control on for http://shop.test only): what passes, and every refusal
(a foreign URL, a forged control message, control never granted or taken back, a site
with control off), with the timeline entries."""

from __future__ import annotations

import pytest

from desktop.repository import Repository
from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot, SupervisorBot
from tests.integration.test_cobrowse_loop import _connected, _finish, _share
from tests.helpers.server import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "5", "OTODESK_WRAPUP_TIMEOUT": "30",
           "OTODESK_COBROWSE_REMOTE_CONTROL": "http://shop.test"}
    with running_server(tmp_path_factory.mktemp("cobrowse-control"), env=env) as server:
        yield server


async def _refused(bot, message: dict) -> dict:
    mark = bot.mark()
    await bot.send(message)
    return await bot.wait_for("error", start=mark)


async def test_navigate_and_control_pass_and_every_forgery_is_refused(server):
    agent, customer, callback_id = await _connected(server)
    visitor = customer.visitor_id
    try:
        # Before the share: nothing of this is allowed.
        with pytest.raises(CommandFailed) as early:
            await agent.command("cobrowse_navigate", visitor_id=visitor, url="/cart")
        assert early.value.code == "invalid_state"
        await _share(agent, customer, callback_id)

        # "Go to this page": only the customer's own site.
        for foreign in ("https://evil.test/cart", "javascript:alert(1)", "//evil.test/x",
                        "http://user:pw@shop.test/cart", "https://shop.test/cart"):
            with pytest.raises(CommandFailed) as refused:
                await agent.command("cobrowse_navigate", visitor_id=visitor, url=foreign)
            assert refused.value.code == "bad_message" and "own site" in str(refused.value) \
                or "user name" in str(refused.value), foreign
        mark = customer.mark()
        ack = await agent.command("cobrowse_navigate", visitor_id=visitor, url="/cart", title="Your cart")
        assert ack["url"] == "http://shop.test/cart"
        proposed = await customer.wait_for("cobrowse_navigate", start=mark)
        assert proposed["url"] == "http://shop.test/cart" and proposed["agent_name"]
        with pytest.raises(CommandFailed) as unknown:
            await customer.command("cobrowse_navigate_answer", nav_id="forged", go=True)
        assert unknown.value.code == "not_found"
        mark = agent.mark()
        await customer.command("cobrowse_navigate_answer", nav_id=proposed["nav_id"], go=True)
        went = await agent.wait_for("cobrowse_navigate_answer", start=mark)
        assert went["go"] is True and went["url"] == "http://shop.test/cart"

        # Control never granted: inputs are refused.
        error = await _refused(agent, {"type": "cobrowse_input", "visitor_id": visitor, "action": "click", "node": 5})
        assert error["code"] == "invalid_state" and "control" in error["message"]

        # Another agent, and a supervisor, can't forge control of this share.
        bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
        sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
        try:
            error = await _refused(bob, {"type": "cobrowse_input", "visitor_id": visitor, "action": "click", "node": 5})
            assert error["code"] == "invalid_state"
            with pytest.raises(CommandFailed) as forged:
                await bob.command("cobrowse_control", visitor_id=visitor, action="request")
            assert forged.value.code == "invalid_state"
            error = await _refused(sam, {"type": "cobrowse_input", "visitor_id": visitor, "action": "click", "node": 5})
            assert error["code"] == "unknown_type"
            # A supervisor watching the share may not ask for control either.
            await sam.command("cobrowse_view", visitor_id=visitor)
            error = await _refused(sam, {"type": "cobrowse_control", "id": "x1", "visitor_id": visitor,
                                         "action": "request"})
            assert error["code"] == "unknown_type"
        finally:
            await bob.close()
            await sam.close()

        # Control, asked and allowed: the agent's inputs reach the customer's page.
        mark = customer.mark()
        request = await agent.command("cobrowse_control", visitor_id=visitor, action="request")
        asked = await customer.wait_for("cobrowse_control_request", start=mark)
        assert asked["request_id"] == request["request_id"]
        with pytest.raises(CommandFailed):
            await customer.command("cobrowse_control_answer", request_id="forged", accept=True)
        mark = agent.mark()
        await customer.command("cobrowse_control_answer", request_id=asked["request_id"], accept=True)
        await agent.wait_for("cobrowse_control_state", lambda m: m["state"] == "granted", start=mark)
        mark = customer.mark()
        await agent.send({"type": "cobrowse_input", "visitor_id": visitor, "action": "text", "node": 7,
                          "text": "SPRING"})
        typed = await customer.wait_for("cobrowse_input", start=mark)
        assert typed["text"] == "SPRING" and typed["node"] == 7
        # Sizes are limited by the schema; typing needs a node.
        error = await _refused(agent, {"type": "cobrowse_input", "visitor_id": visitor, "action": "text",
                                       "node": 7, "text": "x" * 65})
        assert error["code"] == "bad_message"
        error = await _refused(agent, {"type": "cobrowse_input", "visitor_id": visitor, "action": "text",
                                       "text": "x"})
        assert error["code"] == "bad_message"
        # The customer's device refused one: the agent is told why.
        mark = agent.mark()
        await customer.send({"type": "cobrowse_control_refused", "reason": "masked"})
        assert (await agent.wait_for("cobrowse_control_refused", start=mark))["reason"] == "masked"

        # The customer takes control back: at once, further inputs are refused.
        mark = agent.mark()
        await customer.send({"type": "cobrowse_control_revoke"})
        revoked = await agent.wait_for("cobrowse_control_state", lambda m: m["state"] == "revoked", start=mark)
        assert revoked["by"] == "customer"
        probe = customer.mark()
        error = await _refused(agent, {"type": "cobrowse_input", "visitor_id": visitor, "action": "click", "node": 5})
        assert error["code"] == "invalid_state"
        await agent.command("cobrowse_navigate", visitor_id=visitor, url="/")  # the customer's socket lives on
        await customer.wait_for("cobrowse_navigate", start=probe)
        assert not [m for m in customer.messages[probe:] if m["type"] == "cobrowse_input"]

        async def grant() -> None:
            mark = customer.mark()
            await agent.command("cobrowse_control", visitor_id=visitor, action="request")
            asked = await customer.wait_for("cobrowse_control_request", start=mark)
            await customer.command("cobrowse_control_answer", request_id=asked["request_id"], accept=True)

        # The agent gives control back; and a page load ends it (the agent asks again there).
        await grant()
        mark = agent.mark()
        await agent.command("cobrowse_control", visitor_id=visitor, action="release")
        released = await agent.wait_for("cobrowse_control_state", lambda m: m["state"] == "revoked", start=mark)
        assert released["by"] == "agent"
        await grant()
        mark = agent.mark()
        await customer.close()
        ended = await agent.wait_for("cobrowse_control_state", lambda m: m["state"] == "revoked", start=mark)
        assert ended["by"] == "page"
    finally:
        errors = await _finish(agent, customer, callback_id)
    assert not [e for e in errors if e.get("code") == "internal"]

    url = server.database_url
    async with Repository.open(url) as repo:
        callback = await repo.get_callback(callback_id)
        events = await repo.timeline(callback.customer_id, kinds=[
            "cobrowse_navigated", "cobrowse_control_granted", "cobrowse_control_ended"])
    by_kind = {event.kind: event for event in events}
    assert by_kind["cobrowse_navigated"].data["url"] == "http://shop.test/cart"
    assert by_kind["cobrowse_navigated"].data["went"] is True
    assert "cobrowse_control_granted" in by_kind
    ended_by = sorted(event.data["by"] for event in events if event.kind == "cobrowse_control_ended")
    assert ended_by == ["agent", "customer", "page"]


async def test_control_is_refused_on_a_site_that_has_it_off(server):
    agent = await AgentBot.login(server.base_url, "carol", DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    customer = await CustomerBot.start(server.base_url, url="http://other.test/help", title="Help")
    mark = agent.mark()
    ack = await customer.command("call_me", name="Otto Site", queue="support", topic="help")
    callback_id = ack["callback_id"]
    offer = (await agent.wait_for("offer", start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    await agent.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected")
    try:
        await _share(agent, customer, callback_id)
        mark = customer.mark()
        with pytest.raises(CommandFailed) as off:
            await agent.command("cobrowse_control", visitor_id=customer.visitor_id, action="request")
        assert off.value.code == "unauthorized" and "off for this site" in str(off.value)
        # Navigation within that site still works; nothing about control reached the page.
        ack = await agent.command("cobrowse_navigate", visitor_id=customer.visitor_id, url="/faq")
        assert ack["url"] == "http://other.test/faq"
        await customer.wait_for("cobrowse_navigate", start=mark)
        assert not [m for m in customer.messages[mark:] if m["type"].startswith("cobrowse_control")]
    finally:
        await _finish(agent, customer, callback_id)
