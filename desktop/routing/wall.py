"""The supervisor wall: live queue and agent figures, built from the router and today's stats.

Pure: the routing service passes in the router, today's per-queue statistics
from the repository, the names it knows and ``now``.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

from desktop.routing import Router
from desktop.routing.events import AgentState

__all__ = ["WaitingHistory", "WallSchedule", "wall_snapshot"]

HISTORY_POINTS = 60  # one a minute: the wall's last hour
WALL_FLUSH = 1.0     # seconds: at most one wall a second...
WALL_REFRESH = 5.0   # ...and at least one every five (the waiting times move on their own)


class WallSchedule:
    """When the leader publishes the wall: ``WALL_FLUSH`` seconds after the last one once
    something changed, else ``WALL_REFRESH`` seconds after it. Pure: ``now`` is passed in."""

    def __init__(self) -> None:
        self.changed = True
        self.last = float("-inf")

    def change(self) -> None:
        self.changed = True

    def now_please(self) -> None:
        """Someone waits for a wall (a supervisor's first one): publish at the next pass."""
        self.changed = True
        self.last = float("-inf")

    def next_at(self) -> float:
        # Computed from the state each time: a change after a publish brings the next one
        # forward (a time fixed at the publish kept it 5 s away while routing was busy).
        return self.last + (WALL_FLUSH if self.changed else WALL_REFRESH)

    def due(self, now: float) -> bool:
        return now >= self.next_at()

    def published(self, now: float) -> None:
        self.changed = False
        self.last = now


class WaitingHistory:
    """Most customers waiting per queue per minute, for the last hour.

    Kept by the leader in memory: after a failover the chart starts afresh
    (the day's counters come from the database and survive).
    """

    def __init__(self, points: int = HISTORY_POINTS):
        self.points = points
        self._by_queue: dict[str, collections.OrderedDict[int, int]] = {}

    def note(self, queue: str, waiting: int, now: float) -> None:
        minute = int(now // 60)
        history = self._by_queue.setdefault(queue, collections.OrderedDict())
        history[minute] = max(history.get(minute, 0), waiting)
        while len(history) > self.points:
            history.popitem(last=False)

    def as_dict(self) -> dict[str, list[list[float]]]:
        return {queue: [[minute * 60, count] for minute, count in points.items()]
                for queue, points in self._by_queue.items()}


def wall_snapshot(router: Router, now: float, *, day_stats: Mapping[str, Any],
                  titles: Mapping[str, str], names: Mapping[str, str],
                  usernames: Mapping[str, str], history: WaitingHistory) -> dict[str, Any]:
    """The ``wall`` message's figures (docs/protocol.md): queues in the router's order, agents in
    order of id; notes the waiting counts in ``history``."""
    queues = []
    for config in router.queues():
        view = router.queue_view(config.name, now)
        stats = day_stats.get(config.name)
        history.note(config.name, view.waiting, now)
        queues.append({
            "name": config.name, "title": titles.get(config.name, config.name),
            "service_level_target": config.service_level_target,
            "waiting": view.waiting, "longest_wait": view.longest_wait,
            "estimated_wait": view.estimated_wait,
            "agents_staffed": view.agents_staffed, "agents_available": view.agents_available,
            "offered": stats.offered if stats else 0,
            "answered": stats.answered if stats else 0,
            "abandoned": stats.abandoned if stats else 0,
            "inbound": stats.inbound if stats else 0,
            "service_level": stats.service_level if stats else None,
            "abandon_rate": stats.abandon_rate if stats else None,
            "average_speed_of_answer": stats.avg_speed_of_answer if stats else None,
        })
    agents = [
        {"id": view.id, "username": usernames.get(view.id, view.id),
         "display_name": names.get(view.id, view.id), "state": str(view.state),
         "reason": view.reason, "since": view.since, "skills": sorted(view.skills)}
        # In order of id: a delta's rows then land where the next whole wall has them.
        for view in sorted(router.agents(), key=lambda view: view.id) if view.state != AgentState.OFFLINE
    ]
    return {"at": now, "queues": queues, "agents": agents, "history": history.as_dict()}
