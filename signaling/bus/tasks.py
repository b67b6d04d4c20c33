"""Task lifetime helpers shared by the bus's background tasks."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["cancel_and_wait"]

log = logging.getLogger("signaling.bus")


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has finished.

    Cancels again until it ends: on Python 3.11 ``asyncio.wait_for`` (used inside redis-py)
    swallows a cancellation that arrives as its inner operation completes.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with an error", task.get_name(), exc_info=task.exception())
