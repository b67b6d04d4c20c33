"""The wall's figures from a router and a day's stats (pure)."""

from __future__ import annotations

import dataclasses

from desktop.routing import CallbackRequest, QueueConfig, Router
from desktop.routing.wall import WaitingHistory, wall_snapshot


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
