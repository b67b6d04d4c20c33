"""A whole wall sent only to the supervisors who need one. Pure.

The leader publishes a whole ``wall`` every minute (desktop/leader/wall_feed.py) so the room's
replay always holds one for a socket that joins; everyone already following the deltas would
get it too: 187 KB a minute to every supervisor with 1,000 agents, ten times that with 10,000.
Each process follows the room once (:class:`WallRelay`), and when a whole wall comes right after
the wall it holds, it works out the delta between them once; a socket that showed that wall gets
the delta (numbered as the whole one: the page can't tell), any other socket the whole wall.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signaling.protocol import wall_delta
from signaling.protocol.outbound import OutWallDelta

__all__ = ["Shown", "WallRelay"]

#: What one socket shows: the (term, wall_seq) of its wall, or None (nothing, or not known).
Shown = tuple[str, int] | None


class WallRelay:
    """The wall room as this process's supervisor sockets see it (one per process)."""

    def __init__(self) -> None:
        self._view = wall_delta.WallView()
        self._taken = 0  # the room's seq last taken into the view
        #: The delta standing in for the newest whole wall: ((term, wall_seq), message), if any.
        self._instead: tuple[tuple[str, int], dict[str, Any]] | None = None

    def seed(self, view: wall_delta.WallView, seq: int) -> None:
        """Start from a welcome's wall (the room's replay up to ``seq``) if it is newer than ours:
        a process's first supervisor would otherwise wait for the next whole wall."""
        if seq > self._taken and view.wall is not None:
            self._view.wall, self._view.term, self._view.wall_seq = view.wall, view.term, view.wall_seq
            self._taken, self._instead = seq, None

    def outgoing(self, shown: Shown, seq: int, event: Mapping[str, Any]) -> tuple[Mapping[str, Any], Shown]:
        """What to send a socket showing ``shown`` for the room's event ``seq``, and what it
        shows after it."""
        kind = event.get("type")
        if kind not in ("wall", "wall_delta"):
            return event, shown
        self._take(seq, event)
        at = (event["term"], event["wall_seq"])
        follows = shown == (at[0], at[1] - 1)
        if kind == "wall_delta":
            if shown is not None and shown[0] == at[0] and at[1] <= shown[1]:
                return event, shown  # already in its welcome: the page passes over it
            return event, at if follows else None  # not following: the page asks for a whole one
        if follows and self._instead is not None and self._instead[0] == at:
            return self._instead[1], at
        return event, at

    def _take(self, seq: int, event: Mapping[str, Any]) -> None:
        """Follow the room once, whichever socket's forwarder comes first."""
        if seq <= self._taken:
            return
        self._taken = seq
        before, before_at = self._view.wall, (self._view.term, self._view.wall_seq)
        if self._view.take(event) is not wall_delta.Taken.APPLIED:
            return
        self._instead = None
        at = (event["term"], event["wall_seq"])
        if event["type"] == "wall" and before is not None and before_at == (at[0], at[1] - 1):
            delta = wall_delta.diff(before, self._view.wall)
            if delta is not None:
                self._instead = (at, OutWallDelta(term=at[0], wall_seq=at[1], **delta).to_dict())
