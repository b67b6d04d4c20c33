"""follow() (signaling/bus/follow.py) on the MemoryBus: each event reaches the follower, and a
follower that fell behind subscribes again and reads the state afresh instead of stopping."""

import asyncio

from signaling.bus import open_bus
from signaling.bus.base import DEFAULT_BUFFER
from signaling.bus.follow import follow


async def until(check, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_events_reach_the_follower_and_a_lag_resyncs_it():
    async with open_bus(None) as bus:
        events: list[dict] = []
        resyncs = []
        stalled = asyncio.Event()
        stalled.set()

        async def on_event(event: dict) -> None:
            await stalled.wait()
            events.append(event)

        async def resync() -> None:
            resyncs.append(len(events))

        task = asyncio.create_task(follow(bus, "room", resync=resync, on_event=on_event))
        try:
            await until(lambda: len(resyncs) == 1)
            await bus.publish("room", {"n": 1})
            await until(lambda: events == [{"n": 1}])

            stalled.clear()  # the follower is stuck while far more than its buffer is published
            for n in range(DEFAULT_BUFFER + 10):
                await bus.publish("room", {"n": n})
            stalled.set()
            await until(lambda: len(resyncs) == 2)  # lagged: subscribed again, read afresh
            await bus.publish("room", {"n": "after"})
            await until(lambda: events[-1] == {"n": "after"})
            assert not task.done()
        finally:
            task.cancel()
