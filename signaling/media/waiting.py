"""What an inbound caller hears before an agent: a greeting, then hold music; or, when the
queue is closed, the closed announcement before we hang up.

Generated here, once per process, as 20 ms frames of 8 kHz PCM (what the
trunk sends; nothing is encoded to Opus for a caller nobody listens to yet).
The greeting is a three-note chime (no recorded voice ships with otodesk);
the hold music a soft four-note phrase, looped until an agent's leg connects.
The closed announcement is a falling phrase of three other notes, played
twice (:func:`closed`): :func:`announce` plays it and hangs up (BYE). No
speech: the next opening time is on the caller's timeline, not in their ear.
Every note starts and ends on a short fade, so nothing clicks.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from signaling.media.sip.trunk import FRAME_SAMPLES, SAMPLE_RATE, PhoneCall, PhoneState

__all__ = ["GREETING_HZ", "HOLD_MUSIC_HZ", "CLOSED_HZ", "greeting", "hold_music", "waiting_frames", "closed",
           "announce"]

GREETING_HZ = (523, 659, 784)        # C5 E5 G5: "you are through"
HOLD_MUSIC_HZ = (392, 494, 587, 494)  # G4 B4 D5 B4, round and round
CLOSED_HZ = (698, 554, 440)          # F5 C#5 A4, falling: "we're closed" (none of the others' notes)
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


@functools.lru_cache(maxsize=1)
def closed() -> tuple[bytes, ...]:
    """The falling phrase twice, with a pause after each: about 3.4 s."""
    gap, pause = np.zeros(int(GAP * SAMPLE_RATE)), np.zeros(int(0.6 * SAMPLE_RATE))
    phrase = [part for hz in CLOSED_HZ for part in (_note(hz, NOTE, 0.3), gap)]
    return _frames(np.concatenate([*phrase, pause, *phrase, pause]))


async def announce(phone: PhoneCall, frames: Iterable[bytes], *, frame_seconds: float = 0.02) -> None:
    """Play ``frames`` to the answered ``phone`` at their pace, then hang up (BYE); returns at
    once if the caller hangs up first. Cancel it to stop (the call is left to the caller)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, frame in enumerate(frames, start=1):
        if phone.state != PhoneState.CONNECTED:
            return
        phone.send_audio(frame)
        await asyncio.sleep(max(0.0, start + i * frame_seconds - loop.time()))
    await phone.hangup()
