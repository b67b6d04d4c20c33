"""Work done in the background, one piece after another for each key.

A call's ``voice_state`` events are published from tasks (the anchor's change
hooks are plain functions). Two tasks' publishes may reach Redis out of order:
each takes its own connection from the pool, and the first may wait for a new
one while the second finds one free. A room's latest event would then be an old
state (an agent leg "connecting" after it connected), and a page reloading onto
another process reads exactly that. :class:`InOrder` starts each piece for a
key only once the key's previous piece is done, whatever became of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["InOrder"]


class InOrder:
    def __init__(self) -> None:
        #: key -> the last task started for it (dropped once done, if still the last).
        self._last: dict[str, asyncio.Task] = {}

    def run(self, key: str, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """A task running ``coroutine`` once the key's earlier tasks are done."""
        previous = self._last.get(key)
        task = asyncio.get_running_loop().create_task(_after(previous, coroutine))
        self._last[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: str, done: asyncio.Task) -> None:
        if self._last.get(key) is done:
            del self._last[key]


async def _after(previous: asyncio.Task | None, coroutine: Coroutine[Any, Any, Any]) -> Any:
    try:
        if previous is not None:
            await asyncio.wait([previous])  # its failure or cancellation is its own
    except BaseException:
        coroutine.close()  # cancelled while waiting: never started, never awaited
        raise
    return await coroutine
