"""Opus (browsers) <-> PCM at 8 kHz mono (a phone trunk), with libopus: the one place audio is decoded.

Browser legs forward encoded Opus untouched; a phone leg can't, so its
audio is transcoded here, at that boundary only: :class:`OpusToPcm` turns
the Opus packets routed to the phone into 20 ms frames of 8 kHz PCM (the
trunk encodes G.711), :class:`PcmToOpus` the phone's 8 kHz frames into Opus
packets the anchor routes like any browser's.

Neither side resamples: libopus (:mod:`.opus`) decodes a browser's 48 kHz
stereo packets straight to 8 kHz mono, and encodes the phone's 8 kHz mono
as mono narrowband Opus, which a browser's stereo 48 kHz Opus session
decodes like any packet (the RTP clock stays 48 kHz: the phone leg steps
its timestamps 960 a packet). Each 20 ms goes out on the call that brought
it in: nothing waits for a filter's tail.
"""

from __future__ import annotations

from signaling.media.opus import Decoder, Encoder
from signaling.media.sip.trunk import FRAME_BYTES, SAMPLE_RATE as PHONE_RATE

__all__ = ["OpusToPcm", "PcmToOpus", "COMPLEXITY", "BIT_RATE"]

# libopus 0-10 for the phone's voice encoded towards browsers: the phone's audio stops at 4 kHz,
# where the highest complexities buy nothing audible, and the encoder was the largest share of a
# phone leg's CPU (bench/README.md, "Phone legs").
COMPLEXITY = 3
BIT_RATE = 16000  # narrowband Opus: about what G.711's 4 kHz band needs to cross unharmed


class OpusToPcm:
    """Feed Opus packets (:meth:`decode`); get whole 20 ms frames of s16 mono 8 kHz PCM back."""

    def __init__(self):
        self._decoder = Decoder(PHONE_RATE, 1)
        self._pending = b""

    def decode(self, payload: bytes) -> list[bytes]:
        pcm = self._decoder.decode(payload)
        if pcm is None:
            return []  # a damaged packet: a 20 ms gap, as a jitter buffer would conceal
        if not self._pending and len(pcm) == FRAME_BYTES:
            return [pcm]  # a browser's usual 20 ms packet
        pending = self._pending + pcm  # 10, 40, 60 ms packets: cut into 20 ms frames
        whole = len(pending) - len(pending) % FRAME_BYTES
        self._pending = pending[whole:]
        return [pending[i:i + FRAME_BYTES] for i in range(0, whole, FRAME_BYTES)]


class PcmToOpus:
    """Feed s16 mono 8 kHz PCM (:meth:`encode`, 20 ms frames as a rule); get a mono Opus packet per 20 ms."""

    def __init__(self, *, bit_rate: int = BIT_RATE, complexity: int = COMPLEXITY):
        self._encoder = Encoder(PHONE_RATE, 1, bit_rate=bit_rate, complexity=complexity)
        self._pending = b""

    def encode(self, pcm: bytes) -> list[bytes]:
        if not self._pending and len(pcm) == FRAME_BYTES:
            return [self._encoder.encode(pcm)]
        pending = self._pending + pcm  # a trunk's 10 or 30 ms packets: 20 ms Opus packets all the same
        whole = len(pending) - len(pending) % FRAME_BYTES
        self._pending = pending[whole:]
        return [self._encoder.encode(pending[i:i + FRAME_BYTES]) for i in range(0, whole, FRAME_BYTES)]
