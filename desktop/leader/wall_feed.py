"""What the leader publishes to the supervisors' wall room: one whole wall, then deltas. Pure.

A whole ``wall`` (177 KB with 1,000 agents) at the start of a term, when a supervisor's socket
asks for one (``want_whole``: a late joiner found none, a reader met a gap), every
``WHOLE_EVERY`` seconds (so the room's replay window always holds one to start from) and when a
delta can't say the change (queues reordered); otherwise a ``wall_delta`` of what changed since
the last message (signaling/protocol/wall_delta.py). Each is numbered in the term: a reader
applies a delta only to the wall just before it.
"""

from __future__ import annotations

from typing import Any

from signaling.protocol import wall_delta
from signaling.protocol.outbound import OutWall, OutWallDelta

__all__ = ["WHOLE_EVERY", "WallFeed"]

#: Seconds between whole walls when nobody asks: a joiner replays at most this much of deltas
#: (at most one a second; the room keeps WALL_KEEP events, desktop/rooms.py).
WHOLE_EVERY = 60.0


class WallFeed:
    """The wall messages of one leader's term (``term``: unique to it, e.g. its lease epoch and
    a random part). Call :meth:`message` with each new wall and publish what it returns;
    :meth:`failed` when the bus refused it."""

    def __init__(self, term: str, *, whole_every: float = WHOLE_EVERY) -> None:
        self.term = term
        self.whole_every = whole_every
        self.wall_seq = 0
        self._last: dict[str, Any] | None = None  # the wall readers were last sent
        self._whole_at = float("-inf")
        self._want_whole = True

    def want_whole(self) -> None:
        """The next message is a whole wall."""
        self._want_whole = True

    def message(self, wall: dict[str, Any], now: float) -> OutWall | OutWallDelta:
        """The message that takes readers to ``wall`` (the fields ``wall_snapshot`` returns)."""
        delta = None
        if not self._want_whole and self._last is not None and now - self._whole_at < self.whole_every:
            delta = wall_delta.diff(self._last, wall)
        self.wall_seq += 1
        self._last = wall
        if delta is None:
            self._want_whole, self._whole_at = False, now
            return OutWall(term=self.term, wall_seq=self.wall_seq, **wall)
        return OutWallDelta(term=self.term, wall_seq=self.wall_seq, **delta)

    def failed(self) -> None:
        """The last message may not have reached the room (the bus failed): readers of it and
        readers without it must both be able to go on, so the next is whole."""
        self._want_whole = True
