"""libopus through ctypes: the phone's side encoded as mono 8 kHz Opus, browsers' packets decoded at 8 kHz."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest

from signaling.media.opus import Decoder, Encoder, OpusError
from signaling.media.sip.trunk import FRAME_BYTES
from signaling.media.tones import encode_tone
from signaling.media.transcode import OpusToPcm, PcmToOpus
from tests.helpers.sip_peer import dominant_hz, tone_frames

_STEREO = 0x04  # the TOC byte's stereo flag (RFC 6716 section 3.1)


def _decode_as_a_browser(packets: list[bytes]) -> bytes:
    """FFmpeg's libopus decoder in a 48 kHz stereo session, as a browser's is; left channel, every 6th sample."""
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout = 48000, "stereo"
    pcm = bytearray()
    for packet in packets:
        for frame in decoder.decode(av.Packet(packet)):
            samples = frame.to_ndarray().reshape(-1)  # packed s16 or planar float: take channel 0
            left = samples[::2] if frame.format.name == "s16" else frame.to_ndarray()[0]
            if left.dtype != np.int16:
                left = (np.clip(left, -1, 1) * 32767).astype(np.int16)
            pcm += left[::6].tobytes()
    return bytes(pcm)


def test_the_phones_voice_is_encoded_as_mono_packets_a_stereo_48khz_session_decodes():
    """Mono (no stereo flag, so no 48 kHz stereo resampling before the encoder), and still what a
    browser's stereo 48 kHz Opus session plays: the same pitch."""
    encoder = PcmToOpus()
    packets = [p for frame in tone_frames(440) * 2 for p in encoder.encode(frame)]
    assert len(packets) == 100
    assert not any(packet[0] & _STEREO for packet in packets)
    assert abs(dominant_hz(_decode_as_a_browser(packets)[-8000:]) - 440) < 10


def test_a_browsers_stereo_48khz_packets_decode_straight_to_8khz_mono():
    decoder = Decoder(8000, 1)
    packets = encode_tone(880, seconds=1.0)
    assert all(packet[0] & _STEREO for packet in packets)  # PyAV's encoder writes stereo, as Chromium may
    pcm = b"".join(decoder.decode(p) for p in packets)
    assert len(pcm) == 50 * FRAME_BYTES
    assert abs(dominant_hz(pcm[-8000:]) - 880) < 10


def test_packets_of_10_and_60_ms_come_out_as_20_ms_frames():
    wave = (0.3 * 32767 * np.sin(2 * math.pi * 660 * np.arange(48000) / 48000)).astype(np.int16)
    stereo = np.repeat(wave, 2).tobytes()
    encoder = Encoder(48000, 2, bit_rate=32000, complexity=5)
    ten = [encoder.encode(stereo[i:i + 1920]) for i in range(0, 1920 * 30, 1920)]  # 30 packets of 10 ms
    sixty = [encoder.encode(stereo[i:i + 11520]) for i in range(0, 11520 * 3, 11520)]  # 3 of 60 ms
    decoder = OpusToPcm()
    frames = [frame for packet in ten + sixty for frame in decoder.decode(packet)]
    assert len(frames) == 15 + 9 and all(len(f) == FRAME_BYTES for f in frames)
    assert abs(dominant_hz(b"".join(frames)[-4000:]) - 660) < 15


def test_a_trunks_30_ms_frames_become_20_ms_packets():
    encoder = PcmToOpus()
    pcm = b"".join(tone_frames(440))
    counts = [len(encoder.encode(pcm[i:i + 480])) for i in range(0, 480 * 4, 480)]
    assert counts == [1, 2, 1, 2]


def test_damaged_and_empty_packets_are_gaps():
    decoder = Decoder(8000, 1)
    assert decoder.decode(b"\xff\xff\xff") is None
    assert decoder.decode(b"") is None  # not libopus's 120 ms of concealment
    assert OpusToPcm().decode(b"") == []


def test_unsupported_formats_are_refused_clearly():
    with pytest.raises(OpusError, match="44100 Hz"):
        Decoder(44100, 1)
    with pytest.raises(OpusError, match="3"):
        Encoder(8000, 3, bit_rate=16000, complexity=3)
    with pytest.raises(OpusError, match="complexity"):
        Encoder(8000, 1, bit_rate=16000, complexity=42)
