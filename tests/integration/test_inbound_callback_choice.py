"""Press 1 to be called back, through a real server, its SIP trunk and an agent's desk (Tier 1).

Two callers phone sales, one after the other, and wait. The first hears the offer after the
greeting and presses 1 (RFC 4733, from the stack's own UAC: tests/helpers/sip_caller.py):
we hang up (BYE) within seconds, and their callback is now a phone callback to their number,
the same callback in the same place (the consent is the offer's text, the line they called;
"callback chosen" on their timeline). The agent who comes is offered it before the second
caller, accepts, and the trunk's far end (tests/helpers/sip_peer.py) gets our INVITE to the
first caller's number: agent-first, as any phone callback. Never counted abandoned; counted
a phone callback in the reports. A caller whose number is withheld pressing 1 is refused
(a short cue) and keeps waiting on the line. Debian's sipp presses 1 too (tests/sipp/press_1.xml:
the key from a pcap of RFC 4733 events) and must get our BYE.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import text

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from desktop.settings import Settings
from desktop.voice.callback_choice import TEXTS
from desktop.web.reports import report
from signaling.client import AgentBot
from signaling.media.sip import PhoneState
from signaling.media.waiting import GREETING_HZ
from tests.helpers.pcap import write_dtmf_pcap
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import Caller, free_udp_port, trunk_env
from tests.helpers.sip_peer import SipPeer, dominant_hz, near, until
from tests.helpers.sipp import Sipp
from tests.helpers.voice_bots import Bot

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINE = "+442079460500"  # what callers dial: sales (OTODESK_SIP_INBOUND)
FIRST, SECOND = "+442079460481", "+442079460482"  # Ofcom's drama range for London (valid: callable)
OFFER_AFTER_GREETING = 2.5  # seconds from the greeting's first notes: the offer has begun (1.7 s chime)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_netns()
    with network_namespace():
        sip_port, our_sip_port = free_udp_port(), free_udp_port()
        server = ServerProcess(tmp_path_factory.mktemp("callback-choice"), env={
            **trunk_env(sip_port, our_sip_port), "OTODESK_SIP_INBOUND": f"{LINE}=sales",
            "OTODESK_HOST": SERVER_ADDRESS, **VOICE_ENV,
            "OTODESK_SIP_CALLBACK_OFFER": "30", "OTODESK_DEFAULT_REGION": "GB", "OTODESK_TIMEZONE": "UTC",
            # Any hour: the test must not depend on the time of day it runs at.
            "OTODESK_CALLING_HOURS": "00:00-24:00"})
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        server.sip_port, server.our_sip_port = sip_port, our_sip_port
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def waiting_caller(caller: Caller, port: int) -> None:
    await caller.dial(port, LINE)
    await caller.until(PhoneState.CONNECTED)
    await until(lambda: near(dominant_hz(caller.recent(0.3)), GREETING_HZ), what="the greeting")


async def callbacks_of(db: str, *phones: str) -> list:
    async with Repository.open(db) as repo:
        return await repo.database.read(lambda conn: conn.execute(text(
            "SELECT id, state, channel, phone, enqueued_at, customer_id, consent FROM callbacks "
            "WHERE phone IN :phones ORDER BY created_at").bindparams(
                __import__("sqlalchemy").bindparam("phones", expanding=True)), {"phones": list(phones)}).all())


async def test_pressing_1_hangs_up_keeps_the_place_and_the_agent_first_callback_dials_the_caller(server):
    async with SipPeer(port=server.sip_port, behaviour="answer", ring_seconds=0.3) as peer, \
            Caller(from_number=FIRST) as first, Caller(from_number=SECOND) as second:
        await waiting_caller(first, server.our_sip_port)
        await waiting_caller(second, server.our_sip_port)  # called later: behind the first
        [before, _] = await callbacks_of(server.database_url, FIRST, SECOND)
        assert (before.channel, before.state) == ("phone_inbound", "queued")

        await asyncio.sleep(OFFER_AFTER_GREETING)
        began = time.monotonic()
        first.press("1")
        ended = await first.until(PhoneState.ENDED, timeout=8)
        hung_up_after = time.monotonic() - began
        assert ended.result == "completed" and ended.reason == "the phone hung up"  # our BYE
        assert hung_up_after < 5.0, hung_up_after  # a short confirmation, then BYE (~2 s)
        print(f"BYE {hung_up_after:.2f} s after the key")
        assert second.call.state == PhoneState.CONNECTED  # the other caller waits on

        [chosen, other] = await callbacks_of(server.database_url, FIRST, SECOND)
        assert chosen.id == before.id and chosen.enqueued_at == before.enqueued_at  # the same place
        assert (chosen.channel, chosen.state, chosen.phone) == ("phone", "queued", FIRST)
        assert (other.channel, other.state) == ("phone_inbound", "queued")
        consent = chosen.consent if isinstance(chosen.consent, dict) else __import__("json").loads(chosen.consent)
        assert consent["text"] == TEXTS["en"]["offer"].text and consent["page"] == LINE
        assert consent["via"] == "inbound_call" and consent["at"] >= before.enqueued_at
        async with Repository.open(server.database_url) as repo:
            entry = await repo.last_contact_event(chosen.customer_id, kind="callback_chosen", callback_id=chosen.id)
        assert entry.data["number"] == FIRST and entry.data["line"] == LINE and entry.data["queue"] == "sales"
        await asyncio.sleep(1.0)  # not abandoned as its line went: the leader stopped watching it
        [chosen, _] = await callbacks_of(server.database_url, FIRST, SECOND)
        assert chosen.state == "queued"

        # The agent who comes is offered the first caller's callback first, and it dials them.
        agent = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
        mark = agent.mark()
        await agent.command("set_state", state="available")
        offer = (await agent.wait_for("offer", start=mark))["offer"]
        assert offer["callback_id"] == chosen.id
        assert offer["callback"]["channel"] == "phone" and offer["callback"]["phone"] == FIRST
        assert offer["callback"]["chosen_while_waiting"]["line"] == LINE
        await agent.command("accept", offer_id=offer["offer_id"])
        bot = Bot(880)

        async def signal(sdp: str) -> str:
            return (await agent.command("voice_offer", callback_id=chosen.id, sdp=sdp))["sdp"]
        await bot.connect(signal)
        await until(lambda: peer.invites, timeout=10, what="our INVITE to the first caller's number")
        assert FIRST.lstrip("+") in peer.invites[0].uri
        await until(lambda: "answered" in peer.log, what="the phone to answer")
        await peer.hangup()
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        mark = agent.mark()
        await agent.command("wrap_up", callback_id=chosen.id, disposition="Resolved")

        # Then the second caller, still on the line.
        offer = (await agent.wait_for("offer", start=mark))["offer"]
        assert offer["callback_id"] == other.id and offer["callback"]["channel"] == "phone_inbound"
        await second.hangup()
        await agent.wait_for("offer_ended", lambda m: m["offer_id"] == offer["offer_id"], start=mark)
        await bot.close()
        await agent.close()

    [chosen, other] = await callbacks_of(server.database_url, FIRST, SECOND)
    assert chosen.state == "completed" and other.state == "abandoned"
    async with Repository.open(server.database_url) as repo:
        attempt = await repo.last_contact_event(chosen.customer_id, kind="phone_attempt", callback_id=chosen.id)
        assert attempt.data["number"] == FIRST and attempt.data["attempt"] == 1
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        figures = await report(repo, Settings(time_zone="UTC"), first=today, last=today, period="day", now=time.time())
    sales = next(row for row in figures["tables"]["queues"]["rows"] if row["queue"] == "Sales")
    # Offered as a phone callback, answered; only the second caller gave up.
    assert (sales["phone"], sales["phone_inbound"], sales["answered"]) == (1, 1, 1)
    assert sales["abandoned"] + sales["short_abandoned"] == 1


async def test_a_withheld_number_pressing_1_is_refused_and_keeps_waiting(server):
    async with Caller(from_number="anonymous") as caller:
        await waiting_caller(caller, server.our_sip_port)
        await asyncio.sleep(OFFER_AFTER_GREETING)
        caller.press("1")
        await asyncio.sleep(3.0)  # the refusal is short: they would have been hung up by now
        assert caller.call.state == PhoneState.CONNECTED
        async with Repository.open(server.database_url) as repo:
            [row] = await repo.database.read(lambda conn: conn.execute(text(
                "SELECT id, channel, state FROM callbacks WHERE phone IS NULL AND state = 'queued'")).all())
        assert (row.channel, row.state) == ("phone_inbound", "queued")
        await caller.hangup()

    async def abandoned() -> None:  # their hang-up reaches the router, then the database
        async with Repository.open(server.database_url) as repo:
            while (await repo.get_callback(row.id)).state != "abandoned":
                await asyncio.sleep(0.05)
    await asyncio.wait_for(abandoned(), 5)


async def test_an_agent_who_accepts_during_the_confirmation_waits_for_our_bye_then_dials(server):
    """The router may offer the callback the moment it is converted, while the caller still hears
    "we'll call you back": the agent's leg must not join the old call; it waits for our BYE, and
    then the phone callback's call dials the caller."""
    number = "+442079460484"
    agent = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)  # signed in, away: the caller waits
    async with SipPeer(port=server.sip_port, behaviour="answer", ring_seconds=0.3) as peer, \
            Caller(from_number=number) as caller:
        await waiting_caller(caller, server.our_sip_port)
        await asyncio.sleep(OFFER_AFTER_GREETING)
        caller.press("1")

        async def converted() -> None:
            while (await callbacks_of(server.database_url, number))[0].channel != "phone":
                await asyncio.sleep(0.02)
        await asyncio.wait_for(converted(), 5)
        mark = agent.mark()
        await agent.command("set_state", state="available")
        offer = (await agent.wait_for("offer", start=mark))["offer"]
        await agent.command("accept", offer_id=offer["offer_id"])
        bot = Bot(880)

        async def signal(sdp: str) -> str:
            return (await agent.command("voice_offer", callback_id=offer["callback_id"], sdp=sdp))["sdp"]
        await bot.connect(signal)
        await until(lambda: peer.invites, timeout=10, what="our INVITE to the caller's number")
        assert caller.call.state == PhoneState.ENDED  # hung up before their phone was dialled
        assert number.lstrip("+") in peer.invites[0].uri
        waited = "waits for the caller's old line" in server.log()
        print(f"the agent's leg {'waited for' if waited else 'came after'} our BYE")
        await until(lambda: "answered" in peer.log, what="the phone to answer")
        await peer.hangup()
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        await agent.command("wrap_up", callback_id=offer["callback_id"], disposition="Resolved")
        await bot.close()
        await agent.close()
    [done] = await callbacks_of(server.database_url, number)
    assert (done.channel, done.state) == ("phone", "completed")


async def test_sipp_presses_1_and_gets_our_bye(server, tmp_path):
    number = "+442079460483"
    key = write_dtmf_pcap(tmp_path / "one.pcap", 1)
    async with Sipp("press_1.xml", tmp_path, calls=f"127.0.0.1:{server.our_sip_port}", number=LINE,
                    KEY=str(key), CALLER=number, WAIT="4000") as caller:  # the greeting, then the offer
        await caller.finished(20)
    [chosen] = await callbacks_of(server.database_url, number)
    assert (chosen.channel, chosen.state, chosen.phone) == ("phone", "queued", number)
