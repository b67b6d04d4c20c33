"""Opus at 48 kHz (browsers) <-> PCM at 8 kHz (a phone trunk), with PyAV: the one place audio is decoded.

Browser legs forward encoded Opus untouched; a phone leg can't, so its
audio is transcoded here, at that boundary only: :class:`OpusToPcm` turns
the Opus packets routed to the phone into 20 ms frames of 8 kHz PCM (the
trunk encodes G.711), :class:`PcmToOpus` the phone's 8 kHz frames into Opus
packets the anchor routes like any browser's.

Both hand each 20 ms on as soon as it is in: the resampler keeps its filter's
tail back on the first frame (a few samples), which would leave every later
frame waiting in the FIFO for the next one (20 ms more in each direction);
the first output is padded at the front with that many samples of silence
instead, so whole frames line up with what came in.
"""

from __future__ import annotations

import fractions

import av

from signaling.media.forward import FRAME_SAMPLES as OPUS_FRAME, SAMPLE_RATE as OPUS_RATE
from signaling.media.sip.trunk import FRAME_BYTES, FRAME_SAMPLES as PHONE_FRAME, SAMPLE_RATE as PHONE_RATE

__all__ = ["OpusToPcm", "PcmToOpus"]

COMPLEXITY = 5  # libopus 0-10 for the phone's voice encoded towards browsers


class OpusToPcm:
    """Feed Opus packets (:meth:`decode`); get whole 20 ms frames of s16 mono 8 kHz PCM back."""

    def __init__(self):
        self._decoder = av.CodecContext.create("libopus", "r")
        self._decoder.sample_rate = OPUS_RATE
        self._decoder.layout = "stereo"
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=PHONE_RATE)
        self._pending = bytearray()
        self._aligned = False

    def decode(self, payload: bytes) -> list[bytes]:
        out: list[bytes] = []
        try:
            frames = self._decoder.decode(av.Packet(payload))
        except av.error.FFmpegError:
            return out  # a damaged packet: a 20 ms gap, as a jitter buffer would conceal
        for frame in frames:
            for resampled in self._resampler.resample(frame):
                self._pending += bytes(resampled.planes[0])[:resampled.samples * 2]
        if not self._aligned and self._pending:  # the module docstring says why
            self._aligned = True
            self._pending[:0] = bytes(-len(self._pending) % FRAME_BYTES)
        while len(self._pending) >= FRAME_BYTES:
            out.append(bytes(self._pending[:FRAME_BYTES]))
            del self._pending[:FRAME_BYTES]
        return out


class PcmToOpus:
    """Feed 20 ms frames of s16 mono 8 kHz PCM (:meth:`encode`); get Opus packets (48 kHz stereo) back."""

    def __init__(self, *, bit_rate: int = 24000):
        self._encoder = av.CodecContext.create("libopus", "w")
        self._encoder.sample_rate = OPUS_RATE
        self._encoder.layout = "stereo"
        self._encoder.format = "s16"
        self._encoder.bit_rate = bit_rate
        self._encoder.time_base = fractions.Fraction(1, OPUS_RATE)
        # The phone's audio stops at 4 kHz: libopus's highest complexity (10, the default) buys
        # nothing audible for it, and its encoder is most of a phone leg's CPU (bench.phone).
        self._encoder.options = {"compression_level": str(COMPLEXITY)}
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=OPUS_RATE)
        self._fifo = av.AudioFifo()
        self._pts = 0
        self._aligned = False

    def encode(self, pcm: bytes) -> list[bytes]:
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = PHONE_RATE
        frame.time_base = fractions.Fraction(1, PHONE_RATE)
        frame.pts = self._pts
        self._pts += len(pcm) // 2
        resampled = self._resampler.resample(frame)
        if not self._aligned and resampled:  # the module docstring says why
            self._aligned = True
            short = -sum(r.samples for r in resampled) % OPUS_FRAME
            if short:
                silence = av.AudioFrame(format="s16", layout="stereo", samples=short)
                silence.planes[0].update(bytes(silence.planes[0].buffer_size))
                silence.sample_rate = OPUS_RATE
                self._fifo.write(silence)
        for chunk in resampled:
            chunk.pts = None
            self._fifo.write(chunk)
        packets: list[bytes] = []
        while self._fifo.samples >= OPUS_FRAME:
            chunk = self._fifo.read(OPUS_FRAME)
            chunk.pts = None
            packets += [bytes(p) for p in self._encoder.encode(chunk)]
        return packets


assert PHONE_FRAME * OPUS_RATE // PHONE_RATE == OPUS_FRAME  # both sides speak in 20 ms frames
