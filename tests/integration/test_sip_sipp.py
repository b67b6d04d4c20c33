"""The SIP trunk against Debian's sipp as its far end (Tier 2), on 127.0.0.1 only.

sipp plays the provider: a 407 and a check of our credentials (``verifyauth``),
180, 183 with SDP and early media, 200 with SDP, a G.711 tone replayed from a
pcap into the call (``play_pcap_audio``), then it hangs up; or it is busy
(486), or rings until we CANCEL. Each scenario must run to its end (sipp exits
0): our ACKs, our BYE answer and our CANCEL are what it expects.
"""

from __future__ import annotations

import logging



from signaling.media.sip import CallResult, PhoneState, TrunkConfig, open_trunk
from tests.helpers.pcap import write_tone_pcap
from tests.helpers.sipp import Sipp
from tests.integration.test_sip_trunk import Side, hears

def trunk(far: Sipp) -> TrunkConfig:
    return TrunkConfig(uri=far.uri, username="otodesk", password="s3cret", caller_id="+441632960000",
                       local_host="127.0.0.1", register_expires=0)


async def test_407_then_early_media_then_the_answer_and_the_far_end_hangs_up(tmp_path):
    early = write_tone_pcap(tmp_path / "early.pcap", 525, seconds=1.0)
    tone = write_tone_pcap(tmp_path / "tone.pcap", 440, seconds=2.0)
    async with Sipp("answer.xml", tmp_path, EARLY=str(early), TONE=str(tone)) as far, \
            open_trunk(trunk(far)) as ours:
        side = Side()
        call = await ours.dial("+15550200", ring_timeout=10, on_event=side.on_event, on_audio=side.on_audio)
        ringing = await side.until(PhoneState.RINGING)
        await hears(side, 525, timeout=2.0)  # the early media sipp replays after its 183
        assert any(e.early_media for e in side.events)
        await side.until(PhoneState.CONNECTED, timeout=5)
        await hears(side, 440, timeout=2.0)  # the pcap's tone, through the answered call
        ended = await side.until(PhoneState.ENDED, timeout=5)  # sipp's BYE
        assert ended.result == CallResult.COMPLETED
        await far.finished()
        assert ringing.status == 180 and call.result == CallResult.COMPLETED


async def test_busy(tmp_path):
    async with Sipp("busy.xml", tmp_path) as far, open_trunk(trunk(far)) as ours:
        side = Side()
        await ours.dial("+15550201", ring_timeout=10, on_event=side.on_event, on_audio=side.on_audio)
        ended = await side.until(PhoneState.ENDED)
        assert ended.result == CallResult.BUSY and ended.status == 486
        await far.finished()  # it got our ACK


async def test_no_answer_is_cancelled(tmp_path):
    async with Sipp("no_answer.xml", tmp_path) as far, open_trunk(trunk(far)) as ours:
        side = Side()
        await ours.dial("+15550202", ring_timeout=1.0, on_event=side.on_event, on_audio=side.on_audio)
        ended = await side.until(PhoneState.ENDED, timeout=4)
        assert ended.result == CallResult.NO_ANSWER
        await far.finished()  # our CANCEL, then our ACK of its 487


async def test_a_malformed_answer_is_hung_up_and_fails_saying_why(tmp_path):
    """Issue 13's "answers with malformed SDP": a 200 whose SDP we can't use is ACKed and hung up
    (BYE), and the attempt ends failed with the reason the desk shows (then retried as any failure)."""
    async with Sipp("malformed_answer.xml", tmp_path) as far, open_trunk(trunk(far)) as ours:
        side = Side()
        await ours.dial("+15550203", ring_timeout=10, on_event=side.on_event, on_audio=side.on_audio)
        ended = await side.until(PhoneState.ENDED, timeout=5)
        assert ended.result == CallResult.FAILED
        assert "malformed SDP answer" in ended.reason, ended.reason
        await far.finished()  # it got our ACK, then our BYE


async def test_malformed_messages_from_the_far_end_leave_the_trunk_working(tmp_path, caplog):
    """Issue 13's "answers with malformed SIP": before it rings properly, the far end sends a
    datagram of garbage, a 180 with no Call-ID, CSeq or To and a 180 with no Via, a CSeq that is
    not a number and a body shorter than its Content-Length. Our call ignores them, rings, is answered and hung up; then the next call works too."""
    async with Sipp("malformed_ringing.xml", tmp_path, max_calls=2) as far, open_trunk(trunk(far)) as ours:
        for number in ("+15550204", "+15550205"):
            side = Side()
            call = await ours.dial(number, ring_timeout=10, on_event=side.on_event, on_audio=side.on_audio)
            await side.until(PhoneState.CONNECTED, timeout=5)
            ended = await side.until(PhoneState.ENDED, timeout=5)  # sipp's BYE
            assert ended.result == CallResult.COMPLETED and call.result == CallResult.COMPLETED
            states = side.states()
            assert "ringing" in states and states.index("ringing") < states.index("connected"), states
        await far.finished()
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
