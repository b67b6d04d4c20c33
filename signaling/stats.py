"""Figures a process keeps about itself for monitoring, cheap enough for the hot paths.

A :class:`Histogram` is a few bucket counts and a sum, updated in place; whoever exports it
(the desk's ``/metrics``) reads :meth:`Histogram.cumulative` when it is scraped. There is no
lock: every observer runs on the event loop's one thread. Nothing here knows Prometheus.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

__all__ = ["Histogram"]


class Histogram:
    """Observations counted into fixed buckets: ``bounds`` are the buckets' upper limits
    (increasing, in the unit of the values), and one more bucket holds what exceeds them."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]):
        bounds = tuple(float(b) for b in bounds)
        if not bounds or any(b >= c for b, c in zip(bounds, bounds[1:])):
            raise ValueError(f"bounds must be a non-empty increasing sequence, got {bounds!r}")
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bound's bucket (Prometheus's "le").
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(bound, observations <= bound)`` for every bound, then ``(inf, all of them)``."""
        running, out = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts):
            running += count
            out.append((bound, running))
        return out
