"""The wall's figures from a router and a day's stats (pure)."""

from __future__ import annotations

import dataclasses

from desktop.routing import CallbackRequest, QueueConfig, Router
from desktop.routing.wall import AgentRows, WaitingHistory, wall_snapshot


@dataclasses.dataclass
class Day:
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    abandon_rate: float | None
    avg_speed_of_answer: float | None
    inbound: int = 0  # of those offered, phoned in (main's inbound calls added it to the wall)


def test_wall_shows_waiting_agents_and_the_days_figures() -> None:
    router = Router([QueueConfig("sales", frozenset({"sales"}), 20.0)])
    router.agent_login("a1", ["sales"], 0.0)
    for n in range(3):
        router.add_callback(CallbackRequest(id=f"c{n}", queue="sales"), 10.0 + n)
    history = WaitingHistory()
    wall = wall_snapshot(router, 70.0, day_stats={"sales": Day(5, 2, 1, 0.4, 0.2, 12.5, inbound=2)},
                         titles={"sales": "Sales"}, names={"a1": "Ann"}, usernames={"a1": "ann"},
                         history=history)
    (sales,) = wall["queues"]
    assert (sales["title"], sales["waiting"], sales["longest_wait"]) == ("Sales", 3, 60.0)
    assert (sales["offered"], sales["answered"], sales["abandoned"]) == (5, 2, 1)
    assert sales["inbound"] == 2
    assert sales["service_level"] == 0.4 and sales["average_speed_of_answer"] == 12.5
    assert sales["agents_staffed"] == 0  # logged in but away: not staffed
    assert [(a["username"], a["state"]) for a in wall["agents"]] == [("ann", "away")]
    assert wall["history"] == {"sales": [[60, 3]]}


def test_history_keeps_the_peak_of_each_minute_for_an_hour() -> None:
    history = WaitingHistory(points=2)
    history.note("q", 4, 60.0)
    history.note("q", 1, 90.0)
    history.note("q", 2, 130.0)
    history.note("q", 7, 200.0)
    assert history.as_dict() == {"q": [[120, 2], [180, 7]]}


def test_kept_rows_make_the_wall_a_fresh_build_makes_reusing_the_unchanged_ones() -> None:
    router = Router([QueueConfig("sales", frozenset({"sales"}), 20.0)])
    for n in range(5):
        router.agent_login(f"a{n}", ["sales"], 0.0)
    names, usernames = {f"a{n}": f"Agent {n}" for n in range(5)}, {f"a{n}": f"agent{n}" for n in range(5)}
    kept = AgentRows()

    def walls(now: float) -> tuple[dict, dict]:
        common = dict(day_stats={}, titles={}, names=names, usernames=usernames)
        return (wall_snapshot(router, now, history=WaitingHistory(), agent_rows=kept, **common),
                wall_snapshot(router, now, history=WaitingHistory(), **common))

    first, fresh = walls(1.0)
    assert first == fresh and [a["id"] for a in first["agents"]] == ["a0", "a1", "a2", "a3", "a4"]
    router.set_available("a3", 2.0)
    router.agent_logout("a1", 2.0)
    router.agent_login("a9", ["sales", "fr"], 2.0)  # new: sorted in, not appended
    names["a9"] = "Nine"
    second, fresh = walls(3.0)
    assert second == fresh
    assert [a["id"] for a in second["agents"]] == ["a0", "a2", "a3", "a4", "a9"]
    unchanged = {a["id"] for a in second["agents"]} - {"a3", "a9"}
    assert all(row is next(r for r in first["agents"] if r["id"] == row["id"])
               for row in second["agents"] if row["id"] in unchanged)
    assert next(r for r in first["agents"] if r["id"] == "a3")["state"] == "away"  # never changed in place

    names["a2"] = "Renamed"  # an admin's change: no change of state
    assert walls(4.0)[0] != walls(4.0)[1]
    kept.touch("a2")
    kept.touch("a1")  # offline: stays out
    third, fresh = walls(5.0)
    assert third == fresh and next(r for r in third["agents"] if r["id"] == "a2")["display_name"] == "Renamed"


def test_the_router_tells_which_agents_changed_since_a_mark() -> None:
    router = Router([QueueConfig("sales", frozenset({"sales"}), 20.0)])
    router.agent_login("a", ["sales"], 0.0)
    router.agent_login("b", ["sales"], 0.0)
    mark, changed = router.agents_changed_since(0)
    assert sorted(view.id for view in changed) == ["a", "b"]
    assert router.agents_changed_since(mark) == (mark, [])
    router.set_available("a", 1.0)
    router.agent_login("b", ["sales", "fr"], 1.0)  # new skills, same state
    router.set_away("a", "Break", 2.0)
    mark2, changed = router.agents_changed_since(mark)
    assert sorted((v.id, str(v.state), v.reason) for v in changed) == [("a", "away", "Break"), ("b", "away", "login")]
    assert mark2 > mark
