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

__all__ = ["AgentRows", "WaitingHistory", "WallSchedule", "wall_snapshot"]

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


class AgentRows:
    """The wall's agent rows, kept from one wall to the next: only the agents the router changed
    since the last wall (``Router.agents_changed_since``) and the ones :meth:`touch` (renamed)
    get a new row; the others are the same dict objects as in the last wall. With 10,000 agents
    that is a wall in a few ms instead of ~50 ms of rows rebuilt every second, and no 20,000
    short-lived objects a second for the collector (rows are never changed in place: a wall
    already built or sent keeps its own)."""

    def __init__(self) -> None:
        self._mark = 0
        self._rows: dict[str, dict[str, Any]] = {}  # not OFFLINE agents only
        self._order: list[str] = []                  # their ids, sorted
        self._touched: set[str] = set()

    def touch(self, agent_id: str) -> None:
        """Rebuild this agent's row in the next wall (its name or username changed)."""
        self._touched.add(agent_id)

    def rows(self, router: Router, names: Mapping[str, str], usernames: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every agent not OFFLINE, in order of id (a delta's rows then land where the next whole
        wall has them)."""
        self._mark, changed = router.agents_changed_since(self._mark)
        touched, self._touched = self._touched, set()
        if touched:
            seen = {view.id for view in changed}
            for agent_id in touched - seen:
                if agent_id in self._rows:
                    changed.append(router.agent(agent_id))
        reorder = False
        for view in changed:
            if view.state == AgentState.OFFLINE:
                reorder |= self._rows.pop(view.id, None) is not None
                continue
            reorder |= view.id not in self._rows
            self._rows[view.id] = {
                "id": view.id, "username": usernames.get(view.id, view.id),
                "display_name": names.get(view.id, view.id), "state": str(view.state),
                "reason": view.reason, "since": view.since, "skills": sorted(view.skills)}
        if reorder:
            self._order = sorted(self._rows)
        rows = self._rows
        return [rows[agent_id] for agent_id in self._order]


def wall_snapshot(router: Router, now: float, *, day_stats: Mapping[str, Any],
                  titles: Mapping[str, str], names: Mapping[str, str],
                  usernames: Mapping[str, str], history: WaitingHistory,
                  agent_rows: AgentRows | None = None) -> dict[str, Any]:
    """The ``wall`` message's figures (docs/protocol.md): queues in the router's order, agents in
    order of id; notes the waiting counts in ``history``. Pass the same ``agent_rows`` to every
    call on one router (the leader does) to rebuild only the rows of agents that changed."""
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
    agents = (agent_rows or AgentRows()).rows(router, names, usernames)
    return {"at": now, "queues": queues, "agents": agents, "history": history.as_dict()}
