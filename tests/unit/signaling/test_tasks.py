"""The bus's task helpers: a cancel lost inside a call raised again (``cancels_kept``), and where a
task waits, for a log (``awaiting``). Pure asyncio; the Redis case is in
tests/integration/test_bus.py and tests/integration/test_router_stop.py."""

from __future__ import annotations

import asyncio

import pytest

from signaling.bus.tasks import awaiting, cancels_kept


async def _swallowing() -> str:
    """What redis-py's send does on Python 3.11 when cancelled as it finishes: catch the
    CancelledError and return normally (as ``asyncio.wait_for`` did)."""
    try:
        await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        pass
    return "sent"


async def test_a_cancel_lost_inside_is_raised_again_on_leaving() -> None:
    async def call() -> str:
        with cancels_kept():
            return await _swallowing()

    task = asyncio.create_task(call())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_error_in_place_of_a_lost_cancel_gives_way_to_the_cancel() -> None:
    async def call() -> None:
        with cancels_kept():
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                raise ConnectionError("closed") from None

    task = asyncio.create_task(call())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_timeout_inside_is_not_a_cancel_and_clean_up_after_a_cancel_still_runs() -> None:
    with cancels_kept():  # the timeout withdraws its own cancel
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
    released = []

    async def leader() -> None:
        try:
            await asyncio.sleep(1)
        finally:  # cancelled already (counted on entering): a hand-over's call runs to its end
            with cancels_kept():
                released.append(await _swallowing())

    task = asyncio.create_task(leader())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert released == ["sent"]


async def test_awaiting_names_each_coroutine_a_task_waits_in() -> None:
    async def inner() -> None:
        await asyncio.Event().wait()

    async def outer() -> None:
        await inner()

    task = asyncio.create_task(outer())
    await asyncio.sleep(0)
    where = awaiting(task)
    task.cancel()
    assert [part.split()[-1] for part in where.split(" > ")[:3]] == ["outer", "inner", "wait"]
