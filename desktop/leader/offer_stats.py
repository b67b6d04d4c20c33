"""What monitoring reads of the leader's offers: how many rang, how they ended, and how long a
customer's ``call_me`` took to ring an agent when one was free.

Kept by the :class:`~desktop.leader.service.RoutingService` for the process's life (counters
never go back when leadership moves); fed each routing event once it has been announced.
"""

from __future__ import annotations

import collections

from desktop.routing.events import OfferEnded, OfferMade
from signaling.stats import Histogram

__all__ = ["OfferStats", "LATENCY_BUCKETS"]

#: Upper bounds (seconds) of the latency buckets; one process measured p50 6 ms, p99 15 ms
#: with 1,000 agents (bench/README.md), two through Redis about twice that.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class OfferStats:
    """``made``: offers announced; ``ended``: outcome -> offers that ended so; ``latency``:
    seconds from a callback's creation (its ``call_me``, written by the customer's process) to
    its offer announced to the agent's room, for callbacks offered as they arrived. Offers made
    later (after a wait in the queue, a decline, a time-out) count in ``made`` only: their
    time is the queue's wait, which ``otodesk_queue_longest_wait_seconds`` already tells."""

    def __init__(self) -> None:
        self.made = 0
        self.ended: collections.Counter[str] = collections.Counter()
        self.latency = Histogram(LATENCY_BUCKETS)

    def announced(self, event, *, arrived_at: float | None, now: float) -> None:
        """``event`` was told its rooms at ``now``; ``arrived_at``: the creation time of the
        callback it concerns when it arrived with the command being applied, else None."""
        if isinstance(event, OfferMade):
            self.made += 1
            if arrived_at is not None:
                # Clocks of two processes: never a negative wait.
                self.latency.observe(max(0.0, now - arrived_at))
        elif isinstance(event, OfferEnded):
            self.ended[str(event.outcome)] += 1
