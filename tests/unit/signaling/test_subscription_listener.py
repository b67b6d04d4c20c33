"""A subscription handing its events to a listener (``Subscription.listen``, what the hub's
forwarder and a customer's co-browse inbox use instead of a task each per idle socket): the
events already waiting first, then each as it is published, in order; its end said once
(lagged or closed); a listener that raises neither stops the room's other subscribers nor
its own next events."""

from __future__ import annotations

import asyncio

from signaling.bus import open_bus
from signaling.bus.base import Subscription


class Recorder:
    def __init__(self, fail_on: int | None = None):
        self.events: list[tuple[int, dict]] = []
        self.ended: list[bool] = []
        self.fail_on = fail_on

    def on_event(self, seq, event):
        if seq == self.fail_on:
            raise RuntimeError("listener bug")
        self.events.append((seq, event))

    def on_end(self, lagged):
        self.ended.append(lagged)


async def test_waiting_events_first_then_each_as_published_and_the_end_once():
    async with open_bus("memory://") as bus:
        async with bus.subscribe("room") as subscription, bus.subscribe("room") as other:
            await bus.publish("room", {"n": 1})
            recorder = Recorder(fail_on=2)
            subscription.listen(recorder)
            assert recorder.events == [(1, {"n": 1})] and subscription.backlog == 0
            await bus.publish("room", {"n": 2})  # the listener raises: logged, nothing else stops
            await bus.publish("room", {"n": 3})
            assert recorder.events == [(1, {"n": 1}), (3, {"n": 3})]
            assert [seq for seq, _ in [await other.__anext__() for _ in range(3)]] == [1, 2, 3]
            await bus.close()
            assert recorder.ended == [False]  # the bus closed: no more events
        assert recorder.ended == [False]  # said once


async def test_a_lagging_subscription_tells_its_listener_to_resync():
    subscription = Subscription("room", buffer=1, last=0)
    subscription._offer(1, {"n": 1})
    subscription._offer(2, {"n": 2})  # over the buffer of 1: lagged before any listener
    recorder = Recorder()
    subscription.listen(recorder)
    assert recorder.ended == [True] and recorder.events == []
    subscription._offer(3, {"n": 3})
    assert recorder.events == []
    await asyncio.sleep(0)
