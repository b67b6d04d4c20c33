"""aiortc participants for tests and the bench: a tone as microphone, an ear that names frequencies.

A bot offers what the browsers offer (the microphone sendrecv, an extra voice
recvonly), waits for ICE gathering (non-trickle) and takes the anchor's answer.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fractions
import math
import time
from collections.abc import Awaitable, Callable

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.media.forward import FRAME_SAMPLES, SAMPLE_RATE

__all__ = ["ToneTrack", "Ear", "Bot", "goertzel_power"]

TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


class ToneTrack(MediaStreamTrack):
    """A microphone that plays a sine of ``hz`` (an integer: the 1 s loop is seamless)."""

    kind = "audio"

    def __init__(self, hz: int, *, amplitude: float = 0.3):
        super().__init__()
        self.hz = hz
        self.silent = False
        self._frames = []
        silence = bytes(FRAME_SAMPLES * 4)
        for f in range(SAMPLE_RATE // FRAME_SAMPLES):
            samples = array.array("h")
            for n in range(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES):
                v = int(amplitude * 32767 * math.sin(2 * math.pi * hz * n / SAMPLE_RATE))
                samples.extend((v, v))
            self._frames.append(samples.tobytes())
        self._silence = silence
        self._start: float | None = None
        self._pts = 0
        #: Wall-clock times (time.time()) at which marked frames were produced: see ``mark``.
        self.marks: list[float] = []
        self._mark_next = False

    def mark(self) -> None:
        """Make the next frames a burst after silence: its start time is recorded in ``marks``."""
        self._mark_next = True

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / SAMPLE_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        index = (self._pts // FRAME_SAMPLES) % len(self._frames)
        if self._mark_next and not self.silent:
            self._mark_next = False
            self.marks.append(time.time())
        data = self._silence if self.silent else self._frames[index]
        frame = av.AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        frame.planes[0].update(data)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        return frame


def goertzel_power(samples: array.array, hz: float, rate: int = SAMPLE_RATE) -> float:
    """Power of ``hz`` in mono ``samples`` (normalised by length)."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2, s1 = s1, s0
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (len(samples) ** 2)


class Ear:
    """Reads a remote track (so it never piles up) and keeps the last ``seconds`` of it, mono."""

    def __init__(self, track: MediaStreamTrack, *, seconds: float = 0.4,
                 on_frame: Callable[[array.array, float], None] | None = None):
        self.track = track
        self.keep = int(seconds * SAMPLE_RATE)
        self.samples = array.array("h")
        self.frames = 0
        self.on_frame = on_frame
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await self.track.recv()
                self.frames += 1
                data = array.array("h", bytes(frame.planes[0]))
                channels = len(frame.layout.channels)
                mono = data[::channels] if channels > 1 else data
                if self.on_frame is not None:
                    self.on_frame(mono, time.time())
                self.samples.extend(mono)
                if len(self.samples) > self.keep:
                    del self.samples[:len(self.samples) - self.keep]

    def hears(self, candidates: list[float], *, floor: float = 1e3) -> float | None:
        """The loudest of ``candidates`` in what was heard last, or None for silence."""
        powers = {hz: goertzel_power(self.samples[-9600:], hz) for hz in candidates}
        best = max(powers, key=powers.get)
        return best if powers[best] > floor else None

    def clear(self) -> None:
        del self.samples[:]

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class Bot:
    """One participant: ``await bot.connect(signal)`` where ``signal(offer_sdp) -> answer_sdp``."""

    def __init__(self, hz: int, *, ice_servers=None):
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=list(ice_servers or [])))
        self.mic = ToneTrack(hz)
        self.ears: list[Ear] = []
        self.pc.addTransceiver(self.mic, direction="sendrecv")
        self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self.ears.append(Ear(track))

    async def connect(self, signal: Callable[[str], Awaitable[str]]) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await signal(self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def connected(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.pc.connectionState != "connected":
            if time.monotonic() > deadline or self.pc.connectionState in ("failed", "closed"):
                raise TimeoutError(f"bot not connected: {self.pc.connectionState}")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for ear in self.ears:
            await ear.close()
        await self.pc.close()
