"""The catalogue each process holds: loaded at start, followed over the bus, never backwards,
never replaced by a version that does not compile."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from sqlalchemy import update

from desktop.leader.live_rules import LiveRules
from desktop.repository import Repository
from desktop.repository.rules import VERSIONS
from desktop.rooms import RULES_ROOM
from desktop.rules import Action
from signaling.bus import open_bus

T0 = 1_800_000_000.0


async def publish(repo: Repository, title: str) -> int:
    await repo.save_rule_action(Action(id="a", kind="service", title=title), by="pat", now=T0)
    return await repo.publish_rules(by="pat", now=T0)


async def eventually(check, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not true in time"
        await asyncio.sleep(0.01)


async def test_follows_the_room_and_never_goes_back(repo: Repository) -> None:
    async with open_bus(None) as bus:
        await publish(repo, "one")
        live = LiveRules(repo, bus)
        task = asyncio.create_task(live.run())
        try:
            await eventually(lambda: live.current().version == 1)
            two = await publish(repo, "two")
            await bus.publish(RULES_ROOM, {"type": "rules_published", "version": two})
            await eventually(lambda: live.current().version == 2)
            assert live.current().actions[0].action.title == "two"
            await bus.publish(RULES_ROOM, {"type": "rules_published", "version": 1})  # late, out of order
            await bus.publish(RULES_ROOM, {"type": "something else"})
            await asyncio.sleep(0.1)
            assert live.current().version == 2
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_a_version_that_does_not_compile_leaves_the_one_held(repo: Repository) -> None:
    async with open_bus(None) as bus:
        live = LiveRules(repo, bus)
        assert live.current().version == 0 and len(live.current()) == 0
        await live.load(await publish(repo, "good"))
        bad = await publish(repo, "bad")
        broken = msgspec.to_builtins(Action(id="a", kind="service", title="bad", eligibility="nope =="))
        await repo.database.write(lambda conn: conn.execute(
            update(VERSIONS).where(VERSIONS.c.version == bad).values(actions=[broken])))
        await live.announce(bad)
        assert live.current().version == 1 and live.failures == 1
