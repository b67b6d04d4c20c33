"""Leadership: one leased, exclusive role (e.g. "router") contended by many processes.

The lease protocol itself (acquire / renew / release, with an epoch that increases with
every new holder) is each backend's; this module is the state machine that drives it:
waiting -> held -> lost (or released on exit). Timings are seconds on the event loop's
monotonic clock.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from signaling.bus.errors import BusClosed, BusError
from signaling.bus.tasks import cancel_and_wait

__all__ = ["Leadership", "Leases"]

log = logging.getLogger("signaling.bus")


class Leases(Protocol):
    """What a Leadership needs of its bus: the lease calls of ``Bus`` (signaling/bus/base.py
    documents them). A protocol, so this module need not import the bus that creates it."""

    _closed: bool

    async def lease_acquire(self, name: str, owner: str, lease: float) -> tuple[int | None, float]: ...

    async def lease_renew(self, name: str, owner: str, lease: float) -> bool: ...

    async def lease_release(self, name: str, owner: str) -> None: ...


class Leadership:
    """A leased, exclusive role (e.g. "router") contended by many processes.

    Obtained from ``Bus.leadership``. Poll-free for the holder: ``await acquired()`` then run
    until ``lost`` is set. Once lost, the object is spent: leave the ``async with`` and enter
    a new one to contend again. ``epoch`` increases with every new holder: write it with
    every decision so a stale leader's late writes can be rejected (fencing).
    """

    def __init__(self, bus: Leases, name: str, owner: str, *, lease: float):
        if lease <= 0:
            raise ValueError(f"lease must be positive seconds, got {lease}")
        self.name = name
        self.owner = owner
        self.lease = lease
        self.epoch = 0
        self.lost = asyncio.Event()
        self._bus = bus
        self._held = False
        self._acquired = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        """True while this contender holds an unexpired lease."""
        return self._held

    async def acquired(self) -> int:
        """Wait (no timeout: wrap it in ``asyncio.timeout`` if needed) until the lease is
        held; return the epoch. Returns at once if it was acquired, even if since lost.
        Raises BusClosed if the bus closes first."""
        await self._acquired.wait()
        if not self.epoch:
            raise BusClosed(f'Bus closed before leadership "{self.name}" was acquired.')
        return self.epoch

    def _start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"leadership:{self.name}:{self.owner}")

    async def _stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        if self._held:
            self._held = False
            try:
                async with asyncio.timeout(self.lease):
                    await self._bus.lease_release(self.name, self.owner)
            except (BusError, TimeoutError) as exc:
                # The lease will expire by itself; the next holder just waits longer.
                log.warning("could not release leadership %r: %s", self.name, exc)

    def _lose(self, why: str) -> None:
        if self._held:
            log.warning("leadership %r (epoch %d) lost: %s", self.name, self.epoch, why)
        self._held = False
        self.lost.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.lease / 3
        # Acquire: retry until free. The backend says how long the current lease has left,
        # so a crashed holder is replaced right after its lease expires, not a poll later.
        while True:
            if self._bus._closed:
                return
            started = loop.time()
            try:
                epoch, retry_after = await self._bus.lease_acquire(self.name, self.owner, self.lease)
            except BusError as exc:
                log.warning("leadership %r: acquire failed: %s", self.name, exc)
                epoch, retry_after = None, interval
            if epoch is not None:
                break
            await asyncio.sleep(min(max(retry_after, 0.01), interval))
        self.epoch, self._held = epoch, True
        self._acquired.set()
        # Hold: renew every lease/3. The lease counts from when the last successful renewal
        # was *sent* (conservative); past that deadline another process may hold it.
        renewed_at = started
        while True:
            await asyncio.sleep(interval)
            if self._bus._closed:
                self._lose("bus closed")
                return
            deadline = renewed_at + self.lease
            while True:
                sent = loop.time()
                if sent >= deadline:
                    self._lose("lease expired before it could be renewed")
                    return
                try:
                    async with asyncio.timeout(deadline - sent):
                        ok = await self._bus.lease_renew(self.name, self.owner, self.lease)
                except (BusError, TimeoutError) as exc:
                    log.warning("leadership %r: renewal failed: %s", self.name, exc)
                    await asyncio.sleep(min(interval / 3, max(deadline - loop.time(), 0)))
                    continue
                if not ok:
                    self._lose("another process holds the lease")
                    return
                renewed_at = sent
                break
