"""What monitoring reads of the leader's inbox: how long each command waited to be applied,
and how long applying it took, by command.

Kept by the :class:`~desktop.leader.service.RoutingService` for the process's life, beside
:class:`~desktop.leader.offer_stats.OfferStats`: an offer that rang late waited either in the
inbox (commands ahead of it) or in the work of its own command, and these two tell which.
"""

from __future__ import annotations

import collections

from signaling.stats import Histogram

__all__ = ["CommandStats", "COMMAND_BUCKETS"]

#: Upper bounds (seconds): a command applies in ~1-5 ms on PostgreSQL; a waiting inbox shows
#: in the tens of milliseconds.
COMMAND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class CommandStats:
    """``waited``: seconds from a command's sending (by its sender's clock) to the leader
    taking it up; ``took``: command name -> seconds applying it (database writes and the
    announcements included)."""

    def __init__(self) -> None:
        self.waited = Histogram(COMMAND_BUCKETS)
        self.took: dict[str, Histogram] = collections.defaultdict(lambda: Histogram(COMMAND_BUCKETS))

    def taken_up(self, sent_at: float, now: float) -> None:
        # Clocks of two processes: never a negative wait.
        self.waited.observe(max(0.0, now - sent_at))

    def applied(self, command: str, seconds: float) -> None:
        self.took[command].observe(seconds)
