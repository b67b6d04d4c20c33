"""A phone as the customer's leg of an anchored call: an aiortc agent and a SIP far end (Tier 1).

The agent bot (880 Hz) joins the anchor over WebRTC in a network namespace of
its own; the anchor dials the in-process SIP far end (440 Hz) on 127.0.0.1
inside that namespace. Each hears the other (Opus to the agent, G.711 to the
phone, transcoded at that boundary only); early media reaches the agent before
the answer; a hang-up on either side ends both legs within 2 s.
"""

from __future__ import annotations

import array
import asyncio
import time

import pytest

from signaling.media.anchor import STALL_SECONDS, MediaAnchor
from signaling.media.candidates import CandidatePolicy
from signaling.media.errors import AtCapacity
from signaling.media.hearing import MAIN, Mode, Role
from signaling.media.tones import HOLD_TONE_HZ, RINGBACK_HZ
from signaling.media.sip import CallResult, PhoneState, TrunkConfig, open_trunk
from tests.helpers.netns import VOICE_CANDIDATES, network_namespace, require_netns
from tests.helpers.sip_peer import SipPeer, dominant_hz, until
from tests.helpers.voice_bots import Bot, goertzel_power

RIG = CandidatePolicy.from_setting(VOICE_CANDIDATES.split(","))
TONES = [RINGBACK_HZ, 525, 440, 880]


@pytest.fixture
def netns():
    require_netns()
    with network_namespace() as name:
        yield name


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
        await agent_hears(agent, 525)  # the far end's early media, before any answer
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
        assert call.public()["phone"]["hung_up_by_us"] is False  # the desk says "The customer hung up"
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
        # The desk says "Call ended", not "The customer hung up" (seen on a tour of issue 13).
        assert call.phone.public()["hung_up_by_us"] is True
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
                                          "status": 486, "reason": "Busy Here", "early_media": False,
                                          "inbound": False, "waiting": False, "held": False,
                                          "hung_up_by_us": False}
        await agent.close()


async def test_a_phone_ringing_without_early_media_rings_back_to_the_agent(netns):
    async with SipPeer(behaviour="answer", ring_seconds=2.0) as peer, open_trunk(trunk_config(peer)) as trunk, \
            MediaAnchor(candidates=RIG) as anchor:
        agent = Bot(880)
        await agent.connect(lambda sdp: anchor.offer("cb-4", Role.AGENT, sdp, owner="s-agent"))
        await agent.connected()
        call = await anchor.dial("cb-4", "+15550103", trunk=trunk, ring_timeout=10)
        await until(lambda: call.phone.phone.state == PhoneState.RINGING, what="ringing")
        assert call.state.ringback
        await agent_hears(agent, RINGBACK_HZ)
        await until(lambda: call.phone.phone.state == PhoneState.CONNECTED, what="the answer")
        assert not call.state.ringback
        await agent_hears(agent, 440)
        await agent.close()


def power(pcm: bytes, hz: float) -> float:
    samples = array.array("h", pcm)
    return goertzel_power(samples, hz, 8000)


async def test_hold_mute_supervisor_and_recording_work_on_a_phone_call(netns):
    recorded: list[tuple[int, int]] = []

    class Recorder:
        def write(self, slot, payload, rtp_timestamp):
            recorded.append((slot, len(payload)))

        def close(self):
            pass

    async with SipPeer() as peer, open_trunk(trunk_config(peer)) as trunk, \
            MediaAnchor(candidates=RIG, recorder=lambda call_id: Recorder()) as anchor:
        agent = Bot(880)
        # The agent's offer makes the call, recorded as its queue says (as desktop/voice does).
        await agent.connect(lambda sdp: anchor.offer("cb-5", Role.AGENT, sdp, owner="s-agent", recording=True))
        await agent.connected()
        call = await anchor.dial("cb-5", "+15550104", trunk=trunk, ring_timeout=10)
        await until(lambda: call.phone.phone.state == PhoneState.CONNECTED, what="the answer")
        await agent_hears(agent, 440)
        await phone_hears(peer, 880)
        # Both voices are recorded: the phone's (transcoded to Opus once) and the agent's.
        await until(lambda: {0, 1} <= {slot for slot, _ in recorded}, what="both voices recorded")

        call.update(held=True)  # the phone hears the hold tone; the agent hears nothing of it
        await phone_hears(peer, int(HOLD_TONE_HZ))
        call.update(held=False)
        await phone_hears(peer, 880)

        call.mute(Role.AGENT, True)  # a muted agent: the phone hears silence, not nothing
        await until(lambda: dominant_hz(peer.recent()) is None and len(peer.recent()) >= 8000,
                    what="the phone hearing silence")
        call.mute(Role.AGENT, False)
        await phone_hears(peer, 880)

        supervisor = Bot(1500)
        await supervisor.connect(lambda sdp: anchor.offer("cb-5", Role.SUPERVISOR, sdp, owner="s-sup",
                                                          mode=Mode.LISTEN))
        await supervisor.connected()
        await until(lambda: len(supervisor.ears) == 2, what="the supervisor's tracks")
        await until(lambda: len(supervisor.ears[MAIN].samples) >= 9600
                    and supervisor.ears[MAIN].hears([440, 880, 1500]) == 440, what="the supervisor hearing the phone")
        call.update(supervisor=Mode.BARGE)  # the phone hears the agent and the supervisor, mixed
        await until(lambda: power(peer.recent(), 1500) > 1e3 and power(peer.recent(), 880) > 1e3,
                    what="the phone hearing both")
        call.update(supervisor=Mode.WHISPER)  # ...and then only the agent
        await until(lambda: power(peer.recent(), 1500) < 1e2 and power(peer.recent(), 880) > 1e3,
                    what="the whisper kept from the phone")
        await supervisor.close()
        await agent.close()


async def test_dialling_beyond_capacity_is_refused_and_dials_nothing(netns):
    async with SipPeer() as peer, open_trunk(trunk_config(peer)) as trunk, \
            MediaAnchor(candidates=RIG, max_calls=1) as anchor:
        await anchor.dial("cb-6", "+15550105", trunk=trunk, ring_timeout=10)
        with pytest.raises(AtCapacity):
            await anchor.dial("cb-7", "+15550106", trunk=trunk, ring_timeout=10)
        await asyncio.sleep(0.3)
        assert len(peer.invites) == 1


async def test_the_phone_holds_the_call_and_resumes_it(netns):
    """The far end's re-INVITE: ``inactive`` (nothing either way, the desk told, the quiet leg not
    taken for a lost one), then ``sendrecv``: each hears the other again."""
    async with SipPeer() as peer, open_trunk(trunk_config(peer)) as trunk, MediaAnchor(candidates=RIG) as anchor:
        agent = Bot(880)
        await agent.connect(lambda sdp: anchor.offer("cb-9", Role.AGENT, sdp, owner="s-agent"))
        await agent.connected()
        call = await anchor.dial("cb-9", "+15550109", trunk=trunk, ring_timeout=10)
        await until(lambda: call.phone.phone.state == PhoneState.CONNECTED, what="the answer")
        await agent_hears(agent, 440)
        await phone_hears(peer, 880)

        held = await peer.reinvite("inactive")
        assert held.status_code == 200 and "a=inactive" in held.text
        assert call.public()["phone"]["held"] is True
        peer._player.cancel()  # an inactive phone sends nothing
        await asyncio.sleep(0.3)
        before = len(peer.heard)
        await asyncio.sleep(STALL_SECONDS + 0.5)
        anchor.check_stalls()
        assert not call.phone.stalled, "a phone on hold was taken for a lost one"
        assert len(peer.heard) - before <= 2 * 320, "the agent's voice went on to a phone that holds the call"

        resumed = await peer.reinvite("sendrecv")
        assert resumed.status_code == 200 and "a=sendrecv" in resumed.text
        assert call.public()["phone"]["held"] is False
        peer._play(peer.tone)
        await phone_hears(peer, 880)
        await agent_hears(agent, 440)
        await agent.close()
