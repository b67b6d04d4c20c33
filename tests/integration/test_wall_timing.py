"""The wall follows the floor (issue 9, item 12): a change is on the wall within a second,
even right after a publish, and an agent who signs out leaves it at once. The leader is
driven by hand with its own clock (no waiting, no time measured): a repository, the
memory bus, and the leader's loop steps (``_apply_safely``, ``_due``)."""

from __future__ import annotations

import asyncio

from desktop.rooms import WALL_ROOM
from signaling.bus import open_bus
from signaling.protocol.wall_delta import Taken, WallView
from tests.helpers.leader import leader_by_hand

WALL_FLUSH = 1.0  # seconds: docs/protocol.md, "at most one a second"


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _walls(subscription, view: WallView) -> list[dict]:
    """The walls shown since the last call: each whole ``wall`` and each ``wall_delta`` applied."""
    walls = []
    while True:
        try:
            _, event = await asyncio.wait_for(anext(subscription), 0.05)
        except asyncio.TimeoutError:
            return walls
        if event.get("type") in ("wall", "wall_delta"):
            assert view.take(event) is Taken.APPLIED
            walls.append(view.wall)


def _agents(wall) -> dict[str, str]:
    return {agent["username"]: agent["state"] for agent in wall["agents"]}


async def test_a_change_right_after_a_publish_is_on_the_wall_within_a_second(repo):
    await repo.upsert_queue("sales", title="Sales", skills=["sales"], service_level_target=20)
    ann = await repo.add_agent("ann", "a long password", display_name="Ann", skills=["sales"])
    clock = Clock(1_000_000.0)
    async with open_bus(None) as bus, bus.subscribe(WALL_ROOM) as subscription:
        leader = await leader_by_hand(repo, bus, clock)
        view = WallView()
        await leader._apply_safely({"op": "agent_presence", "agent_id": ann.id, "socket": "p1:1",
                                    "present": True})
        await leader._due(clock.now)
        assert _agents((await _walls(subscription, view))[-1]) == {"ann": "away"}

        # Busy routing: a change 0.2 s after that wall...
        clock.now += 0.2
        await leader._apply_safely({"op": "set_state", "agent_id": ann.id, "state": "available"})
        await leader._due(clock.now)
        assert await _walls(subscription, view) == []  # at most one a second
        # ...is due within the second, not at the 5-second refresh.
        assert leader._seconds_to_next_deadline() <= WALL_FLUSH - 0.2 + 1e-6
        clock.now += leader._seconds_to_next_deadline()
        await leader._due(clock.now)
        assert _agents((await _walls(subscription, view))[-1]) == {"ann": "available"}

        # Away the same way.
        clock.now += 0.1
        await leader._apply_safely({"op": "set_state", "agent_id": ann.id, "state": "away", "reason": "break"})
        clock.now += leader._seconds_to_next_deadline()
        await leader._due(clock.now)
        assert _agents((await _walls(subscription, view))[-1]) == {"ann": "away"}

        # Signing out takes her off the wall at once, not after the desk's reconnect grace.
        await leader._apply_safely({"op": "agent_presence", "agent_id": ann.id, "socket": "p1:1",
                                    "present": False})
        await leader._apply_safely({"op": "signed_out", "agent_id": ann.id})
        clock.now += leader._seconds_to_next_deadline()
        assert leader._seconds_to_next_deadline() < leader.settings.agent_reconnect_grace
        await leader._due(clock.now)
        assert _agents((await _walls(subscription, view))[-1]) == {}


async def _kinds(subscription) -> list[str]:
    kinds = []
    while True:
        try:
            _, event = await asyncio.wait_for(anext(subscription), 0.05)
        except asyncio.TimeoutError:
            return kinds
        kinds.append(event.get("type"))


async def test_a_hundred_asking_for_a_whole_wall_get_one_a_second_not_one_each(repo):
    """Supervisors' sockets ask for a whole wall (a joiner found none, a page met a gap): asked a
    hundred times within a second, the leader publishes one (177 KB with 1,000 agents), then
    one more for those who asked after it, and deltas again after that."""
    await repo.upsert_queue("sales", title="Sales", skills=["sales"], service_level_target=20)
    clock = Clock(1_000_000.0)
    async with open_bus(None) as bus, bus.subscribe(WALL_ROOM) as subscription:
        leader = await leader_by_hand(repo, bus, clock)
        await leader._due(clock.now)
        assert await _kinds(subscription) == ["wall"]  # the term's first is whole
        clock.now += 2.0
        for _ in range(100):
            await leader._apply_safely({"op": "wall"})
            await leader._due(clock.now)
            clock.now += 0.005
        clock.now += leader._seconds_to_next_deadline()
        await leader._due(clock.now)
        assert await _kinds(subscription) == ["wall", "wall"]
        clock.now += leader._seconds_to_next_deadline()
        await leader._due(clock.now)
        assert await _kinds(subscription) == ["wall_delta"]
