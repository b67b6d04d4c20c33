"""The media anchor with real aiortc peers on both ends, in a network namespace of its own.

Bots play tones as their microphones (customer 440 Hz, agent 880 Hz,
supervisor 1500 Hz) and name what they hear: the anchor forwards encoded
Opus without decoding, and its routes decide who hears whom.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from signaling.media.anchor import MediaAnchor
from signaling.media.candidates import CandidatePolicy
from tests.helpers.voice_bots import Bot
from signaling.media.errors import AtCapacity, BadOffer, LegTaken
from signaling.media.hearing import EXTRA, MAIN, Mode, Role
from signaling.media.tap import is_tapped
from signaling.media.tones import HOLD_TONE_HZ
from tests.helpers.netns import VOICE_CANDIDATES, network_namespace, require_netns

TONES = [440, 880, 1500, HOLD_TONE_HZ]
#: The bots share the namespace (and so the anchor's own addresses) in 10.213.0.0/24.
RIG = CandidatePolicy.from_setting(VOICE_CANDIDATES.split(","))


@pytest.fixture
def netns():
    require_netns()
    with network_namespace() as name:
        yield name


async def until(predicate, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def hears(bot: Bot, slot: int, hz: float | None, timeout: float = 5.0) -> None:
    await until(lambda: len(bot.ears) > slot, what="track")
    ear = bot.ears[slot]
    ear.clear()

    if hz is None:  # silence: no packets at all, or packets of silence
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ear.clear()
            await asyncio.sleep(0.4)
            if len(ear.samples) < 4800 or ear.hears(TONES) is None:
                return
        raise AssertionError(f"slot {slot} still hears {ear.hears(TONES)}")

    def heard():
        if len(ear.samples) < 9600:
            return False
        return ear.hears(TONES) == hz
    await until(heard, timeout, what=f"slot {slot} hearing {hz}")


async def join(anchor: MediaAnchor, role: Role, hz: int, owner: str, **kwargs) -> Bot:
    bot = Bot(hz)
    await bot.connect(lambda sdp: anchor.offer("call-1", role, sdp, owner=owner, **kwargs))
    await bot.connected()
    return bot


async def test_customer_and_agent_hear_each_other_then_hold_mute_whisper_barge(netns):
    async with MediaAnchor(max_calls=1, candidates=RIG) as anchor:
        customer = await join(anchor, Role.CUSTOMER, 440, "s1")
        agent = await join(anchor, Role.AGENT, 880, "s2")
        call = anchor.call("call-1")
        assert all(is_tapped(t.receiver) for leg in call.legs.values() for t in leg.pc.getTransceivers())
        await hears(agent, MAIN, 440)
        await hears(customer, MAIN, 880)

        call.mute(Role.CUSTOMER, True)
        await hears(agent, MAIN, None)
        await hears(customer, MAIN, 880)
        call.mute(Role.CUSTOMER, False)
        await hears(agent, MAIN, 440)

        call.update(held=True)
        await hears(customer, MAIN, HOLD_TONE_HZ)
        await hears(agent, MAIN, None)
        call.update(held=False)
        await hears(customer, MAIN, 880)
        await hears(agent, MAIN, 440)

        supervisor = await join(anchor, Role.SUPERVISOR, 1500, "s3", mode=Mode.LISTEN)
        await hears(supervisor, MAIN, 440)
        await hears(supervisor, EXTRA, 880)
        await hears(agent, EXTRA, None)
        call.update(supervisor=Mode.WHISPER)
        await hears(agent, EXTRA, 1500)
        await hears(customer, EXTRA, None)
        call.update(supervisor=Mode.BARGE)
        await hears(customer, EXTRA, 1500)
        await hears(agent, MAIN, 440)
        call.update(supervisor=Mode.LISTEN)
        await hears(customer, EXTRA, None)
        await hears(agent, EXTRA, None)

        stats = {}
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            stats = {s["role"]: s for s in await call.stats()}
            if all(s["rtt_ms"] is not None for s in stats.values()):
                break
            await asyncio.sleep(0.3)
        assert stats["customer"]["rtt_ms"] is not None and stats["customer"]["rtt_ms"] < 100
        assert stats["agent"]["loss"] == 0

        # A second offer for a live leg, malformed SDP, a call beyond capacity: refused, nothing disturbed.
        extra = Bot(440)
        with pytest.raises(LegTaken):
            await extra.connect(lambda sdp: anchor.offer("call-1", Role.AGENT, sdp, owner="s9"))
        with pytest.raises(BadOffer):
            await anchor.offer("call-1", Role.AGENT, "v=0\r\nnonsense", owner="s9")
        with pytest.raises(AtCapacity):
            await anchor.offer("call-2", Role.CUSTOMER, extra.pc.localDescription.sdp, owner="s9")
        await extra.close()
        await hears(agent, MAIN, 440)
        await hears(customer, MAIN, 880)

        for bot in (customer, agent, supervisor):
            await bot.close()


async def test_a_leg_that_stops_is_reconnecting_and_a_fresh_offer_swaps_it_in_place(netns):
    """aiortc has no ICE restart: a dropped leg is remade with a new peer; the call, its start and the
    other leg go on. A second offer from another socket for a live leg is still refused."""
    changes = []
    async with MediaAnchor(candidates=RIG, on_change=lambda call: changes.append(dict(call.public()["legs"]))) as anchor:
        customer = await join(anchor, Role.CUSTOMER, 440, "s1")
        agent = await join(anchor, Role.AGENT, 880, "s2")
        call = anchor.call("call-1")
        started = call.started_at
        await hears(agent, MAIN, 440)

        intruder = Bot(440)
        with pytest.raises(LegTaken):  # another socket, the leg alive, reconnect or not
            await intruder.connect(lambda sdp: anchor.offer("call-1", Role.CUSTOMER, sdp, owner="s9",
                                                            reconnect=True))
        await intruder.close()

        # The customer's network vanishes: its peer stops sending (closed without a goodbye here).
        customer.pc.getTransceivers()[0].sender.replaceTrack(None)
        # The feature's watch calls check_stalls every second; here the wait does.
        await until(lambda: anchor.check_stalls() or call.public()["legs"]["customer"] == "reconnecting", 6,
                    "a stall")
        assert call.public()["legs"] == {"customer": "reconnecting", "agent": "connected"}
        assert {"customer": "reconnecting", "agent": "connected"} in changes

        # The same socket offers again from a fresh peer (as common/voicelink.js does).
        old_leg = call.legs[Role.CUSTOMER]
        await customer.close()
        customer = await join(anchor, Role.CUSTOMER, 440, "s1", reconnect=True)
        assert anchor.call("call-1") is call and call.started_at == started
        assert call.legs[Role.CUSTOMER] is not old_leg and old_leg.closed
        await hears(agent, MAIN, 440)
        await hears(customer, MAIN, 880)
        await until(lambda: call.public()["legs"] == {"customer": "connected", "agent": "connected"}, 5, "both up")
        for bot in (customer, agent):
            await bot.close()


async def test_a_call_rebuilt_with_the_customers_answer_is_not_asked_again(netns):
    """``consented`` (read back after the call's anchor died): a yes records from the first packet,
    a no never records; without an answer the customer is asked, as on a fresh call."""

    class Log:
        def __init__(self, call_id: str):
            self.call_id, self.packets = call_id, 0
            made.append(self)

        def write(self, slot: int, payload: bytes, rtp_timestamp: int) -> None:
            self.packets += 1

        def close(self) -> None:
            pass

    made: list[Log] = []
    bots = []
    async with MediaAnchor(max_calls=3, recorder=Log, candidates=RIG) as anchor:
        try:
            for call_id, consented, told in (("fresh", None, "asked"), ("yes", True, "given"), ("no", False, "refused")):
                bot = Bot(440)
                bots.append(bot)
                await bot.connect(lambda sdp, call_id=call_id, consented=consented: anchor.offer(
                    call_id, Role.CUSTOMER, sdp, owner="s1", consent=True, consented=consented, reconnect=True))
                call = anchor.call(call_id)
                assert (call.consent, call.public()["recording"]) == (told, consented is True), call_id
            assert [log.call_id for log in made] == ["yes"]
            await bots[1].connected()
            await until(lambda: made[0].packets > 0, what="the consented call recording")
        finally:
            for bot in bots:
                await bot.close()


async def test_an_offer_aimed_at_loopback_is_refused_and_nothing_is_sent_there() -> None:
    """A customer's SDP with a host candidate 127.0.0.1:<port> made the anchor send STUN there."""
    import re
    import socket

    from aiortc import RTCConfiguration, RTCPeerConnection

    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    target.setblocking(False)
    port = target.getsockname()[1]
    browser = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        browser.addTransceiver("audio", direction="sendrecv")
        await browser.setLocalDescription(await browser.createOffer())
        offer = re.sub(r"(a=candidate:\S+ \d \S+ \d+ )\S+ \d+", rf"\g<1>127.0.0.1 {port}",
                       browser.localDescription.sdp)
        assert f"127.0.0.1 {port} typ host" in offer
        async with MediaAnchor() as anchor:
            with pytest.raises(BadOffer, match="none of the offer's ICE candidates"):
                await anchor.offer("call-1", Role.CUSTOMER, offer, owner="s1")
            assert anchor.calls == {}
        with pytest.raises(BlockingIOError):  # not one binding request reached it
            target.recvfrom(2048)
    finally:
        await browser.close()
        target.close()
