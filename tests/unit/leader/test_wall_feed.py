"""What the leader publishes to the wall room (pure): a whole wall first, then deltas numbered
in the term; whole again when asked, every minute, after a failed publish and when a delta
can't say the change. Every message passes its protocol struct's checks."""

from __future__ import annotations

import msgspec

from desktop.leader.wall_feed import WHOLE_EVERY, WallFeed
from signaling.protocol import wall_delta
from signaling.protocol.outbound import OutWall, OutWallDelta, checked


def _wall(at: float, state: str = "away", queues=("sales",)) -> dict:
    return {"at": at, "queues": [{"name": q, "waiting": 0} for q in queues],
            "agents": [{"id": "a1", "state": state, "reason": "", "since": 0.0}],
            "history": {"sales": [[0, 0]]}}


def _publish(feed: WallFeed, wall: dict, now: float) -> dict:
    message = feed.message(wall, now).to_dict()
    checked(OutWallDelta if message["type"] == "wall_delta" else OutWall, message)  # types and fields
    return msgspec.json.decode(msgspec.json.encode(message))  # as the bus carries it


def test_one_whole_wall_then_deltas_that_a_reader_follows() -> None:
    feed, reader = WallFeed("7.abc"), wall_delta.WallView()
    kinds = []
    for n, state in enumerate(["away", "available", "busy", "busy", "wrap_up"]):
        message = _publish(feed, _wall(100.0 + n, state), 100.0 + n)
        kinds.append((message["type"], message["wall_seq"]))
        assert message["term"] == "7.abc"
        assert reader.take(message) is wall_delta.Taken.APPLIED
        assert reader.wall == _wall(100.0 + n, state)
    assert kinds == [("wall", 1), ("wall_delta", 2), ("wall_delta", 3), ("wall_delta", 4), ("wall_delta", 5)]


def test_whole_again_when_asked_every_minute_after_a_failure_and_when_a_delta_cant_say_it() -> None:
    feed = WallFeed("1.x")
    assert _publish(feed, _wall(0.0), 0.0)["type"] == "wall"
    assert _publish(feed, _wall(1.0), 1.0)["type"] == "wall_delta"
    feed.want_whole()  # a supervisor's socket asked (wall_resync, or none in the replay)
    assert _publish(feed, _wall(2.0), 2.0)["type"] == "wall"
    assert _publish(feed, _wall(3.0), 3.0)["type"] == "wall_delta"
    assert _publish(feed, _wall(2.0 + WHOLE_EVERY), 2.0 + WHOLE_EVERY)["type"] == "wall"  # the minute's
    feed.failed()  # the bus refused the last one: some readers may have it, some not
    assert _publish(feed, _wall(63.0), 63.0)["type"] == "wall"
    assert _publish(feed, _wall(64.0, queues=("support", "sales")), 64.0)["type"] == "wall"  # reordered
    assert feed.wall_seq == 7
