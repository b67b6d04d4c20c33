"""The far end holds and resumes an established phone call with re-INVITEs, sipp playing it (Tier 2).

Each test runs twice: with re-INVITEs that carry their offer (hold_*.xml, below), and with an
UPDATE and a re-INVITE *without* SDP, whose 200 must carry our offer and whose ACK carries the
far end's answer (offerless_*.xml: the callback's phone holds by UPDATE, a=inactive, and
resumes by the offerless re-INVITE; the caller holds by the offerless re-INVITE, answering
a=sendonly in its ACK, and resumes by UPDATE). Before, both got 488 and the call stayed as it
was: the hold was never seen, our audio kept going to the old port.

Both ways: a phone callback we dialled (tests/sipp/hold_callback.xml: sipp is
the phone) and a call that came in (tests/sipp/hold_call_in.xml: sipp is the
caller). On each call sipp plays 440 Hz, re-INVITEs with ``a=sendonly`` and
its media moved to a new port (the test listens there), then ``a=inactive``
(playing 1000 Hz, which must not reach us), then ``a=sendrecv``, plays 440 Hz
again and hangs up. sipp itself checks each of our 200s: the same ``o=``
session one version on, PCMU, the direction mirrored (recvonly, inactive,
sendrecv); it exits non-zero otherwise. The test checks the media: nothing
of ours reaches the new port while held, our tone does once resumed, the
440 Hz is heard again, the 1000 Hz never; and the events say held, then not.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from signaling.media.sip import CallResult, PhoneState, TrunkConfig, open_trunk
from tests.helpers.pcap import write_tone_pcap
from tests.helpers.sip_caller import free_udp_port
from tests.helpers.sip_peer import dominant_hz
from tests.helpers.sipp import Sipp
from tests.integration.test_sip_inbound import NUMBER, Answering
from tests.integration.test_sip_sipp import trunk
from tests.integration.test_sip_trunk import Side, hears

QUIET_HZ = 1000  # what sipp plays while the call is inactive: never heard


def ulaw_to_pcm(payload: bytes) -> bytes:
    """G.711 μ-law to s16 (ITU-T G.711's expansion)."""
    u = ~np.frombuffer(payload, dtype=np.uint8).astype(np.int32) & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
    return np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16).tobytes()


class MovedMedia(asyncio.DatagramProtocol):
    """The far end's new RTP port: when each of our packets arrived, and what it carried."""

    def __init__(self):
        self.arrivals: list[float] = []
        self.pcm = bytearray()

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) > 12 and data[1] & 0x7F == 0:  # PCMU
            self.arrivals.append(time.monotonic())
            self.pcm.extend(ulaw_to_pcm(data[12:]))


async def listen(port: int) -> tuple[asyncio.DatagramTransport, MovedMedia]:
    return await asyncio.get_running_loop().create_datagram_endpoint(MovedMedia, local_addr=("127.0.0.1", port))


def tones(tmp_path) -> dict[str, str]:
    return {"TONE": str(write_tone_pcap(tmp_path / "tone.pcap", 440, seconds=1.0)),
            "QUIET": str(write_tone_pcap(tmp_path / "quiet.pcap", QUIET_HZ, seconds=1.0))}


def never_heard(pcm: bytes, hz: float) -> bool:
    window = 8000  # 0.5 s windows
    found = [dominant_hz(pcm[i:i + window]) for i in range(0, max(0, len(pcm) - window), window // 2)]
    return not any(f is not None and abs(f - hz) < 15 for f in found)


async def held_then_resumed(events, timeout: float = 6.0) -> tuple[float, float]:
    """When the far end's hold and its resume were reported (time.monotonic())."""
    held = resumed = None
    deadline = time.monotonic() + timeout
    while resumed is None:
        assert time.monotonic() < deadline, f"no hold and resume in {[(e.state, e.held) for _, e in events]}"
        for at, event in events:
            if event.state == PhoneState.CONNECTED and event.held and held is None:
                held = at
            elif held is not None and event.state == PhoneState.CONNECTED and not event.held and at > held:
                resumed = at
        await asyncio.sleep(0.05)
    return held, resumed


@pytest.mark.parametrize("scenario", ["hold_callback.xml", "offerless_callback.xml"])
async def test_the_phone_holds_and_resumes_a_callback_with_its_media_moved(tmp_path, scenario):
    new_port = free_udp_port()
    moved, media = await listen(new_port)
    try:
        async with Sipp(scenario, tmp_path, NEWPORT=str(new_port), **tones(tmp_path)) as far, \
                open_trunk(trunk(far)) as ours:
            side = Side()
            timed = []

            def on_event(call, event) -> None:
                timed.append((time.monotonic(), event))
                if event.state == PhoneState.CONNECTED and any(e.state == event.state for e in side.events):
                    return  # a hold or a resume: Side would start a second microphone
                side.on_event(call, event)
            call = await ours.dial("+15550203", ring_timeout=10, on_audio=side.on_audio, on_event=on_event)
            await side.until(PhoneState.CONNECTED)
            await hears(side, 440)
            held, resumed = await held_then_resumed(timed)
            assert call.far_direction == "sendrecv"
            await hears(side, 440, timeout=2.0)  # the phone's voice again, after the resume
            ended = await side.until(PhoneState.ENDED, timeout=5)
            await far.finished()  # every one of our 200s passed sipp's checks
            assert ended.result == CallResult.COMPLETED
    finally:
        moved.close()
    assert not [at for at in media.arrivals if at < resumed - 0.05], "we sent audio to a phone that held the call"
    assert media.arrivals, "nothing reached the phone's new address after the resume"
    assert abs(dominant_hz(bytes(media.pcm[-8000:])) - 880) < 10  # our side's 880 Hz, at the new port
    assert never_heard(bytes(side.heard), QUIET_HZ), "audio sent while the call was inactive reached us"
    assert held < resumed


@pytest.mark.parametrize("name", ["hold_call_in.xml", "offerless_call_in.xml"])
async def test_a_caller_holds_and_resumes_with_its_media_moved(tmp_path, name):
    new_port = free_udp_port()
    moved, media = await listen(new_port)
    port = free_udp_port()
    caller = Sipp(name, tmp_path, calls=f"127.0.0.1:{port}", number=NUMBER, NEWPORT=str(new_port), **tones(tmp_path))
    config = TrunkConfig(uri=caller.uri, local_host="127.0.0.1", local_port=port, register_expires=0)
    try:
        async with open_trunk(config) as trunk_:
            handler = trunk_.on_incoming = Answering()  # answers, plays 660 Hz
            timed = []
            async with caller:
                while not handler.calls:
                    await asyncio.sleep(0.02)
                [call] = handler.calls
                record = call.on_event
                call.on_event = lambda c, e: (timed.append((time.monotonic(), e)), record(c, e))
                await hears(handler, 440)
                held, resumed = await held_then_resumed(timed)
                await hears(handler, 440, timeout=2.0)
                await caller.finished()
            assert call.result == CallResult.COMPLETED
    finally:
        moved.close()
    assert not [at for at in media.arrivals if at < resumed - 0.05], "we sent audio to a caller who held the call"
    assert media.arrivals, "nothing reached the caller's new address after the resume"
    assert abs(dominant_hz(bytes(media.pcm[-8000:])) - 660) < 10
    assert never_heard(bytes(handler.heard), QUIET_HZ), "audio sent while the call was inactive reached us"
    assert held < resumed
