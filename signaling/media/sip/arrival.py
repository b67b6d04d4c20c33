"""A trunk's RTP handed on as it arrives: aiortp's jitter buffer swapped for one that holds nothing.

aiortp 0.8 (pinned in pyproject.toml) assembles an audio frame only once the
*next* packet shows where it ends (a new timestamp), so every 20 ms G.711
packet from the phone waited 20 ms for its successor before it was decoded,
and a lost packet stalled the stream until the buffer filled. A G.711 packet
is a whole frame: :func:`deliver_on_arrival` puts an :class:`ArrivalBuffer` in
the session's place for the jitter buffer (``_jitter_buffer``, the one private
name used) so each packet is decoded and handed to ``on_audio`` as it comes.
Jitter is absorbed where a browser listens (its own jitter buffer), as for
the audio the anchor forwards untouched.

What the stand-in keeps of a jitter buffer: a duplicate, or a packet older than
one already handed on, is dropped (played late it would be noise); a gap of up
to :data:`MAX_CONCEALED` packets is reported as lost on the next frame, so
aiortp's concealment fills it and the stream keeps its length; a longer jump
(a new stream, a long outage) starts afresh. Telephone-event and comfort-noise
packets move the sequence on without media.

``tests/unit/media/test_media_arrival.py`` checks this against the installed
aiortp, so an upgrade that renames the attribute fails there first.
"""

from __future__ import annotations

from aiortp import RTPSession
from aiortp.jitterbuffer import JitterFrame

__all__ = ["ArrivalBuffer", "deliver_on_arrival", "MAX_CONCEALED"]

MAX_CONCEALED = 5  # packets (100 ms) a gap may lack and still be concealed before the next frame
_ATTRIBUTE = "_jitter_buffer"


class ArrivalBuffer:
    """Stands in for aiortp's ``JitterBuffer``: ``add`` returns each in-order packet as a frame at once."""

    def __init__(self) -> None:
        self._last: int | None = None

    def reset(self) -> None:
        """A new stream (another SSRC): no sequence to follow."""
        self._last = None

    def add(self, packet) -> tuple[bool, JitterFrame | None]:
        lost = self._advance(packet.sequence_number)
        if lost is None:
            return False, None
        return False, JitterFrame(data=packet.payload, timestamp=packet.timestamp, lost=lost)

    def mark_non_media(self, sequence_number: int) -> None:
        self._advance(sequence_number)
        return None

    def _advance(self, sequence_number: int) -> int | None:
        """Packets missing before this one (0 in order), or None for a duplicate or a late one."""
        last, self._last = self._last, sequence_number
        if last is None:
            return 0
        step = (sequence_number - last) & 0xFFFF
        if step == 0 or step >= 0x8000:
            self._last = last
            return None
        return step - 1 if step - 1 <= MAX_CONCEALED else 0


def deliver_on_arrival(session: RTPSession) -> ArrivalBuffer:
    """Make ``session`` hand each packet on as it arrives (the module docstring says why). Call before
    media flows. Raises RuntimeError if this aiortp has no such attribute (an unsupported version)."""
    if not hasattr(session, _ATTRIBUTE):
        raise RuntimeError("this aiortp has no session jitter buffer to replace; otodesk pins aiortp==0.8.0")
    buffer = ArrivalBuffer()
    setattr(session, _ATTRIBUTE, buffer)
    return buffer
