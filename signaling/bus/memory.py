"""MemoryBus: the bus of a single process (``memory://``), the embedded default.

Same semantics as RedisBus, minus the network: numbering, replay window, bounded
subscriptions, a FIFO router inbox, leases with epochs and sliding-window rate limits, all
held in this process. Events still go through JSON so both backends hand out the same shapes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from signaling.bus.base import (
    DEFAULT_BUFFER, EPOCH_MEMORY, Bus, BusStats, Subscription, decode_event, encode_event, window_size,
)

__all__ = ["MemoryBus"]

log = logging.getLogger("signaling.bus")

#: Rooms idle this long (seconds) with no subscriber are forgotten, like Redis keys expiring.
ROOM_TTL = 24 * 3600.0
#: Router commands kept while no leader consumes them; the oldest are dropped beyond this.
INBOX_LIMIT = 10_000


@dataclass(slots=True)
class _Room:
    seq: int = 0
    window: collections.deque[tuple[int, Any]] = field(default_factory=collections.deque)
    subscriptions: set[Subscription] = field(default_factory=set)
    touched: float = 0.0


_IMMUTABLE = (str, int, float, bool, type(None), msgspec.Raw)


def _flat(event: dict[str, Any]) -> bool:
    return all(isinstance(value, _IMMUTABLE) for value in event.values())


class MemoryBus(Bus):
    """One process, no I/O. ``replay_window``: events kept per room for ``replay``."""

    def __init__(self, *, replay_window: int = 500):
        if replay_window < 0:
            raise ValueError(f"replay_window must be >= 0, got {replay_window}")
        self.replay_window = replay_window
        self.stats = BusStats()
        self._rooms: dict[str, _Room] = {}
        self._inbox: collections.deque[Any] = collections.deque(maxlen=INBOX_LIMIT)
        self._inbox_ready = asyncio.Event()
        self._leases: dict[str, tuple[str, float]] = {}  # name -> (owner, expires at loop time)
        self._epochs: dict[str, tuple[int, float]] = {}  # name -> (epoch, last held at loop time)
        self._hits: dict[str, tuple[float, collections.deque[float]]] = {}
        self._kept: dict[str, tuple[Any, float]] = {}  # key -> (value, expires at, monotonic)
        self._slots: dict[str, tuple[float, dict[str, float]]] = {}  # key -> (window, member -> at)
        self._leaderships = set()
        self._closed = False
        self._swept = time.monotonic()

    def _room(self, room: str) -> _Room:
        state = self._rooms.get(room)
        if state is None:
            state = self._rooms[room] = _Room(window=collections.deque(maxlen=self.replay_window),
                                              touched=time.monotonic())
        return state

    async def publish(self, room: str, event: dict[str, Any], *, keep: int | None = None) -> int:
        started = time.perf_counter()
        self._check_open()
        window = window_size(self.replay_window, keep)
        payload = encode_event(event)  # only JSON goes on a bus, as with Redis
        # Subscribers get a copy the publisher can't change afterwards: a flat event (no
        # nested lists or dicts) needs only a shallow one, which saves decoding big frames.
        shared = dict(event) if _flat(event) else decode_event(payload)
        state = self._room(room)
        state.seq += 1
        state.touched = time.monotonic()
        state.window.append((state.seq, shared))
        while len(state.window) > window:
            state.window.popleft()
        for subscription in tuple(state.subscriptions):
            subscription._offer(state.seq, shared)
        self._maybe_sweep(state.touched)
        self.stats.publish.observe(time.perf_counter() - started)
        return state.seq

    @contextlib.asynccontextmanager
    async def subscribe(self, room: str, *, buffer: int = DEFAULT_BUFFER) -> AsyncIterator[Subscription]:
        self._check_open()
        state = self._room(room)
        subscription = Subscription(room, buffer=buffer, last=state.seq, stats=self.stats)
        state.subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            subscription._close()
            state.subscriptions.discard(subscription)

    def backlog(self) -> int:
        return max((s.backlog for room in self._rooms.values() for s in room.subscriptions), default=0)

    async def replay(self, room: str, after_seq: int) -> list[tuple[int, Any]] | None:
        self._check_open()
        if after_seq < 0:
            raise ValueError(f"after_seq must be >= 0, got {after_seq}")
        state = self._rooms.get(room)
        current = state.seq if state else 0
        if after_seq >= current:
            return [] if after_seq == current else None
        window = state.window if state else ()
        if not window or window[0][0] > after_seq + 1:
            return None
        return [(seq, event) for seq, event in window if seq > after_seq]

    async def last_seq(self, room: str) -> int:
        self._check_open()
        state = self._rooms.get(room)
        return state.seq if state else 0

    async def send_to_router(self, command: dict[str, Any]) -> None:
        self._check_open()
        command = decode_event(encode_event(command))
        if len(self._inbox) == INBOX_LIMIT:
            log.warning("router inbox full (%d): oldest command dropped; is a leader running?", INBOX_LIMIT)
        self._inbox.append(command)
        self._inbox_ready.set()

    async def _drain_inbox(self) -> AsyncIterator[Any]:
        while True:
            if self._inbox:
                yield self._inbox.popleft()
                continue
            if self._closed:
                return
            self._inbox_ready.clear()
            await self._inbox_ready.wait()

    async def hit(self, key: str, *, limit: int, window: float, now: float | None = None) -> bool:
        self._check_open()
        now = time.time() if now is None else now
        _, hits = self._hits.get(key) or (window, collections.deque())
        self._hits[key] = (window, hits)
        while hits and hits[0] <= now - window:
            hits.popleft()
        hits.append(now)
        # Only the newest limit+1 hits can change the answer: keep memory bounded under attack.
        while len(hits) > limit + 1:
            hits.popleft()
        return len(hits) <= limit

    async def remember(self, key: str, value: dict[str, Any], *, ttl: float) -> dict[str, Any]:
        self._check_open()
        kept = await self.recall(key)
        if kept is not None:
            return kept
        now = time.monotonic()
        # Forget the expired ones now and then: memory stays bounded by the ttl.
        if len(self._kept) % 256 == 0:
            self._kept = {k: v for k, v in self._kept.items() if v[1] > now}
        self._kept[key] = (encode_event(value), now + ttl)
        return value

    async def recall(self, key: str) -> dict[str, Any] | None:
        self._check_open()
        kept = self._kept.get(key)
        if kept is None or kept[1] <= time.monotonic():
            self._kept.pop(key, None)
            return None
        return decode_event(kept[0])

    async def take(self, key: str, *, limit: int, window: float, member: str | None = None,
                   now: float | None = None) -> float:
        self._check_open()
        now = time.time() if now is None else now
        _, taken = self._slots.get(key) or (window, {})
        self._slots[key] = (window, taken)
        for name in [n for n, at in taken.items() if at <= now - window]:
            del taken[name]
        if len(taken) < limit:
            taken[member or secrets.token_hex(8)] = now
            return 0.0
        oldest = sorted(taken.values())
        return max(0.001, oldest[len(oldest) - limit] + window - now)

    async def give_back(self, key: str, member: str) -> None:
        self._check_open()
        _, taken = self._slots.get(key) or (0.0, {})
        taken.pop(member, None)

    async def erase(self, pattern_room_prefix: str) -> int:
        self._check_open()
        erased = 0
        for name, state in self._rooms.items():
            if name.startswith(pattern_room_prefix) and state.window:
                state.window.clear()
                erased += 1
        return erased

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for state in self._rooms.values():
            for subscription in state.subscriptions:
                subscription._close()
        self._inbox_ready.set()
        self._close_leaderships()

    def _maybe_sweep(self, now: float) -> None:
        # Amortised: at most once a minute, forget idle rooms and stale rate-limit keys.
        if now - self._swept < 60:
            return
        self._swept = now
        for name in [n for n, s in self._rooms.items() if not s.subscriptions and now - s.touched > ROOM_TTL]:
            del self._rooms[name]
        wall = time.time()
        for key in [k for k, (w, h) in self._hits.items() if not h or h[-1] <= wall - w]:
            del self._hits[key]
        for key in [k for k, (w, t) in self._slots.items() if not t or max(t.values()) <= wall - w]:
            del self._slots[key]
        loop_now = asyncio.get_running_loop().time()  # the leases' clock
        for name in [n for n, (_owner, expires) in self._leases.items() if expires <= loop_now]:
            del self._leases[name]
        for name in [n for n, (_e, held) in self._epochs.items()
                     if n not in self._leases and loop_now - held > EPOCH_MEMORY]:
            del self._epochs[name]

    # -- leases: same protocol as Redis, on the event loop's clock --

    async def lease_acquire(self, name: str, owner: str, lease: float) -> tuple[int | None, float]:
        self._check_open()
        now = asyncio.get_running_loop().time()
        current = self._leases.get(name)
        if current is not None and current[1] > now:
            return None, current[1] - now
        self._leases[name] = (owner, now + lease)
        epoch = self._epochs.get(name, (0, now))[0] + 1
        self._epochs[name] = (epoch, now)
        return epoch, 0.0

    async def lease_renew(self, name: str, owner: str, lease: float) -> bool:
        self._check_open()
        now = asyncio.get_running_loop().time()
        current = self._leases.get(name)
        if current is None or current[0] != owner or current[1] <= now:
            return False
        self._leases[name] = (owner, now + lease)
        self._epochs[name] = (self._epochs[name][0], now)
        return True

    async def lease_release(self, name: str, owner: str) -> None:
        current = self._leases.get(name)
        if current is not None and current[0] == owner:
            del self._leases[name]
