"""The callback loop end to end over real sockets: a real ``otodesk demo`` process, Python bots."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot, SupervisorBot
from tests.helpers.server import CONSENT, running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Every bot comes from 127.0.0.1: the per-address phone budget would be the module's.
    env = {"OTODESK_OFFER_TIMEOUT": "2", "OTODESK_WRAPUP_TIMEOUT": "30", "OTODESK_CALLME_PER_PHONE": "3",
           "OTODESK_ABANDON_GRACE": "3", "OTODESK_CALLME_PER_ADDRESS": "1000"}
    with running_server(tmp_path_factory.mktemp("loop"), env=env) as server:
        yield server


async def available(base_url: str, username: str) -> AgentBot:
    agent = await AgentBot.login(base_url, username, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
    return agent


async def away(agent: AgentBot) -> None:
    await agent.command("set_state", state="away", reason="test over")
    await agent.close()


async def test_call_me_offer_accept_wrap_up(server):
    alice = await available(server.base_url, "alice")
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/product/kettle",
                                       title="Kettle")
    try:
        await customer.send({"type": "page_view", "url": "http://shop.test/cart", "title": "Cart"})
        await customer.command("set_context", context={"cart": [{"sku": "kettle", "qty": 1}]})
        mark = alice.mark()
        ack = await customer.command("call_me", name="Ann Example", queue="sales",
                                     topic="Checkout fails", channel="phone", consent=CONSENT, phone="(415) 555-2671")
        callback_id = ack["callback_id"]

        offer = (await alice.wait_for("offer", start=mark))["offer"]
        assert offer["callback_id"] == callback_id
        assert offer["customer"]["name"] == "Ann Example"
        assert offer["callback"]["phone"] == "+14155552671"
        assert offer["page"]["url"] == "http://shop.test/cart"
        assert [p["url"] for p in offer["trail"]][:2] == ["http://shop.test/cart", "http://shop.test/product/kettle"]
        assert offer["context"]["cart"][0]["sku"] == "kettle"
        assert offer["expires_at"] > offer["offered_at"]

        # The customer moves on: the agent sees the new page live.
        await customer.send({"type": "page_view", "url": "http://shop.test/checkout", "title": "Checkout"})
        page = await alice.wait_for("customer_page", start=mark)
        assert page["url"] == "http://shop.test/checkout"

        await alice.command("accept", offer_id=offer["offer_id"])
        contact = (await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected"))
        assert contact["contact"]["callback_id"] == callback_id
        status = await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
        assert status["callback"]["agent_name"] == "Alice Archer" or status["callback"]["agent_name"]

        await alice.command("end", callback_id=callback_id)
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "completed")
        await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved", note="Card re-entered")
        await alice.wait_for("agent_state", lambda m: m["state"]["state"] == "available",
                             start=alice.mark() - 3)
    finally:
        await customer.close()
        await away(alice)


async def test_decline_goes_to_next_agent_and_timeout_sets_away(server):
    bob = await available(server.base_url, "bob")
    await asyncio.sleep(0.05)
    alice = await available(server.base_url, "alice")
    customer = await CustomerBot.start(server.base_url)
    try:
        ack = await customer.command("call_me", name="Ben", queue="sales")
        # bob has been idle longest: he is offered first, declines.
        offer = (await bob.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"]))["offer"]
        await bob.command("decline", offer_id=offer["offer_id"])
        second = (await alice.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"]))["offer"]
        # alice lets it time out (2 s here): she is set away, the offer goes back to bob.
        ended = await alice.wait_for("offer_ended", lambda m: m["offer_id"] == second["offer_id"], timeout=6)
        assert ended["outcome"] == "timed_out"
        await alice.wait_for("agent_state", lambda m: m["state"]["state"] == "away")
        third = await bob.wait_for("offer", lambda m: m["offer"]["offer_id"] not in (offer["offer_id"],), timeout=6)
        assert third["offer"]["callback_id"] == ack["callback_id"]
        await customer.command("cancel", callback_id=ack["callback_id"])
        await bob.wait_for("offer_ended", lambda m: m["offer_id"] == third["offer"]["offer_id"])
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "cancelled")
    finally:
        await customer.close()
        await away(bob)
        await away(alice)


async def test_waiting_customer_sees_position_and_keeps_place_across_pages(server):
    first = await CustomerBot.start(server.base_url)
    second = await CustomerBot.start(server.base_url)
    try:
        a = await first.command("call_me", name="First", queue="support")
        b = await second.command("call_me", name="Second", queue="support")
        status = await second.wait_for("callback_status", lambda m: m["callback"]["position"] == 2)
        assert status["callback"]["id"] == b["callback_id"]
        # "Navigate": a new socket with the same token, as the next page load does.
        await second.close()
        again = await CustomerBot.start(server.base_url, token=second.token, url="http://shop.test/faq")
        assert again.welcome["callback"]["id"] == b["callback_id"]
        await again.wait_for("callback_status", lambda m: m["callback"]["position"] == 2)
        await again.command("cancel", callback_id=b["callback_id"])
        await first.command("cancel", callback_id=a["callback_id"])
        await again.close()
    finally:
        await first.close()
        await second.close()


async def test_resume_replays_missed_events(server):
    customer = await CustomerBot.start(server.base_url)
    try:
        ack = await customer.command("call_me", name="Resumer", queue="support")
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued")
        seen = customer.last_seq
        await customer.close()
        # While it is away, something happens in its room.
        other = await CustomerBot.start(server.base_url, token=customer.token)
        await other.command("cancel", callback_id=ack["callback_id"])
        await other.wait_for("callback_status", lambda m: m["callback"]["state"] == "cancelled")
        await other.close()
        customer.last_seq = seen
        customer.messages.clear()
        first = await customer.connect(resume=True)
        assert first["type"] == "resumed"
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "cancelled")
        # Too old for the window: a full welcome instead.
        customer.last_seq = -5
        await customer.close()
        assert (await customer.connect(resume=True))["type"] == "welcome"
    finally:
        await customer.close()


async def test_phone_numbers_are_checked(server):
    customer = await CustomerBot.start(server.base_url)
    try:
        with pytest.raises(CommandFailed) as invalid:
            await customer.command("call_me", name="X", queue="sales", channel="phone", consent=CONSENT, phone="12")
        assert invalid.value.code == "invalid_phone"
        with pytest.raises(CommandFailed) as premium:
            await customer.command("call_me", name="X", queue="sales", channel="phone", consent=CONSENT, phone="+1 900 555 0123")
        assert premium.value.code == "phone_refused"
        assert "premium" in premium.value.error["message"]
        with pytest.raises(CommandFailed) as queue:
            await customer.command("call_me", name="X", queue="nope")
        assert queue.value.code == "unknown_queue"
    finally:
        await customer.close()


async def test_call_me_rate_limited_per_phone(server):
    # Requests cancelled before anyone called give their place back (a customer who
    # cancelled by mistake may ask again); the attempts per number (2 x 3) stay capped.
    phone = "+1 202 555 0147"
    refused = None
    for attempt in range(8):
        customer = await CustomerBot.start(server.base_url)
        try:
            ack = await customer.command("call_me", name="Rate", queue="support", channel="phone", consent=CONSENT, phone=phone)
            await customer.command("cancel", callback_id=ack["callback_id"])
        except CommandFailed as exc:
            refused = (attempt, exc)
            break
        finally:
            await customer.close()
    assert refused is not None, "the seventh request for one phone must be refused"
    attempt, exc = refused
    assert attempt == 6 and exc.code == "too_many_requests"
    assert "in the last 10 minutes" in exc.error["message"]
    assert "You can ask again in 10 minutes." in exc.error["message"]
    assert 590 <= exc.error["retry_after"] <= 600


async def test_bad_input_gets_errors_and_breaks_nothing(server):
    customer = await CustomerBot.start(server.base_url)
    try:
        mark = customer.mark()
        await customer.send("{not json")
        await customer.send(json.dumps({"type": "launch_missiles"}))
        await customer.send(json.dumps({"type": "call_me", "id": "x1", "name": 5, "queue": "sales"}))
        await customer.send(json.dumps({"type": "accept", "id": "x2", "offer_id": "o1"}))
        await customer.send(json.dumps({"type": "page_view", "url": "u" * 100_000}))
        codes = [(await customer.wait_for("error", start=mark + i))["code"] for i in range(5)]
        assert codes == ["bad_json", "unknown_type", "bad_message", "unknown_type", "too_large"]
        # Still alive and useful.
        ack = await customer.command("call_me", name="Still here", queue="support")
        await customer.command("cancel", callback_id=ack["callback_id"])
    finally:
        await customer.close()


async def test_rate_of_messages_is_limited(server):
    customer = await CustomerBot.start(server.base_url)
    try:
        mark = customer.mark()
        for _ in range(100):
            await customer.send({"type": "ping"})
        error = await customer.wait_for("error", start=mark)
        assert error["code"] == "rate_limited"
    finally:
        await customer.close()


async def test_hello_must_come_first_and_tokens_are_checked(server):
    ws_url = server.base_url.replace("http", "ws")
    async with websockets.connect(f"{ws_url}/ws/customer") as socket:
        await socket.send(json.dumps({"type": "call_me", "id": "c1", "name": "x", "queue": "sales"}))
        assert json.loads(await socket.recv())["code"] == "not_ready"
        await socket.send(json.dumps({"type": "hello", "token": "forged.token.value"}))
        assert json.loads(await socket.recv())["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd.code == 4401
    async with websockets.connect(f"{ws_url}/ws/agent") as socket:
        await socket.send(json.dumps({"type": "hello"}))
        assert json.loads(await socket.recv())["code"] == "unauthorized"


async def test_foreign_origin_is_refused(server):
    ws_url = server.base_url.replace("http", "ws")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{ws_url}/ws/agent", additional_headers={"Origin": "http://evil.example"}):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(f"{ws_url}/ws/customer", additional_headers={"Origin": server.base_url}) as ok:
        await ok.send(json.dumps({"type": "ping"}))
        assert json.loads(await ok.recv())["code"] == "not_ready"


async def test_supervisor_wall_moves(server):
    sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
    customer = await CustomerBot.start(server.base_url)
    try:
        ack = await customer.command("call_me", name="Walled", queue="support")
        wall = await sam.wait_for_wall(lambda m: _queue(m, "support")["waiting"] >= 1, timeout=8)
        offered, abandoned = _queue(wall, "support")["offered"], _queue(wall, "support")["abandoned"]
        mark = sam.mark_wall()  # a wall from before (an earlier test's) must not answer for this cancel
        await customer.command("cancel", callback_id=ack["callback_id"])
        wall = await sam.wait_for_wall(lambda m: _queue(m, "support")["abandoned"] > abandoned
                                  and _queue(m, "support")["waiting"] == 0, timeout=8, start=mark)
        assert _queue(wall, "support")["offered"] >= offered
        assert "history" in wall
    finally:
        await customer.close()
        await sam.close()


async def test_agents_cannot_open_the_wall(server):
    alice = AgentBot(server.base_url, headers={"Cookie": (await AgentBot.login(
        server.base_url, "alice", DEMO_PASSWORD, connect=False)).headers["Cookie"]})
    alice.path = "/ws/supervisor"
    with pytest.raises(CommandFailed) as refused:
        await alice.connect()
    assert refused.value.code == "unauthorized"
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        page = await http.get("/supervisor", headers={"Cookie": alice.headers["Cookie"]})
        assert page.status_code == 403


def _queue(wall: dict, name: str) -> dict:
    return next(q for q in wall["queues"] if q["name"] == name)


async def test_scheduled_callback_enters_the_queue_at_its_time(server):
    customer = await CustomerBot.start(server.base_url)
    try:
        at = time.time() + 2.5
        ack = await customer.command("call_me", name="Later", queue="support", scheduled_at=at)
        status = await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "scheduled")
        assert status["callback"]["scheduled_at"] == pytest.approx(at)
        queued = await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued", timeout=8)
        assert time.time() >= at - 0.05
        assert queued["callback"]["id"] == ack["callback_id"]
        with pytest.raises(CommandFailed) as too_far:
            await customer.command("call_me", name="Later", queue="support", scheduled_at=time.time() + 90 * 86400)
        assert too_far.value.code in ("bad_time", "already_waiting")
        await customer.command("cancel", callback_id=ack["callback_id"])
    finally:
        await customer.close()


async def test_gone_browser_customer_is_abandoned_but_a_phone_callback_waits(server):
    browser = await CustomerBot.start(server.base_url)
    phone = await CustomerBot.start(server.base_url)
    await browser.command("call_me", name="Gone", queue="support")
    kept = await phone.command("call_me", name="Phone", queue="support", channel="phone", consent=CONSENT, phone="+1 202 555 0123")
    await browser.close()
    await phone.close()
    await asyncio.sleep(4.5)  # the grace is 3 s here
    back = await CustomerBot.start(server.base_url, token=browser.token)
    assert back.welcome["callback"] is None  # abandoned: nothing active any more
    still = await CustomerBot.start(server.base_url, token=phone.token)
    assert still.welcome["callback"]["id"] == kept["callback_id"]
    await still.command("cancel", callback_id=kept["callback_id"])
    await back.close()
    await still.close()


async def test_out_of_order_agent_commands_are_refused(server):
    carol = await AgentBot.login(server.base_url, "carol", DEMO_PASSWORD)
    try:
        for command, fields, codes in [
            ("accept", {"offer_id": "no-such-offer"}, ("not_found", "invalid_state")),
            ("decline", {"offer_id": "no-such-offer"}, ("not_found", "invalid_state")),
            ("end", {"callback_id": "no-such-callback"}, ("not_found", "invalid_state")),
            ("wrap_up", {"callback_id": "no-such-callback", "disposition": "Resolved"}, ("not_found",)),
        ]:
            with pytest.raises(CommandFailed) as refused:
                await carol.command(command, **fields)
            assert refused.value.code in codes, (command, refused.value.error)
        # Still usable afterwards.
        await carol.command("set_state", state="available")
        await carol.command("set_state", state="away", reason="done")
    finally:
        await carol.close()


async def test_new_visitor_tokens_are_rate_limited_per_address(tmp_path):
    env = {"OTODESK_NEW_VISITORS_PER_MINUTE": "5"}
    with running_server(tmp_path, env=env) as small:
        async with httpx.AsyncClient(base_url=small.base_url) as http:
            codes = [(await http.post("/api/visitor", json={})).status_code for _ in range(7)]
            assert codes == [200] * 5 + [429, 429]
            token = (await http.post("/api/visitor", json={})).json().get("token")
            assert token is None
            huge = await http.post("/api/visitor", content=b"{" + b" " * 10000 + b"}",
                                   headers={"content-type": "application/json"})
            assert huge.status_code == 413


async def test_an_agent_whose_desk_closed_gets_no_offer_until_it_is_back(server):
    sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
    carol = await available(server.base_url, "carol")
    customer = await CustomerBot.start(server.base_url)
    back = None
    try:
        # She is available on the wall first: the wall sam got on joining may be older (it is
        # published at most once a second), showing her away from an earlier test.
        await sam.wait_for_wall(lambda m: _agent(m, "carol") and _agent(m, "carol")["state"] == "available",
                           timeout=8)
        mark = sam.mark_wall()
        await carol.close()  # the tab closed; she is still in the reconnect grace
        wall = await sam.wait_for_wall(lambda m: _agent(m, "carol") and _agent(m, "carol")["state"] != "available",
                                  timeout=8, start=mark)
        assert (_agent(wall, "carol")["state"], _agent(wall, "carol")["reason"]) == ("away", "desk closed")
        ack = await customer.command("call_me", name="Nobody Home", queue="support", channel="phone", consent=CONSENT,
                                     phone="+1 202 555 0142")
        await asyncio.sleep(1.0)  # an offer to her would have been made by now
        status = [m for m in customer.messages if m.get("type") == "callback_status"][-1]
        assert status["callback"]["state"] == "queued"
        # Her desk is back (a reload): she is available again and the waiting callback is offered to her.
        back = await AgentBot.login(server.base_url, "carol", DEMO_PASSWORD)
        offer = (await back.wait_for("offer", timeout=8))["offer"]
        assert offer["callback_id"] == ack["callback_id"]
        await back.command("decline", offer_id=offer["offer_id"])
        await customer.command("cancel", callback_id=ack["callback_id"])
    finally:
        await customer.close()
        await sam.close()
        if back is not None:
            await away(back)


async def test_an_agent_made_available_with_no_desk_open_gets_no_offer(tmp_path):
    """Her wrap-up times out after she closed the desk: she is not made available to a closed tab."""
    with running_server(tmp_path, env={"OTODESK_WRAPUP_TIMEOUT": "2"}) as small:
        sam = await SupervisorBot.login(small.base_url, "sam", DEMO_PASSWORD)
        carol = await available(small.base_url, "carol")
        first = await CustomerBot.start(small.base_url)
        second = await CustomerBot.start(small.base_url)
        try:
            await first.command("call_me", name="First", queue="support", channel="phone", consent=CONSENT, phone="+1 202 555 0143")
            offer = (await carol.wait_for("offer", timeout=8))["offer"]
            await carol.command("accept", offer_id=offer["offer_id"])
            await carol.command("end", callback_id=offer["callback_id"])
            await carol.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
            await carol.close()  # in wrap-up, the tab closes; the wrap-up then times out
            await sam.wait_for_wall(lambda m: (_agent(m, "carol") or {}).get("reason") == "desk closed",
                               timeout=10)
            await second.command("call_me", name="Second", queue="support", channel="phone", consent=CONSENT,
                                 phone="+1 202 555 0144")
            await asyncio.sleep(1.0)
            status = [m for m in second.messages if m.get("type") == "callback_status"][-1]
            assert status["callback"]["state"] == "queued"
        finally:
            await first.close()
            await second.close()
            await sam.close()


def _agent(wall: dict, username: str) -> dict | None:
    return next((a for a in wall["agents"] if a["username"] == username), None)
