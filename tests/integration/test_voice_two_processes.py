"""A call between a customer on one process and an agent on another, through Redis.

Both processes, their Redis (a redis-server of the test's own) and the aiortc
bots run in a network namespace of their own; the processes share one SQLite
file (PostgreSQL on the host is outside the namespace). The customer's process
anchors the call (it offered first); the agent's offer, mute and hang-up reach
it over the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot
from tests.helpers.voice_bots import Bot
from tests.helpers.cluster import two_processes
from tests.helpers.netns import network_namespace, require_netns

pytestmark = pytest.mark.asyncio(loop_scope="module")

REDIS_PORT = 6391


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    require_netns()
    tmp = tmp_path_factory.mktemp("voice-two")
    with network_namespace(), two_processes(tmp, redis_port=REDIS_PORT,
                                            env={"OTODESK_VOICE_RECORDING": "support:consent"}) as servers:
        yield list(servers)


async def hears(bot: Bot, hz: int | None, timeout: float = 6.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bot.ears:
            ear = bot.ears[0]
            ear.clear()
            await asyncio.sleep(0.3)
            heard = ear.hears([440, 880]) if len(ear.samples) >= 9600 else None
            if heard == hz:
                return
        else:
            await asyncio.sleep(0.1)
    raise AssertionError(f"did not hear {hz}")


def offers_via(client, callback_id: str, **extra):
    """A bot's signalling: its SDP offer as ``client``'s ``voice_offer`` (``reconnect=True`` remakes a leg)."""
    async def signal(sdp: str) -> str:
        return (await client.command("voice_offer", callback_id=callback_id, sdp=sdp, **extra))["sdp"]
    return signal


async def connect_legs(bots: list[Bot], customer, agent, callback_id: str, **extra) -> None:
    """``bots[0]``'s leg offered through the customer's socket, ``bots[1]``'s through the agent's
    (``reconnect=True``: remaking dropped ones); returns once both are connected."""
    await bots[0].connect(offers_via(customer, callback_id, **extra))
    await bots[1].connect(offers_via(agent, callback_id, **extra))
    for bot in bots:
        await bot.connected()


async def answered_call(alice: AgentBot, customer: CustomerBot, *, name: str, queue: str) -> str:
    """Alice available, the customer's browser call asked for, offered, accepted: its callback id."""
    await alice.command("set_state", state="available")
    await alice.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
    mark = alice.mark()
    callback_id = (await customer.command("call_me", name=name, queue=queue, channel="browser"))["callback_id"]
    offer = (await alice.wait_for("offer", start=mark, timeout=10))["offer"]
    await alice.command("accept", offer_id=offer["offer_id"])
    await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected", timeout=10)
    return callback_id


async def test_customer_on_one_process_agent_on_another(cluster):
    a, b = cluster
    alice = await AgentBot.login(b.base_url, "alice", DEMO_PASSWORD)
    customer = await CustomerBot.start(a.base_url)
    customer_bot, agent_bot = Bot(440), Bot(880)
    try:
        callback_id = await answered_call(alice, customer, name="Two Process", queue="sales")
        await connect_legs([customer_bot, agent_bot], customer, alice, callback_id)  # a anchors; b over the bus
        await hears(agent_bot, 440)
        await hears(customer_bot, 880)

        # Controls from the agent's process reach the anchor; its events reach both rooms.
        await alice.command("voice_control", callback_id=callback_id, action="mute")
        await hears(customer_bot, None)
        state = await customer.wait_for("voice_state", lambda m: "agent" in m["call"]["muted"], timeout=5)
        assert state["call"]["legs"] == {"customer": "connected", "agent": "connected"}
        await alice.command("voice_control", callback_id=callback_id, action="unmute")
        await hears(customer_bot, 880)

        await alice.command("voice_control", callback_id=callback_id, action="hangup")
        await customer.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", timeout=5)
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up", timeout=5)
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


async def test_sigterm_drains_the_anchoring_process_and_the_call_goes_on(cluster):
    """A rolling restart's SIGTERM to the process that anchors a call: its sockets are told to
    reconnect elsewhere (the customer's page comes back on b), it gives up the router at once,
    and it keeps anchoring the call, undisturbed (no leg reconnects), until the call ends;
    then it exits, well before its drain time. Nothing is lost: the call is recorded once
    and the agent wraps up on b. Process a is started again for the next test."""
    a, b = cluster
    alice = await AgentBot.login(b.base_url, "alice", DEMO_PASSWORD)
    customer = await CustomerBot.start(a.base_url)
    bots = [Bot(440), Bot(880)]
    back = stopped = None
    try:
        callback_id = await answered_call(alice, customer, name="Drained Call", queue="sales")
        answered = time.monotonic()
        await connect_legs(bots, customer, alice, callback_id)  # a anchors; the agent's leg on b, over the bus
        await hears(bots[1], 440)
        await hears(bots[0], 880)

        mark = alice.mark()
        stopped = time.monotonic()
        a.process.send_signal(signal.SIGTERM)
        # The customer's page is closed with 1012 and reconnects (to b: the proxy's job).
        assert await customer.wait_closed(timeout=5) == 1012
        back = await CustomerBot.start(b.base_url, token=customer.token)
        [call] = back.welcome["voice"]["calls"]
        assert call["callback_id"] == callback_id and call["legs"] == {"customer": "connected", "agent": "connected"}
        # a still carries the call: both still hear each other, nobody was told to reconnect.
        await asyncio.sleep(1.0)
        await hears(bots[1], 440)
        await hears(bots[0], 880)
        assert a.process.poll() is None, "a left before its call ended"
        legs = [m["call"]["legs"] for m in alice.messages[mark:] + back.messages
                if m.get("type") == "voice_state" and m["call"]["callback_id"] == callback_id]
        assert all("reconnecting" not in leg.values() for leg in legs), legs

        await alice.command("voice_control", callback_id=callback_id, action="hangup")
        await back.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", timeout=5)
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up", timeout=10)
        # Once its call ended, a exits without waiting out its drain time (25 s), as a stopped
        # process does: uvicorn re-raises the SIGTERM it handled. (Its shutdown took over 10 s
        # once with four test workers on two cores: the bound is the drain time, not a guess.)
        assert a.process.wait(24) in (0, -signal.SIGTERM)
        assert time.monotonic() - stopped < 25
        assert "draining: 1 call(s) anchored here" in a.log() and "still on" not in a.log()
        events = await _events(b, callback_id, "voice_call")
        assert len(events) == 1 and events[0]["seconds"] >= time.monotonic() - answered - 12, events
        await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved")
    finally:
        for bot in bots:
            await bot.close()
        for client in (customer, back):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()
        with contextlib.suppress(Exception):
            await alice.command("set_state", state="away", reason="test over")
        await alice.close()
        if stopped is not None:
            # Stopped, failed or not: the next test needs a whole again, not one still draining.
            try:
                a.process.wait(30)
            except subprocess.TimeoutExpired:
                a.process.kill()
                a.process.wait()
            a.start()


async def test_a_call_outlasting_the_drain_time_moves_to_the_other_process(cluster):
    """SIGTERM to the process anchoring a call with both parties' sockets on it, and the call
    outlasts its drain time (3 s here): the sockets come back on b (the customer's page afresh,
    the desk's resuming), the call stays on a until the drain ends, then a lets it go and b
    takes it over at once as a dead anchor's, never telling anyone it ended. Before, b did not
    watch a call none of its sockets had offered a leg to, and a ended the call on its way out
    (the desk dropped its voice; the call was recorded as over and held claimed a minute)."""
    a, b = cluster
    a.kill()
    a.env["OTODESK_DRAIN_SECONDS"] = "3"
    a.start()
    alice = await AgentBot.login(a.base_url, "alice", DEMO_PASSWORD)
    customer = await CustomerBot.start(a.base_url)
    bots = [Bot(440), Bot(880)]
    back = None
    try:
        callback_id = await answered_call(alice, customer, name="Outlasting Call", queue="sales")
        answered = time.monotonic()
        await connect_legs(bots, customer, alice, callback_id)
        await hears(bots[1], 440)

        a.process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert await customer.wait_closed(timeout=5) == 1012
        assert await alice.wait_closed(timeout=5) == 1012
        back = await CustomerBot.start(b.base_url, token=customer.token)
        alice.base_url = b.base_url
        assert (await alice.connect(resume=True))["type"] == "resumed"
        mark = alice.mark()
        await hears(bots[1], 440)  # still on a, draining
        told = await alice.wait_for("voice_state", lambda m: m["call"]["callback_id"] == callback_id
                                    and m["call"]["legs"].get("agent") == "reconnecting", start=mark, timeout=15)
        assert time.monotonic() - stopped >= 2.5, "the call moved before a's drain time was over"
        assert told["call"]["state"] == "active"
        assert a.process.wait(15) in (0, -signal.SIGTERM)
        for bot in bots:
            await bot.close()
        bots = [Bot(440), Bot(880)]
        await connect_legs(bots, back, alice, callback_id, reconnect=True)
        await hears(bots[1], 440)
        await hears(bots[0], 880)
        ended = [m for m in alice.messages + back.messages
                 if m.get("type") == "voice_state" and m["call"]["state"] == "ended"]
        assert not ended, ended

        await alice.command("voice_control", callback_id=callback_id, action="hangup")
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up", timeout=10)
        events = await _events(b, callback_id, "voice_call")
        assert len(events) == 1 and events[0]["seconds"] >= time.monotonic() - answered - 2, events
    finally:
        for bot in bots:
            await bot.close()
        for client in (customer, back):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()
        with contextlib.suppress(Exception):
            await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        with contextlib.suppress(Exception):
            await alice.command("set_state", state="away", reason="test over")
        await alice.close()
        try:
            a.process.wait(20)
        except subprocess.TimeoutExpired:
            a.kill()
        a.env.pop("OTODESK_DRAIN_SECONDS")
        a.start()


async def test_the_anchoring_process_dies_and_the_call_moves(cluster):
    """``kill -9`` of the process that anchors a call: both parties are told, both legs are remade on
    the surviving process (what the browsers' common/voicelink.js does), they hear each other again,
    and the call's record covers the whole conversation. The customer's yes to recording (a
    "support:consent" queue) outlives process a: the call goes on recording, nobody asks again.
    Runs last: it kills process a."""
    a, b = cluster
    alice = await AgentBot.login(b.base_url, "alice", DEMO_PASSWORD)
    customer = await CustomerBot.start(a.base_url)
    bots = [Bot(440), Bot(880)]
    back = None
    try:
        callback_id = await answered_call(alice, customer, name="Moved Call", queue="support")
        answered = time.monotonic()
        await connect_legs(bots, customer, alice, callback_id)  # a anchors; the agent's leg on b, over the bus
        await hears(bots[1], 440)
        await hears(bots[0], 880)
        consented = await customer.command("voice_control", callback_id=callback_id, action="consent")
        assert (consented["call"]["consent"], consented["call"]["recording"]) == ("given", True)

        mark = alice.mark()
        a.kill()
        # The agent's process sees the anchor's claim lapse, takes the call over and says so.
        told = await alice.wait_for("voice_state", lambda m: m["call"]["callback_id"] == callback_id
                                    and m["call"]["legs"].get("customer") == "reconnecting", start=mark, timeout=20)
        assert told["call"]["state"] == "active" and told["call"]["legs"]["agent"] == "reconnecting"
        assert (told["call"]["consent"], told["call"]["recording"]) == ("given", True)

        # The customer's page reconnects (to b: a load balancer's job) and is told the same.
        back = await CustomerBot.start(b.base_url, token=customer.token)
        [call] = back.welcome["voice"]["calls"]
        assert call["callback_id"] == callback_id and call["legs"]["customer"] == "reconnecting"
        assert call["consent"] == "given"
        for bot in bots:
            await bot.close()
        bots = [Bot(440), Bot(880)]
        await connect_legs(bots, back, alice, callback_id, reconnect=True)
        await hears(bots[1], 440)
        await hears(bots[0], 880)
        state = await back.wait_for("voice_state", lambda m: m["call"]["legs"] == {"customer": "connected",
                                                                                     "agent": "connected"},
                                    timeout=10)
        assert state["call"]["started_at"] <= time.time() - (time.monotonic() - answered) + 1
        # Rebuilt on b with the customer's answer: recording, and the question is never put again.
        assert (state["call"]["consent"], state["call"]["recording"]) == ("given", True)
        since_move = [m["call"]["consent"] for m in back.messages + alice.messages[mark:]
                      if m.get("type") == "voice_state" and m["call"]["callback_id"] == callback_id]
        assert since_move and "asked" not in since_move, since_move

        await alice.command("voice_control", callback_id=callback_id, action="hangup")
        await back.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", timeout=5)
        await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up", timeout=10)
        # The call is on the customer's timeline once, from the answer to the hang-up, with the
        # customer's one answer to recording, and b's part of the recording.
        events = await _events(b, callback_id, "voice_call")
        assert len(events) == 1 and events[0]["seconds"] >= time.monotonic() - answered - 2, events
        assert events[0]["recorded"] is True
        assert await _events(b, callback_id, "recording_consent") == [{"given": True}]
        [recording] = await _events(b, callback_id, "call_recording")
        assert recording["seconds"] > 0
    finally:
        for bot in bots:
            await bot.close()
        for client in (customer, back):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()
        with contextlib.suppress(Exception):
            # Leaving wrap-up takes an outcome now (Done), never a bare state change.
            await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        with contextlib.suppress(Exception):
            await alice.command("set_state", state="away", reason="test over")
        await alice.close()


async def _events(server, callback_id: str, kind: str) -> list[dict]:
    """The call's ``kind`` events' data, read from the shared SQLite file (waits a little for the write)."""
    import json
    import sqlite3

    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(server.env["OTODESK_DATABASE_URL"].split("///", 1)[1]) as db:
            rows = db.execute("SELECT data FROM contact_events WHERE kind = ? AND callback_id = ? ORDER BY id",
                              (kind, callback_id)).fetchall()
        if rows or time.monotonic() > deadline:
            return [json.loads(data) for (data,) in rows]
        await asyncio.sleep(0.2)
