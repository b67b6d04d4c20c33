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

A caller may be offered a callback while they wait (:class:`WaitingAudio`): after the
greeting and then every ``every`` seconds of hold music, the offer's prompt is played (spoken,
:mod:`signaling.media.speech`, or else :func:`offer_cue`: two high notes twice, none of the
others'); :meth:`WaitingAudio.interject` plays a confirmation or a refusal over the music
(:func:`yes_cue`, :func:`no_cue` when there is no speech). Its clock is the frames taken:
pure, one frame a call of ``next``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from signaling.media.sip.trunk import FRAME_SAMPLES, SAMPLE_RATE, PhoneCall, PhoneState

__all__ = ["GREETING_HZ", "HOLD_MUSIC_HZ", "CLOSED_HZ", "OFFER_HZ", "YES_HZ", "NO_HZ", "greeting", "hold_music",
           "waiting_frames", "closed", "announce", "offer_cue", "yes_cue", "no_cue", "WaitingAudio", "seconds_of"]

GREETING_HZ = (523, 659, 784)        # C5 E5 G5: "you are through"
HOLD_MUSIC_HZ = (392, 494, 587, 494)  # G4 B4 D5 B4, round and round
CLOSED_HZ = (698, 554, 440)          # F5 C#5 A4, falling: "we're closed" (none of the others' notes)
OFFER_HZ = (1047, 880)               # C6 A5, twice: "press 1 for a callback" (no speech)
YES_HZ = (622, 932)                  # D#5 A#5, rising: "done, we'll call you back"
NO_HZ = (311, 311)                   # D#4 twice, low: "that can't be done"
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


@functools.lru_cache(maxsize=1)
def offer_cue() -> tuple[bytes, ...]:
    """The callback offer without speech: two high notes, twice, then half a second: about 2.1 s."""
    gap = np.zeros(int(GAP * SAMPLE_RATE))
    phrase = [part for hz in OFFER_HZ for part in (_note(hz, 0.2, 0.3), gap)]
    return _frames(np.concatenate([*phrase, np.zeros(int(0.3 * SAMPLE_RATE)), *phrase, np.zeros(SAMPLE_RATE // 2)]))


@functools.lru_cache(maxsize=1)
def yes_cue() -> tuple[bytes, ...]:
    """The choice was taken: two rising notes, about 0.5 s."""
    gap = np.zeros(int(GAP * SAMPLE_RATE))
    return _frames(np.concatenate([part for hz in YES_HZ for part in (_note(hz, 0.2, 0.3), gap)]))


@functools.lru_cache(maxsize=1)
def no_cue() -> tuple[bytes, ...]:
    """The choice can't be taken: one low note twice, about 0.8 s."""
    gap = np.zeros(int(0.12 * SAMPLE_RATE))
    return _frames(np.concatenate([part for hz in NO_HZ for part in (_note(hz, 0.3, 0.3), gap)]))


def seconds_of(frames: tuple[bytes, ...]) -> float:
    return len(frames) * FRAME_SAMPLES / SAMPLE_RATE


class WaitingAudio:
    """What a waiting caller hears, as an iterator of 20 ms frames: the greeting, then hold
    music with ``prompt`` (frames; None: no offer) played after the greeting and again every
    ``every`` seconds (0: once). :meth:`interject` plays frames next, then the music goes on."""

    def __init__(self, prompt: tuple[bytes, ...] | None = None, *, every: float = 40.0):
        self.prompt = prompt
        self.every_frames = max(1, round(every * SAMPLE_RATE / FRAME_SAMPLES)) if every > 0 else 0
        #: Frames taken so far (the clock); the frame at which the first prompt began (None: not yet).
        self.taken = 0
        self.prompted_at: int | None = None
        self._now: Iterator[bytes] = iter(greeting())
        self._music = itertools.cycle(hold_music())
        self._next_prompt = len(greeting()) if prompt else None

    @property
    def prompted(self) -> bool:
        """The caller has heard the offer begin: a key pressed now answers it."""
        return self.prompted_at is not None

    def offer(self, prompt: tuple[bytes, ...]) -> None:
        """Begin offering ``prompt`` now (its words were not ready as the call was answered):
        it plays once what plays now (the greeting) ends, then every ``every`` seconds."""
        self.prompt = prompt
        self._next_prompt = self.taken

    def stop_offering(self) -> None:
        """No more prompts (the option was refused or taken)."""
        self._next_prompt = None

    def interject(self, frames: tuple[bytes, ...]) -> None:
        """Play ``frames`` now (cutting short what plays), then go back to the music."""
        self._now = iter(frames)

    def __iter__(self) -> "WaitingAudio":
        return self

    def __next__(self) -> bytes:
        self.taken += 1
        frame = next(self._now, None)
        if frame is not None:
            return frame
        if self._next_prompt is not None and self.taken > self._next_prompt:
            self.prompted_at = self.taken if self.prompted_at is None else self.prompted_at
            self._next_prompt = self.taken + len(self.prompt) + self.every_frames - 1 if self.every_frames else None
            self._now = iter(self.prompt[1:])
            return self.prompt[0]
        return next(self._music)


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
