"""Towards the phone: the agent's frames go out as they are decoded; two voices, and silence, keep the mixer's clock."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np

from signaling.media.phone import FRAME_SECONDS, SOLO_AFTER, PhoneLeg
from signaling.media.sip.trunk import FRAME_BYTES, PhoneEvent, PhoneState
from signaling.media.tones import encode_tone
from tests.helpers.sip_peer import dominant_hz

SILENCE = bytes(FRAME_BYTES)


class Phone:
    """What a trunk's call is to the leg: it records what the leg sends, and when."""

    number = "+442079460123"
    state = PhoneState.CONNECTED
    far_direction = "sendrecv"

    def __init__(self):
        self.sent: list[tuple[float, bytes]] = []

    def send_audio(self, pcm: bytes) -> None:
        self.sent.append((asyncio.get_running_loop().time(), pcm))

    async def hangup(self) -> None:
        pass


def connected_leg() -> tuple[PhoneLeg, Phone]:
    phone = Phone()
    call = SimpleNamespace(ended=False, _leg_changed=lambda leg: None, state=SimpleNamespace(ringback=False),
                           update=lambda **_: None, _route=lambda *_: None)
    leg = PhoneLeg(call, phone)
    leg.on_event(phone, PhoneEvent(state=PhoneState.CONNECTED, status=200))
    return leg, phone


def voiced(sent: list[tuple[float, bytes]]) -> list[bytes]:
    return [pcm for _, pcm in sent if pcm != SILENCE]


async def test_the_agents_frame_goes_to_the_phone_as_it_is_decoded_not_at_the_next_tick():
    leg, phone = connected_leg()
    try:
        await asyncio.sleep(0)  # the mixer is running
        for packet in encode_tone(880, seconds=0.2):
            before = len(voiced(phone.sent))
            leg.outs[0].push("agent", packet, 0)
            assert len(voiced(phone.sent)) == before + 1  # on the call that brought it, no await between
        assert abs(dominant_hz(b"".join(voiced(phone.sent))) - 880) < 15
    finally:
        await leg.close()


async def test_two_voices_are_mixed_on_the_clock():
    leg, phone = connected_leg()
    try:
        await asyncio.sleep(0)
        agent, supervisor = encode_tone(440, seconds=0.4), encode_tone(1000, seconds=0.4)
        for a, s in zip(agent, supervisor):
            leg.outs[1].push("supervisor", s, 0)
            count = len(phone.sent)
            leg.outs[0].push("agent", a, 0)
            assert len(phone.sent) == count  # queued for the mixer: it must hear both
            await asyncio.sleep(FRAME_SECONDS)
        await asyncio.sleep(3 * FRAME_SECONDS)
        pcm = np.frombuffer(b"".join(voiced(phone.sent)[5:]), dtype=np.int16)
        spectrum = np.abs(np.fft.rfft(pcm))
        bins = np.fft.rfftfreq(len(pcm), 1 / 8000)
        power = {hz: spectrum[np.abs(bins - hz) < 10].max() for hz in (440, 1000, 700)}
        assert power[440] > 10 * power[700] and power[1000] > 10 * power[700]
        # the supervisor gone quiet, the agent's frames go out on arrival again
        await asyncio.sleep(SOLO_AFTER + 2 * FRAME_SECONDS)
        count = len(phone.sent)
        leg.outs[0].push("agent", agent[0], 0)
        assert len(phone.sent) == count + 1
    finally:
        await leg.close()


async def test_silence_fills_the_line_without_doubling_it():
    """Nothing from the agent: silence a frame a tick; the agent's frames on arrival meanwhile: no
    silence added between them, so the phone's timeline (one frame, one RTP step) keeps the clock's."""
    leg, phone = connected_leg()
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(0.3)
        assert len(phone.sent) >= 5 and not voiced(phone.sent)
        for packet in encode_tone(440, seconds=0.6):
            leg.outs[0].push("agent", packet, 0)
            await asyncio.sleep(FRAME_SECONDS)
        frames_by_the_clock = (loop.time() - start) / FRAME_SECONDS
        assert len(voiced(phone.sent)) == 30
        assert len(phone.sent) <= frames_by_the_clock + 2
    finally:
        await leg.close()
