"""A customer's co-browse inbox (desktop/cobrowse/viewer_inbox.py): events handled one at a
time in the order published, by a task that exists only while some wait; an event whose
handling fails does not end the inbox; closed, it unsubscribes and handles nothing more."""

from __future__ import annotations

import asyncio

from desktop.cobrowse.viewer_inbox import ViewerInbox
from signaling.bus import open_bus


async def test_events_in_order_no_task_while_idle_and_nothing_after_close():
    handled: list[int] = []

    async def handle(owner, event):
        assert owner == "session"
        if event["n"] == 2:
            raise RuntimeError("a bad event")
        await asyncio.sleep(0.01 if event["n"] == 1 else 0)  # the next waits for this one
        handled.append(event["n"])

    async with open_bus("memory://") as bus:
        inbox = ViewerInbox(bus, "inbox:v1", handle, "session")
        await inbox.open()
        assert inbox._task is None
        for n in (1, 2, 3, 4):
            await bus.publish("inbox:v1", {"n": n})
        await inbox._task  # made by the first event, it handles all four, then goes
        assert handled == [1, 3, 4] and inbox._task is None and inbox._events is None
        await inbox.close()
        await bus.publish("inbox:v1", {"n": 5})
        await asyncio.sleep(0.01)
        assert handled == [1, 3, 4]
        assert not bus._rooms["inbox:v1"].subscriptions  # unsubscribed
