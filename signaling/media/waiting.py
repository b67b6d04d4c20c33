"""What an inbound caller hears while they wait for an agent: a greeting, then hold music.

Generated here, once per process, as 20 ms frames of 8 kHz PCM (what the
trunk sends; nothing is encoded to Opus for a caller nobody listens to yet).
The greeting is a three-note chime (no recorded voice ships with otodesk);
the hold music a soft four-note phrase, looped until an agent's leg connects.
Every note starts and ends on a short fade, so nothing clicks.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator

import numpy as np

from signaling.media.sip.trunk import FRAME_SAMPLES, SAMPLE_RATE

__all__ = ["GREETING_HZ", "HOLD_MUSIC_HZ", "greeting", "hold_music", "waiting_frames"]

GREETING_HZ = (523, 659, 784)        # C5 E5 G5: "you are through"
HOLD_MUSIC_HZ = (392, 494, 587, 494)  # G4 B4 D5 B4, round and round
NOTE = 0.36   # seconds a note of the greeting lasts (then a short gap)
GAP = 0.04
HOLD_NOTE = 0.6
FADE = 0.02   # seconds of fade in and out of each note


def _note(hz: float, seconds: float, amplitude: float) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    envelope = np.minimum(1.0, np.minimum(t, (n - 1) / SAMPLE_RATE - t) / FADE)
    return amplitude * 32767 * envelope * np.sin(2 * np.pi * hz * t)


def _frames(samples: np.ndarray) -> tuple[bytes, ...]:
    whole = -(-len(samples) // FRAME_SAMPLES) * FRAME_SAMPLES
    pcm = np.zeros(whole, dtype=np.int16)
    pcm[:len(samples)] = np.clip(samples, -32768, 32767).astype(np.int16)
    return tuple(pcm[i:i + FRAME_SAMPLES].tobytes() for i in range(0, whole, FRAME_SAMPLES))


@functools.lru_cache(maxsize=1)
def greeting() -> tuple[bytes, ...]:
    """The chime and half a second of quiet after it: about 1.7 s."""
    gap = np.zeros(int(GAP * SAMPLE_RATE))
    parts = [part for hz in GREETING_HZ for part in (_note(hz, NOTE, 0.3), gap)]
    return _frames(np.concatenate([*parts, np.zeros(SAMPLE_RATE // 2)]))


@functools.lru_cache(maxsize=1)
def hold_music() -> tuple[bytes, ...]:
    """One pass of the phrase (2.4 s), to be looped."""
    return _frames(np.concatenate([_note(hz, HOLD_NOTE, 0.2) for hz in HOLD_MUSIC_HZ]))


def waiting_frames() -> Iterator[bytes]:
    """The greeting once, then the hold music for ever."""
    return itertools.chain(greeting(), itertools.cycle(hold_music()))
