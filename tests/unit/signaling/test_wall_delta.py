"""The wall's deltas (pure): a delta applied to wall N is wall N+1, with walls built by the
leader's own ``wall_snapshot`` from a router that moves; a reader never applies a delta to a
wall it does not follow."""

from __future__ import annotations

import copy
import json

import hypothesis.strategies as st
from hypothesis import given, settings

from desktop.routing import CallbackRequest, QueueConfig, Router
from desktop.routing.wall import WaitingHistory, wall_snapshot
from signaling.protocol import wall_delta
from signaling.protocol.wall_delta import Taken, WallView

NAMES = {f"a{n}": f"Agent {n}" for n in range(5)}


class Floor:
    """A router and the wall the leader builds of it, one minute of history per call."""

    def __init__(self, *, points: int = 60) -> None:
        self.router = Router([QueueConfig("sales", frozenset({"sales"}), 20.0),
                              QueueConfig("support", frozenset({"support"}), 30.0)])
        self.history = WaitingHistory(points=points)
        self.days = {}

    def wall(self, now: float) -> dict:
        # Through JSON, as the bus carries it.
        return json.loads(json.dumps(wall_snapshot(
            self.router, now, day_stats=self.days, titles={}, names=NAMES,
            usernames={k: k.replace("a", "user") for k in NAMES}, history=self.history)))


def _roundtrip(old: dict, new: dict) -> dict:
    delta = wall_delta.diff(old, new)
    assert delta is not None
    before = copy.deepcopy(old)
    assert wall_delta.apply(old, delta) == new
    assert old == before  # the old wall is left as it was
    return delta


def test_a_delta_applied_to_a_wall_is_the_next_wall_as_the_floor_moves() -> None:
    floor = Floor()
    floor.router.agent_login("a3", ["sales"], 0.0)
    floor.router.agent_login("a1", ["sales", "support"], 0.0)
    walls = [floor.wall(10.0)]

    floor.router.set_available("a1", 11.0)  # one agent's state
    walls.append(floor.wall(12.0))
    delta = _roundtrip(walls[-2], walls[-1])
    assert [row["id"] for row in delta["agents"]] == ["a1"] and delta["agents_removed"] == []
    assert delta["agents"][0]["state"] == "available"
    # The queues she staffs changed their figures; only they are sent.
    assert {row["name"] for row in delta["queues"]} == {"sales", "support"}
    assert all(row["agents_available"] == 1 for row in delta["queues"])

    floor.router.agent_login("a0", ["support"], 13.0)  # added: lands in order of id
    walls.append(floor.wall(14.0))
    delta = _roundtrip(walls[-2], walls[-1])
    assert [row["id"] for row in walls[-1]["agents"]] == ["a0", "a1", "a3"]
    assert [row["id"] for row in delta["agents"]] == ["a0"]

    floor.router.agent_logout("a3", 15.0)  # logged out: off the wall
    walls.append(floor.wall(16.0))
    delta = _roundtrip(walls[-2], walls[-1])
    assert delta["agents_removed"] == ["a3"] and delta["agents"] == []

    for n in range(3):  # customers wait: waiting, longest wait, the history's point
        floor.router.add_callback(CallbackRequest(id=f"c{n}", queue="support"), 17.0 + n)
    walls.append(floor.wall(70.0))
    delta = _roundtrip(walls[-2], walls[-1])
    (support,) = [row for row in delta["queues"] if row["name"] == "support"]
    assert (support["waiting"], support["longest_wait"]) == (2, 52.0)  # the first was offered to a1
    assert delta["history"] == {"support": {"from": 0, "points": [[60, 2]]},
                                "sales": {"from": 0, "points": [[60, 0]]}}

    walls.append(floor.wall(75.0))  # nothing changed but the time
    delta = _roundtrip(walls[-2], walls[-1])
    assert delta["agents"] == [] and delta["agents_removed"] == [] and delta["history"] == {}
    assert [row["name"] for row in delta["queues"]] == ["support"]  # its longest wait grows

    floor.router.add_queue(QueueConfig("billing", frozenset({"billing"}), 20.0))  # a queue added
    walls.append(floor.wall(80.0))
    delta = _roundtrip(walls[-2], walls[-1])
    assert [row["name"] for row in delta["queues"]] == ["support", "billing"]
    assert [row["name"] for row in walls[-1]["queues"]] == ["sales", "support", "billing"]


def test_the_history_drops_its_oldest_minute_and_changes_its_newest() -> None:
    floor = Floor(points=3)
    floor.router.add_callback(CallbackRequest(id="c0", queue="sales"), 0.0)
    walls = [floor.wall(t) for t in (30.0, 90.0, 150.0)]
    floor.router.add_callback(CallbackRequest(id="c1", queue="sales"), 160.0)
    walls.append(floor.wall(170.0))  # the same minute, a higher peak: replaced
    delta = _roundtrip(walls[-2], walls[-1])
    assert delta["history"]["sales"] == {"from": 0, "points": [[120, 2]]}
    walls.append(floor.wall(200.0))  # a fourth minute: the first is dropped
    delta = _roundtrip(walls[-2], walls[-1])
    assert walls[-1]["history"]["sales"] == [[60, 1], [120, 2], [180, 2]]
    assert delta["history"]["sales"] == {"from": 60, "points": [[180, 2]]}


def test_a_change_a_delta_cannot_say_gets_a_whole_wall() -> None:
    wall = {"at": 1.0, "queues": [{"name": "a"}, {"name": "b"}], "agents": [], "history": {"a": [[0, 1]]}}
    reordered = {**wall, "queues": [{"name": "b"}, {"name": "a"}]}
    assert wall_delta.diff(wall, reordered) is None
    unsorted = {**wall, "agents": [{"id": "y"}, {"id": "x"}]}
    assert wall_delta.diff(wall, unsorted) is None
    assert wall_delta.diff(wall, {**wall, "history": {}}) is None
    assert wall_delta.diff(wall, {**wall, "history": {"a": []}}) is None


def test_one_agents_change_among_a_thousand_weighs_a_few_hundred_bytes() -> None:
    router = Router([QueueConfig(f"q{n}", frozenset({f"q{n}"}), 20.0) for n in range(4)])
    for n in range(1000):
        router.agent_login(f"agent-{n:04d}", [f"q{n % 4}", f"q{(n + 1) % 4}"], float(n))
    history = WaitingHistory()

    def wall(now):
        return wall_snapshot(router, now, day_stats={}, titles={}, names={}, usernames={}, history=history)

    before = wall(2000.0)
    router.set_available("agent-0500", 2000.5)
    after = wall(2001.0)
    whole, delta = json.dumps(after), json.dumps(wall_delta.diff(before, after))
    assert len(whole) > 150_000
    assert len(delta) < 5_000, len(delta)  # the target: <= 5 KB per agent state change


# -- any two walls: a delta is exact or there is none -------------------------------------------

_ids = st.sampled_from([f"a{n}" for n in range(6)])
_row = st.fixed_dictionaries({"state": st.sampled_from(["available", "away", "busy"]),
                              "since": st.integers(0, 5)})
_series = st.lists(st.tuples(st.integers(0, 8), st.integers(0, 3)), max_size=5).map(
    lambda points: [[at * 60, n] for at, n in sorted(dict(points).items())])


@st.composite
def _walls(draw):
    agents = draw(st.dictionaries(_ids, _row, max_size=6))
    queues = draw(st.lists(st.sampled_from("pqrs"), unique=True, max_size=4))
    return {"at": draw(st.integers(0, 100)),
            "queues": [{"name": q, "waiting": draw(st.integers(0, 2))} for q in queues],
            "agents": [{"id": agent_id, **row} for agent_id, row in sorted(agents.items())],
            "history": draw(st.dictionaries(st.sampled_from("pqrs"), _series, max_size=3))}


@settings(max_examples=300, deadline=None)
@given(_walls(), _walls())
def test_any_delta_leads_exactly_to_the_next_wall(old, new) -> None:
    delta = wall_delta.diff(old, new)
    if delta is not None:
        assert wall_delta.apply(old, delta) == new


# -- a reader follows one stream ---------------------------------------------------------------

WALL = {"at": 1.0, "queues": [], "agents": [{"id": "a1", "state": "away"}], "history": {}}


def _delta(seq: int, state: str, *, term: str = "t1") -> dict:
    return {"type": "wall_delta", "term": term, "wall_seq": seq, "at": 1.0 + seq,
            "agents": [{"id": "a1", "state": state}], "agents_removed": [], "queues": [],
            "queues_removed": [], "history": {}}


def test_a_reader_applies_only_the_delta_that_follows_its_wall() -> None:
    view = WallView()
    assert view.take(_delta(2, "available")) is Taken.GAP  # nothing to apply it to
    assert view.take({"type": "welcome", "term": None, "wall_seq": None, **WALL}) is Taken.GAP
    assert view.take({"type": "wall", "term": "t1", "wall_seq": 1, **WALL}) is Taken.APPLIED
    assert view.take(_delta(2, "available")) is Taken.APPLIED
    assert view.wall["agents"] == [{"id": "a1", "state": "available"}] and view.wall["at"] == 3.0
    assert view.take(_delta(2, "busy")) is Taken.STALE  # a replay overlapping what was shown
    assert view.take(_delta(4, "busy")) is Taken.GAP  # 3 was lost
    assert view.take(_delta(5, "busy")) is Taken.GAP  # ...and nothing after it applies
    assert view.take(_delta(3, "busy", term="t2")) is Taken.GAP  # another leader's
    assert view.wall["agents"] == [{"id": "a1", "state": "available"}]  # never a wrong wall
    assert view.take({"type": "wall", "term": "t2", "wall_seq": 7, **WALL}) is Taken.APPLIED
    assert view.take(_delta(8, "busy", term="t2")) is Taken.APPLIED
    assert (view.term, view.wall_seq, view.wall["agents"][0]["state"]) == ("t2", 8, "busy")


def test_a_joiner_starts_from_the_newest_whole_wall_in_the_replay() -> None:
    voice = {"type": "voice_state", "call": {}}
    events = list(enumerate([
        {"type": "wall", "term": "t1", "wall_seq": 1, **WALL}, _delta(2, "available"), voice,
        {"type": "wall", "term": "t1", "wall_seq": 3, **WALL}, voice, _delta(4, "busy"), _delta(5, "away"),
    ], start=1))
    view, complete = wall_delta.latest(events)
    assert complete and (view.term, view.wall_seq, view.wall["agents"][0]["state"]) == ("t1", 5, "away")
    # A delta lost in between: the wall shown stops before it, and the leader is asked.
    view, complete = wall_delta.latest(events[:5] + events[6:])
    assert not complete and (view.wall_seq, view.wall["agents"][0]["state"]) == (3, "away")
    # No whole wall in the replay (it left the window): nothing to start from.
    view, complete = wall_delta.latest(events[4:])
    assert not complete and view.wall is None
