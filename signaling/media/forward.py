"""A track that sends encoded Opus packets, as they come, without re-encoding.

``RTCRtpSender`` sends an ``av.Packet`` from its track as it is (the Opus
encoder's public ``pack`` path, as ``MediaPlayer(decode=False)`` uses), so the
anchor forwards a browser's packets to another browser by pushing them here.
The RTP timestamps going out must be continuous even when the source changes
(a supervisor starts to whisper, hold music starts, a party is muted):
consecutive packets of one source keep their own timestamp spacing (so their
gaps stay gaps), and a packet from another source, or after a pause, is
placed by the wall clock.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import time

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

__all__ = ["ForwardTrack", "SAMPLE_RATE", "FRAME_SAMPLES"]

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
MAX_SPACING = 2 * SAMPLE_RATE  # samples: a larger jump within one source is a restart


class ForwardTrack(MediaStreamTrack):
    """An outgoing audio track fed with encoded packets by :meth:`push`.

    The queue is short and bounded (``queue_size`` packets, oldest dropped):
    a sender that falls behind loses old audio instead of adding delay.
    """

    kind = "audio"

    def __init__(self, *, queue_size: int = 8, clock=time.monotonic):
        super().__init__()
        self._queue: collections.deque[av.Packet] = collections.deque(maxlen=queue_size)
        self._wake = asyncio.Event()
        self._clock = clock
        self._pts = 0
        self._source: object = None
        self._source_ts: int | None = None
        self._last_at: float | None = None
        self.pushed = 0
        self.dropped = 0

    def push(self, source: object, payload: bytes, rtp_timestamp: int) -> None:
        """Queue one encoded packet from ``source`` (any hashable) with its RTP timestamp."""
        if self.readyState != "live":
            return
        now = self._clock()
        if self._last_at is None:
            step = 0
        else:
            step = -1
            if source == self._source and self._source_ts is not None:
                spacing = (rtp_timestamp - self._source_ts) % (1 << 32)
                if 0 < spacing <= MAX_SPACING:
                    step = spacing
            if step < 0:
                frames = round((now - self._last_at) * SAMPLE_RATE / FRAME_SAMPLES)
                step = max(1, frames) * FRAME_SAMPLES
        self._pts += step
        self._source, self._source_ts, self._last_at = source, rtp_timestamp, now
        packet = av.Packet(payload)
        packet.pts = self._pts
        packet.time_base = TIME_BASE
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(packet)
        self.pushed += 1
        self._wake.set()

    async def recv(self) -> av.Packet:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._wake.clear()
            await self._wake.wait()
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._wake.set()  # a recv() waiting for packets ends now
