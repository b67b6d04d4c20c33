"""Voice signaling over the real sockets of a real server, with aiortc bots as browsers.

Bad input is refused with a clear error and disturbs nothing: a malformed
SDP, a second offer for a live leg, signaling for someone else's call, a
call beyond the configured capacity, a supervisor action from a customer.
Runs in a network namespace of its own (aioice never uses 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from signaling.client import AgentBot, CommandFailed, CustomerBot, SupervisorBot
from tests.helpers.voice_bots import Bot
from tests.helpers.server import ServerProcess
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_netns()
    with network_namespace():
        server = ServerProcess(tmp_path_factory.mktemp("voice-sockets"),
                               env={"OTODESK_HOST": SERVER_ADDRESS, "OTODESK_VOICE_MAX_CALLS": "1", **VOICE_ENV,
                                    "OTODESK_VOICE_RECORDING": "sales:consent"})
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def connected_call(base_url: str, agent_name: str, customer_name: str):
    agent = await AgentBot.login(base_url, agent_name, DEMO_PASSWORD)
    await agent.command("set_state", state="available")
    customer = await CustomerBot.start(base_url)
    mark = agent.mark()
    callback_id = (await customer.command("call_me", name=customer_name, queue="sales", channel="browser"))["callback_id"]
    offer = (await agent.wait_for("offer", start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
    return agent, customer, callback_id


async def refused(client, code: str, type_: str = "voice_offer", **fields) -> str:
    with pytest.raises(CommandFailed) as failure:
        await client.command(type_, **fields)
    assert failure.value.code == code, failure.value.error
    return failure.value.error["message"]


async def join(bot: Bot, client, callback_id: str, **fields) -> dict:
    acks = []

    async def signal(sdp: str) -> str:
        acks.append(await client.command("voice_offer", callback_id=callback_id, sdp=sdp, **fields))
        return acks[-1]["sdp"]
    await bot.connect(signal)
    await bot.connected()
    return acks[-1]


async def hears(bot: Bot, hz: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bot.ears and len(bot.ears[0].samples) >= 9600 and bot.ears[0].hears([440, 880, 1500]) == hz:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"did not hear {hz} Hz")


async def test_bad_voice_signaling_is_refused_and_disturbs_nothing(server):
    alice, customer, callback_id = await connected_call(server.base_url, "alice", "Ann Voice")
    customer_bot, agent_bot = Bot(440), Bot(880)
    try:
        ack = await join(customer_bot, customer, callback_id)
        assert ack["call"]["state"] == "active"
        # "sales:consent": nothing is recorded until the customer says yes.
        assert ack["call"]["consent"] == "asked" and ack["call"]["recording"] is False
        await refused(alice, "bad_message", "voice_control", callback_id=callback_id, action="consent")

        # Malformed SDP, and an offer with video.
        await refused(alice, "bad_sdp", callback_id=callback_id, sdp="v=0\r\nthis is not sdp")
        await refused(alice, "bad_sdp", callback_id=callback_id, sdp="not even v=0")
        video = customer_bot.pc.localDescription.sdp.replace("m=audio", "m=video", 1)
        assert "audio only" in await refused(alice, "bad_sdp", callback_id=callback_id, sdp=video)
        # A second offer for the customer's live leg, also one claiming to reconnect it from another socket.
        again = customer_bot.pc.localDescription.sdp
        await refused(customer, "already_connected", callback_id=callback_id, sdp=again)
        second_tab = await CustomerBot.start(server.base_url, token=customer.token)
        try:
            await refused(second_tab, "already_connected", callback_id=callback_id, sdp=again, reconnect=True)
        finally:
            await second_tab.close()
        # Someone else's call: another visitor, another agent.
        stranger = await CustomerBot.start(server.base_url)
        bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
        try:
            assert "yours" in await refused(stranger, "not_found", callback_id=callback_id, sdp=again)
            await refused(bob, "not_found", callback_id=callback_id, sdp=again)
            await refused(stranger, "not_found", "voice_control", callback_id=callback_id, action="mute")
            assert (await notified(stranger, callback_id=callback_id, rtt_ms=1.0))["code"] == "not_found"
            # A customer can't act as a supervisor.
            await refused(customer, "bad_message", "voice_control", callback_id=callback_id, action="barge")
        finally:
            await stranger.close()
            await bob.close()

        # The call goes on: the agent joins and both hear each other.
        await join(agent_bot, alice, callback_id)
        await hears(agent_bot, 440)
        await hears(customer_bot, 880)
        # The browser's own getStats: schema-checked, once a second at most, kept with the leg.
        assert (await notified(customer, callback_id=callback_id, loss=2.0))["code"] == "bad_message"
        assert (await notified(customer, callback_id=callback_id, rtt_ms="fast"))["code"] == "bad_message"
        await asyncio.sleep(1.1)
        await customer.send({"type": "voice_stats", "callback_id": callback_id, "rtt_ms": 12.5, "jitter_ms": 3.0,
                             "loss": 0.01, "concealed_ms": 40.0})
        assert (await notified(customer, callback_id=callback_id, rtt_ms=1.0))["code"] == "rate_limited"
        # A later report that knows less (here only the loss) keeps the figures it lacks.
        await asyncio.sleep(1.1)
        await customer.send({"type": "voice_stats", "callback_id": callback_id, "loss": 0.01})
        consented = await customer.command("voice_control", callback_id=callback_id, action="consent")
        assert consented["call"]["recording"] is True and consented["call"]["consent"] == "given"
        # The answer is on the customer's timeline: an audit of consent, and what a process that
        # takes the call over reads back (tests/integration/test_voice_two_processes.py).
        async with Repository.open(server.database_url) as repo:
            customer_id = (await repo.get_callback(callback_id)).customer_id
            [answer] = await repo.timeline(customer_id, kinds=["recording_consent"])
            last = await repo.last_contact_event(customer_id, kind="recording_consent", callback_id=callback_id)
        assert (answer.channel, answer.callback_id, answer.data) == ("voice", callback_id, {"given": True})
        assert last == answer

        # Capacity (1 call here): a second connected call can't get voice.
        bob, other, other_id = await connected_call(server.base_url, "bob", "Carl Capacity")
        try:
            extra = Bot(440)
            try:
                with pytest.raises(CommandFailed) as failure:
                    await extra.connect(lambda sdp: _offer(other, other_id, sdp))
                assert failure.value.code == "capacity"
            finally:
                await extra.close()
            await other.command("voice_control", callback_id=other_id, action="hangup")
            await bob.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
        finally:
            await other.close()
            with contextlib.suppress(CommandFailed):
                # Leaving wrap-up takes an outcome now (Done), never a bare state change.
                await bob.command("wrap_up", callback_id=other_id, disposition="Resolved")
            with contextlib.suppress(CommandFailed):
                await bob.command("set_state", state="away", reason="test over")
            await bob.close()
        await hears(agent_bot, 440)

        # A supervisor listens in, then the customer hangs up: the agent is in wrap-up, the call gone.
        sam = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
        supervisor_bot = Bot(1500)
        try:
            told_from = customer.mark()
            agent_from = alice.mark()
            await join(supervisor_bot, sam, callback_id, mode="listen")
            await hears(supervisor_bot, 440)
            # The agent knows; the customer's frames say nothing of a silent listen (the site's
            # policy, OTODESK_SUPERVISOR_NOTICE=barge, the default)...
            await alice.wait_for("voice_state", lambda m: m["call"]["supervisor"] == "listen", start=agent_from)
            await asyncio.sleep(0.5)  # any voice_state the listen caused has reached the customer
            told = [m["call"] for m in customer.messages[told_from:] if m.get("type") == "voice_state"]
            assert all(c["supervisor"] is None and set(c["legs"]) <= {"customer", "agent"} for c in told), told
            # ...but is told when the supervisor barges in and speaks to them.
            await sam.command("voice_control", callback_id=callback_id, action="barge")
            await customer.wait_for("voice_state", lambda m: m["call"]["supervisor"] == "barge", start=told_from)
            await sam.command("voice_control", callback_id=callback_id, action="listen")
            # The wall gets the browser's report beside aiortc's own view of the leg. aiortc's
            # round trip needs a sender report and the receiver's reply (each sent every
            # 0.5-1.5 s), so a busy machine may publish a report or two before it is known.
            def customer_leg(m: dict) -> dict:
                return {leg["role"]: leg for leg in m["calls"].get(callback_id, [])}.get("customer", {})
            quality = await sam.wait_for("voice_quality", lambda m: customer_leg(m).get("rtt_ms") is not None,
                                         timeout=20)
            leg = customer_leg(quality)
            assert leg["browser"] == {"rtt_ms": 12.5, "jitter_ms": 3.0, "loss": 0.01, "concealed_ms": 40.0}
            assert 0 < leg["rtt_ms"] < 1000 and leg["state"] == "connected"
            mark = sam.mark()
            await customer.command("voice_control", callback_id=callback_id, action="hangup")
            await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
            ended = await sam.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", start=mark)
            assert ended["call"]["callback_id"] == callback_id
            recording = server.var_dir / "recordings" / f"{callback_id}.ogg"
            deadline = time.monotonic() + 10
            while not recording.exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert recording.stat().st_size > 1000
        finally:
            await supervisor_bot.close()
            await sam.close()
    finally:
        await customer_bot.close()
        await agent_bot.close()
        await customer.close()
        with contextlib.suppress(CommandFailed):
            # Leaving wrap-up takes an outcome now (Done), never a bare state change.
            await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        with contextlib.suppress(CommandFailed):
            await alice.command("set_state", state="away", reason="test over")
        await alice.close()


async def notified(client, **fields) -> dict:
    """Send a ``voice_stats`` (a notification, no ack) and return the ``error`` it brings back."""
    mark = client.mark()
    await client.send({"type": "voice_stats", **fields})
    return await client.wait_for("error", start=mark, timeout=5)


async def _offer(client, callback_id: str, sdp: str) -> str:
    return (await client.command("voice_offer", callback_id=callback_id, sdp=sdp))["sdp"]


async def test_a_queues_recording_policy_set_in_the_admin_console_wins_from_the_next_call(server):
    """Issue 14: OTODESK_VOICE_RECORDING says "sales:consent"; the console's "on" for sales
    records the next call at once (nobody asked), with no restart."""
    from tests.integration.test_admin_api import staff_client

    admin = await staff_client(server.base_url, "admin")
    try:
        saved = await admin.put("/api/v1/admin/queues/sales", json={
            "title": "Sales", "skills": ["sales"], "service_level_target": 20, "recording": "on"})
        assert saved.status_code == 200, saved.text
    finally:
        await admin.aclose()
    bob, customer, callback_id = await connected_call(server.base_url, "bob", "Ola Policy")
    customer_bot = Bot(440)
    try:
        ack = await join(customer_bot, customer, callback_id)
        assert (ack["call"]["recording"], ack["call"]["consent"]) == (True, None)
        await customer.command("voice_control", callback_id=callback_id, action="hangup")
        await bob.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
    finally:
        await customer_bot.close()
        await customer.close()
        with contextlib.suppress(CommandFailed):
            await bob.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        with contextlib.suppress(CommandFailed):
            await bob.command("set_state", state="away", reason="test over")
        await bob.close()
