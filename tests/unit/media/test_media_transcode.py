"""Opus <-> 8 kHz PCM at the phone boundary keeps a tone's pitch, in whole 20 ms frames."""

from __future__ import annotations

from signaling.media.sip.trunk import FRAME_BYTES
from signaling.media.tones import encode_tone
from signaling.media.transcode import OpusToPcm, PcmToOpus
from tests.helpers.sip_peer import dominant_hz, tone_frames


def test_opus_tone_becomes_8khz_frames_of_the_same_pitch():
    decoder = OpusToPcm()
    pcm = b"".join(frame for packet in encode_tone(880, seconds=1.0) for frame in decoder.decode(packet))
    assert pcm and len(pcm) % FRAME_BYTES == 0
    assert abs(dominant_hz(pcm[-8000:]) - 880) < 10


def test_8khz_tone_becomes_opus_packets_of_the_same_pitch():
    encoder, decoder = PcmToOpus(), OpusToPcm()
    packets = [p for frame in tone_frames(440) * 2 for p in encoder.encode(frame)]
    assert len(packets) == 100  # one 20 ms packet per 20 ms frame, nothing held back
    pcm = b"".join(frame for packet in packets for frame in decoder.decode(packet))
    assert abs(dominant_hz(pcm[-8000:]) - 440) < 10


def test_a_damaged_packet_is_skipped_not_raised():
    assert OpusToPcm().decode(b"\xff\xff\xff") == []


def test_each_20ms_frame_is_handed_on_at_once_both_ways():
    """Each frame in gives its frame out on the same call, from the first: the resampler's held-back
    tail once left every frame waiting in a FIFO for the next one (20 ms more each way)."""
    encoder, decoder = PcmToOpus(), OpusToPcm()
    assert [len(encoder.encode(frame)) for frame in tone_frames(440)[:50]] == [1] * 50
    assert [len(decoder.decode(packet)) for packet in encode_tone(880, seconds=1.0)] == [1] * 50
