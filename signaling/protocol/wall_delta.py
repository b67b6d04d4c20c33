"""The supervisors' wall as one snapshot, then deltas (docs/protocol.md, "Supervisor (wall)"). Pure.

A *wall* is the dict of a ``wall`` message's figures: ``at``; ``queues`` (rows keyed by ``name``,
in the server's order); ``agents`` (rows keyed by ``id``, in order of ``id``); ``history``
(``{queue: [[at, waiting], ...]}``, oldest first). :func:`diff` says what changed from one
wall to the next, as a ``wall_delta``'s fields (or None when a delta can't say it: send the
whole wall); :func:`apply` makes the next wall from the previous one and that delta, so
``apply(a, diff(a, b)) == b`` whenever ``diff`` answers.

A leader numbers its walls per term (``term``, ``wall_seq`` 1, 2, ...); :class:`WallView`
follows one stream of them and tells a delta it can apply from one it can't (:class:`Taken`):
a gap (a message lost, another leader, a late joiner) is answered by asking for a whole
wall, never by applying a delta to the wrong wall. ``static/supervisor/walldelta.js`` is the
same in the browser (tests/unit/signaling/test_wall_delta_js.py runs both on the same walls).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Taken", "WallView", "apply", "diff", "latest"]

Wall = dict[str, Any]
#: The fields a wall is made of (a message's ``type``, ``seq``, ``term``... are not).
FIELDS = ("at", "queues", "agents", "history")


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any] | None:
    """The delta from ``old`` to ``new``: ``at``; ``agents`` (rows new or changed, whole);
    ``agents_removed`` (ids); ``queues`` (rows new or changed, whole); ``queues_removed``
    (names); ``history`` (``{queue: {"from": at, "points": [...]}}`` for each series that
    changed). None when ``new`` can't be reached that way: its queues in another order than
    the old ones with the new appended, agents not in order of id, a history series gone."""
    old_queues = {row["name"]: row for row in old["queues"]}
    new_names = [row["name"] for row in new["queues"]]
    staying = set(new_names)
    if new_names != [n for n in old_queues if n in staying] + [n for n in new_names if n not in old_queues]:
        return None
    agent_ids = [row["id"] for row in new["agents"]]
    if agent_ids != sorted(agent_ids) or len(set(agent_ids)) != len(agent_ids):
        return None
    old_agents = {row["id"]: row for row in old["agents"]}
    kept = set(agent_ids)
    history = {}
    for queue, series in new["history"].items():
        before = old["history"].get(queue)
        if series != before:
            change = _series_change(before or [], series)
            if change is None:
                return None
            history[queue] = change
    if set(old["history"]) - set(new["history"]):
        return None
    return {
        "at": new["at"],
        # ``is not`` first: the leader reuses an unchanged agent's row (desktop/routing/wall.py
        # AgentRows), so with 10,000 agents most rows are the same object, not compared key by key.
        "agents": [row for row in new["agents"] if (old_row := old_agents.get(row["id"])) is not row and old_row != row],
        "agents_removed": [agent_id for agent_id in old_agents if agent_id not in kept],
        "queues": [row for row in new["queues"] if old_queues.get(row["name"]) != row],
        "queues_removed": [name for name in old_queues if name not in staying],
        "history": history,
    }


def apply(wall: Mapping[str, Any], delta: Mapping[str, Any]) -> Wall:
    """The wall ``delta`` makes of ``wall`` (which is left as it was)."""
    removed = set(delta["queues_removed"])
    changed = {row["name"]: row for row in delta["queues"]}
    queues = [changed.pop(row["name"], row) for row in wall["queues"] if row["name"] not in removed]
    queues += changed.values()  # new queues, in the delta's order
    if delta["agents"] or delta["agents_removed"]:
        by_id = {row["id"]: row for row in wall["agents"]}
        for agent_id in delta["agents_removed"]:
            by_id.pop(agent_id, None)
        by_id.update((row["id"], row) for row in delta["agents"])
        agents = [by_id[agent_id] for agent_id in sorted(by_id)]
    else:
        agents = list(wall["agents"])
    history = dict(wall["history"])
    for queue, change in delta["history"].items():
        history[queue] = _apply_series(history.get(queue, []), change)
    return {"at": delta["at"], "queues": queues, "agents": agents, "history": history}


def _apply_series(points: list, change: Mapping[str, Any]) -> list:
    """A queue's series after ``change``: the old points from ``from`` up to the first new one,
    then the new ones (a minute's point replaced, the next minute added, the oldest dropped)."""
    new = change["points"]
    cut = new[0][0] if new else float("inf")
    return [point for point in points if change["from"] <= point[0] < cut] + list(new)


def _series_change(old: list, new: list) -> dict[str, Any] | None:
    if not new:
        return None
    start = new[0][0]
    kept = [point for point in old if point[0] >= start]
    same = 0
    while same < min(len(kept), len(new)) and kept[same] == new[same]:
        same += 1
    change = {"from": start, "points": new[same:]}
    return change if _apply_series(old, change) == new else None


class Taken(enum.Enum):
    """What :meth:`WallView.take` did with a message."""

    APPLIED = "applied"
    #: Already shown (a delta this view has, or one of a replay that overlaps): nothing to do.
    STALE = "stale"
    #: A delta that does not follow the wall shown: ask for a whole one (``wall_resync``).
    GAP = "gap"


class WallView:
    """The wall one reader shows: its newest whole wall and the deltas since, in order."""

    def __init__(self) -> None:
        self.wall: Wall | None = None
        self.term: str | None = None
        self.wall_seq: int | None = None

    def take(self, message: Mapping[str, Any]) -> Taken:
        """Take a ``wall``, a ``wall_delta`` or a supervisor's ``welcome`` (one without ``term``
        holds no wall yet: a gap until a whole one comes)."""
        if message.get("type") == "wall_delta":
            if self.wall is None or message["term"] != self.term:
                return Taken.GAP
            if message["wall_seq"] <= self.wall_seq:
                return Taken.STALE
            if message["wall_seq"] != self.wall_seq + 1:
                return Taken.GAP
            self.wall, self.wall_seq = apply(self.wall, message), message["wall_seq"]
            return Taken.APPLIED
        if message.get("term") is None:
            return Taken.GAP
        # A whole wall is the truth whatever came before (a new leader's starts its term).
        self.wall = {name: message[name] for name in FIELDS}
        self.term, self.wall_seq = message["term"], message["wall_seq"]
        return Taken.APPLIED


def latest(events: Iterable[tuple[int, Mapping[str, Any]]]) -> tuple[WallView, bool]:
    """The wall a room's replayed events make (``(seq, event)``, oldest first; other events are
    passed over): the newest whole wall with the deltas after it. The flag is False when there
    is none, or a delta after it did not follow (ask the leader for a whole wall)."""
    events = [event for _seq, event in events if event.get("type") in ("wall", "wall_delta")]
    start = max((i for i, event in enumerate(events) if event["type"] == "wall"), default=None)
    view = WallView()
    if start is None:
        return view, False
    complete = True
    for event in events[start:]:
        complete = view.take(event) is not Taken.GAP and complete
    return view, complete
