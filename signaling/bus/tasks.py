"""Task lifetime helpers shared by the bus's background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["awaiting", "cancel_and_wait", "cancels_kept"]

log = logging.getLogger("signaling.bus")


def awaiting(task: asyncio.Task[Any]) -> str:
    """Where ``task`` waits, each coroutine of its await chain outermost first (``file:line
    function > ...``): what a log needs to name a task that does not end. (``Task.get_stack``
    shows only the outermost coroutine.)"""
    where, coro = [], task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is None:
            where.append(repr(coro))  # a bare future, an async generator's asend...
            break
        where.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return " > ".join(where)


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


@contextlib.contextmanager
def cancels_kept() -> Iterator[None]:
    """Raise CancelledError on leaving if the task was cancelled inside and the cancel was lost.

    redis-py sends each command through ``asyncio.wait_for`` (on a client with a
    ``socket_timeout``, as RedisBus's command pool has). On Python 3.11 that returns the send's
    result when the task is cancelled in the loop turn or two after the send finished: the cancel
    is dropped and the caller carries on as if never cancelled. A task that is only ever cancelled
    once then never ends (a router cancelled so at a stop led on until the process was killed).

    A cancel still counted (``Task.cancelling()`` above what it was on entering) with no
    CancelledError coming out is such a lost one: raised again here, after the command's reply
    was read, so the connection goes back to the pool clean. An error in its place (redis-py
    turning the cancel into one) gives way to the CancelledError too. Cancels that are
    withdrawn (``asyncio.timeout`` expiring inside) do not count, nor does clean-up after a
    cancel already delivered (counted on entering). So a cancel the task asked of itself just
    before entering, not yet delivered, is not told apart if lost: a stop's cancel comes from
    another task while this one waits. No effect where nothing is lost (CPython gh-86296:
    Python 3.12's ``wait_for`` keeps the cancel; SQLAlchemy and asyncpg avoid it on 3.11).
    """
    task = asyncio.current_task()
    cancels = task.cancelling() if task is not None else 0
    try:
        yield
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if task is not None and task.cancelling() > cancels:
            raise asyncio.CancelledError() from exc
        raise
    if task is not None and task.cancelling() > cancels:
        raise asyncio.CancelledError()
