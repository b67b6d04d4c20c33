"""A phone as the customer's leg of an anchored call: an aiortc agent and a SIP far end (Tier 1).

The agent bot (880 Hz) joins the anchor over WebRTC in a network namespace of
its own; the anchor dials the in-process SIP far end (440 Hz) on 127.0.0.1
inside that namespace. Each hears the other (Opus to the agent, G.711 to the
phone, transcoded at that boundary only); early media reaches the agent before
the answer; a hang-up on either side ends both legs within 2 s.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from signaling.media.anchor import MediaAnchor
from signaling.media.candidates import CandidatePolicy
from signaling.media.hearing import MAIN, Role
from signaling.media.sip import CallResult, PhoneState, TrunkConfig, open_trunk
from tests.helpers.netns import VOICE_CANDIDATES, network_namespace, require_netns
from tests.helpers.sip_peer import SipPeer, dominant_hz
from tests.helpers.voice_bots import Bot

RIG = CandidatePolicy.from_setting(VOICE_CANDIDATES.split(","))
TONES = [425, 440, 880]


@pytest.fixture
def netns():
    require_netns()
    with network_namespace() as name:
        yield name


async def until(predicate, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


async def agent_hears(bot: Bot, hz: int, timeout: float = 5.0) -> None:
    await until(lambda: bot.ears, what="the agent's track")
    ear = bot.ears[MAIN]
    ear.clear()
    await until(lambda: len(ear.samples) >= 9600 and ear.hears(TONES) == hz, timeout, what=f"the agent hearing {hz}")


async def phone_hears(peer: SipPeer, hz: int, timeout: float = 5.0) -> None:
    await until(lambda: (heard := dominant_hz(peer.recent())) is not None and abs(heard - hz) < 10, timeout,
                what=f"the phone hearing {hz}")


def trunk_config(peer: SipPeer) -> TrunkConfig:
    return TrunkConfig(uri=peer.uri, username="otodesk", password="s3cret", caller_id="+441632960000",
                       local_host="127.0.0.1", register_expires=0)


async def test_agent_first_then_early_media_answer_both_ways_and_the_phone_hangs_up(netns):
    async with SipPeer(behaviour="early", ring_seconds=1.5) as peer, open_trunk(trunk_config(peer)) as trunk, \
            MediaAnchor(candidates=RIG) as anchor:
        agent = Bot(880)
        await agent.connect(lambda sdp: anchor.offer("cb-1", Role.AGENT, sdp, owner="s-agent"))
        await agent.connected()
        call = await anchor.dial("cb-1", "+15550100", trunk=trunk, ring_timeout=10)
        assert call.public()["phone"]["state"] == "dialling"
        await until(lambda: call.phone.phone.state == PhoneState.RINGING, what="ringing")
        await agent_hears(agent, 425)  # the far end's early media, before any answer
        assert call.public()["phone"]["early_media"] is True
        await until(lambda: call.phone.phone.state == PhoneState.CONNECTED, what="the answer")
        await agent_hears(agent, 440)
        await phone_hears(peer, 880)

        began = time.monotonic()
        await peer.hangup()
        await until(lambda: call.ended, timeout=2.0, what="the call to end")
        assert time.monotonic() - began < 2.0
        assert "cb-1" not in anchor.calls
        assert call.public()["phone"]["result"] == "completed"
        await agent.close()


async def test_the_agent_hangs_up_and_the_phone_gets_a_bye(netns):
    async with SipPeer() as peer, open_trunk(trunk_config(peer)) as trunk, MediaAnchor(candidates=RIG) as anchor:
        call = await anchor.dial("cb-2", "+15550101", trunk=trunk, ring_timeout=10)  # the phone first works too
        agent = Bot(880)
        await agent.connect(lambda sdp: anchor.offer("cb-2", Role.AGENT, sdp, owner="s-agent"))
        await agent.connected()
        await until(lambda: call.phone.phone.state == PhoneState.CONNECTED, what="the answer")
        await agent_hears(agent, 440)
        await phone_hears(peer, 880)
        began = time.monotonic()
        await anchor.end("cb-2")
        await peer.wait_for("bye", timeout=2.0)
        assert time.monotonic() - began < 2.0
        assert call.phone.phone.result == CallResult.COMPLETED
        await agent.close()


async def test_busy_ends_the_call_with_its_result(netns):
    async with SipPeer(behaviour="busy") as peer, open_trunk(trunk_config(peer)) as trunk, \
            MediaAnchor(candidates=RIG) as anchor:
        agent = Bot(880)
        await agent.connect(lambda sdp: anchor.offer("cb-3", Role.AGENT, sdp, owner="s-agent"))
        await agent.connected()
        call = await anchor.dial("cb-3", "+15550102", trunk=trunk, ring_timeout=10)
        await until(lambda: call.ended, what="the call to end")
        assert call.public()["phone"] == {"number": "+15550102", "state": "ended", "result": "busy",
                                          "status": 486, "reason": "Busy Here", "early_media": False}
        await agent.close()
