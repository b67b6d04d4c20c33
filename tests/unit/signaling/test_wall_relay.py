"""The minutely whole wall reaches a socket that follows as the delta from the wall it shows, and
a socket that doesn't (joined without a wall, missed a delta) as the whole wall (pure:
desktop/sockets/wall_relay.py). What a reader makes of either is the same wall."""

from __future__ import annotations

import json

from desktop.sockets.wall_relay import WallRelay
from signaling.protocol.wall_delta import Taken, WallView
from tests.unit.signaling.test_wall_delta import WALL, _delta


def _whole(seq: int, state: str) -> dict:
    return {"type": "wall", "term": "t1", "wall_seq": seq,
            **{**WALL, "at": 1.0 + seq, "agents": [{"id": "a1", "state": state}]}}


def test_a_whole_wall_goes_as_a_delta_to_sockets_that_follow_and_whole_to_the_others() -> None:
    relay = WallRelay()
    room = list(enumerate([_whole(1, "away"), _delta(2, "available"), {"type": "voice_state", "call": {}},
                           _whole(3, "busy"), _delta(4, "away")], start=1))
    follower, newcomer = ("t1", 1), None  # one welcomed with wall 1; one with no wall yet
    follower_view, newcomer_view = WallView(), WallView()
    follower_view.take(_whole(1, "away"))
    relay.seed(follower_view, 1)  # the follower's welcome, from the room's replay up to seq 1
    sent_to_follower, sent_to_newcomer = [], []
    for seq, event in room[1:]:
        out, follower = relay.outgoing(follower, seq, event)
        sent_to_follower.append(out)
        out, newcomer = relay.outgoing(newcomer, seq, event)
        sent_to_newcomer.append(out)
    # The follower never gets the whole wall 3: its delta, numbered as it (the page can't tell).
    kinds = [m["type"] for m in sent_to_follower]
    assert kinds == ["wall_delta", "voice_state", "wall_delta", "wall_delta"]
    assert sent_to_follower[2]["wall_seq"] == 3 and follower == ("t1", 4)
    for message in sent_to_follower:
        if message["type"] == "wall_delta":
            assert follower_view.take(message) is Taken.APPLIED
    # The newcomer: the delta 2 it can't apply (its page asks for a whole one), then wall 3 whole.
    assert [m["type"] for m in sent_to_newcomer] == ["wall_delta", "voice_state", "wall", "wall_delta"]
    for message in sent_to_newcomer:
        if message["type"] in ("wall", "wall_delta"):
            newcomer_view.take(message)
    assert follower_view.wall == newcomer_view.wall and follower_view.wall["agents"] == [{"id": "a1", "state": "away"}]


def test_without_a_welcome_to_start_from_the_first_whole_wall_goes_whole() -> None:
    relay = WallRelay()
    out, shown = relay.outgoing(("t1", 1), 2, _delta(2, "available"))
    assert out["type"] == "wall_delta" and shown == ("t1", 2)
    out, shown = relay.outgoing(shown, 3, _whole(3, "busy"))  # the relay had no wall 2 to diff
    assert out["type"] == "wall" and shown == ("t1", 3)
    out, shown = relay.outgoing(shown, 4, _whole(4, "away"))  # from now on it has
    assert out["type"] == "wall_delta" and shown == ("t1", 4)


def test_a_socket_that_missed_a_delta_gets_the_whole_wall() -> None:
    relay = WallRelay()
    shown = ("t1", 1)
    relay.outgoing(("t1", 1), 1, _whole(1, "away"))  # the relay itself saw everything
    _out, other = relay.outgoing(("t1", 1), 2, _delta(2, "available"))
    assert other == ("t1", 2)
    # This socket's forwarder passed over seq 2 (it was in its catch-up): it shows 1, not 2.
    out, shown = relay.outgoing(shown, 3, _whole(3, "busy"))
    assert out["type"] == "wall" and shown == ("t1", 3)


def test_a_new_leaders_first_wall_and_a_wall_a_delta_cant_say_go_whole() -> None:
    relay = WallRelay()
    shown = ("t1", 1)
    relay.outgoing(shown, 1, _whole(1, "away"))
    out, shown = relay.outgoing(shown, 2, {**_whole(1, "busy"), "term": "t2"})  # another term
    assert out["type"] == "wall" and shown == ("t2", 1)
    reordered = {**_whole(2, "busy"), "term": "t2", "agents": [{"id": "b", "state": "busy"}, {"id": "a", "state": "away"}]}
    out, shown = relay.outgoing(shown, 3, reordered)  # agents out of order: diff can't say it
    assert out["type"] == "wall" and shown == ("t2", 2)


def test_with_a_thousand_agents_the_minutely_wall_costs_a_follower_a_few_hundred_bytes() -> None:
    agents = [{"id": f"a{n:04d}", "name": f"Agent {n}", "state": "available", "since": 1.0} for n in range(1000)]
    first = {"type": "wall", "term": "t1", "wall_seq": 1, "at": 1.0, "queues": [], "agents": agents, "history": {}}
    moved = [dict(row) for row in agents]
    moved[7]["state"] = "busy"
    minutely = {**first, "wall_seq": 2, "at": 61.0, "agents": moved}
    relay, view = WallRelay(), WallView()
    view.take(first)
    relay.seed(view, 1)
    out, _shown = relay.outgoing(("t1", 1), 2, minutely)
    assert out["type"] == "wall_delta" and out["agents"] == [moved[7]]
    assert len(json.dumps(out)) < 300 < 50_000 < len(json.dumps(minutely))
