"""Pre-encoded Opus tones: encoded once per process, then only forwarded.

The hold tone is the one sound the anchor makes itself; encoding it once
keeps "decode only what truly must be" true on hold as well.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

import array
import fractions
import math

import av

from signaling.media.forward import FRAME_SAMPLES, SAMPLE_RATE

__all__ = ["HOLD_TONE_HZ", "RINGBACK_HZ", "hold_tone", "ringback_tone", "TonePlayer", "encode_tone"]

HOLD_TONE_HZ = 620.0
RINGBACK_HZ = 400.0  # the UK's ring tone pitch; 1 s on, 2 s off


def encode_tone(frequency: float, *, seconds: float = 2.0, amplitude: float = 0.25) -> list[bytes]:
    """Opus packets (20 ms each) of a sine that loops seamlessly after ``seconds``."""
    frames = int(seconds * SAMPLE_RATE / FRAME_SAMPLES)
    total = frames * FRAME_SAMPLES
    # A whole number of periods in the loop, so it repeats without a click.
    cycles = max(1, round(frequency * total / SAMPLE_RATE))
    wave = [int(amplitude * 32767 * math.sin(2 * math.pi * cycles * t / total)) for t in range(total)]
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "stereo"
    codec.format = "s16"
    codec.bit_rate = 32000
    codec.time_base = fractions.Fraction(1, SAMPLE_RATE)
    packets: list[bytes] = []
    # Encode two loops and keep the second: the encoder's start-up is gone by then.
    for _ in range(2):
        for i in range(frames):
            stereo = array.array("h", (s for v in wave[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES] for s in (v, v)))
            frame = av.AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
            frame.planes[0].update(stereo.tobytes())
            frame.sample_rate = SAMPLE_RATE
            frame.pts = None
            packets += [bytes(p) for p in codec.encode(frame)]
    return packets[-frames:]


@functools.lru_cache(maxsize=1)
def hold_tone() -> tuple[bytes, ...]:
    return tuple(encode_tone(HOLD_TONE_HZ))


@functools.lru_cache(maxsize=1)
def ringback_tone() -> tuple[bytes, ...]:
    """What an agent hears while the phone they called rings (and sends no early media)."""
    return tuple(encode_tone(RINGBACK_HZ, seconds=1.0) + encode_tone(RINGBACK_HZ, seconds=2.0, amplitude=0.0))


class TonePlayer:
    """Calls ``sink(payload, rtp_timestamp)`` every 20 ms with the next packet of a loop."""

    def __init__(self, packets: tuple[bytes, ...], sink: Callable[[bytes, int], None]):
        self._packets = packets
        self._sink = sink
        self._task: asyncio.Task | None = None

    @property
    def playing(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tone")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        i = 0
        while True:
            self._sink(self._packets[i % len(self._packets)], (i * FRAME_SAMPLES) % (1 << 32))
            i += 1
            # Paced by the loop clock, not by sleep lengths, so it doesn't drift.
            await asyncio.sleep(max(0.0, start + i * FRAME_SAMPLES / SAMPLE_RATE - loop.time()))
