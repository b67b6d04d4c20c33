"""RedisBus: the bus shared by many processes through one Redis (``redis://``).

Keys, all under ``{namespace}:`` (one Redis can serve several deployments or test runs)::

    seq:{room}        INCR counter of the room            expires after ``ttl`` idle
    replay:{room}     ZSET score=seq member="seq|json"     last ``replay_window`` events
    room:{room}       pub/sub channel, messages "seq|json"
    router:inbox      LIST of router commands (LPUSH, BRPOP)
    lease:{name}      the holder's owner id, PX lease      lease:{name}:epoch  INCR, no expiry
    hit:{key}         ZSET of hit times (sliding window)
    kept:{key}        a remembered value (SET NX), PX ttl

Three connections per process: commands (pooled), the pub/sub reader (``RedisFanout``) and
blocking BRPOP for the router inbox (so it never holds up a publish). Payloads are JSON
bytes and are decoded by msgspec straight from bytes, so the clients keep
``decode_responses=False``.

Delivery: a publish is one Lua script, hence atomic and in seq order for every process.
If a connection fails ambiguously during ``publish`` redis-py may retry it: an event can then
be published twice under two seqs (commands carry ids for this reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from signaling.bus import scripts
from signaling.bus.base import (
    DEFAULT_BUFFER, EPOCH_MEMORY, Bus, BusStats, Subscription, decode_event, encode_event, window_size,
)
from signaling.bus.errors import BusUnavailable
from signaling.bus.fanout import RedisFanout, parse_message
from signaling.bus.tasks import cancels_kept

__all__ = ["RedisBus"]

log = logging.getLogger("signaling.bus")

#: Router commands kept while no leader consumes them; the oldest are dropped beyond this.
INBOX_LIMIT = 10_000
#: BRPOP timeout, seconds: bounds how long closing the bus waits for an inbox reader.
INBOX_POLL = 1.0


@contextlib.contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """Around every Redis call: an outage raised as BusUnavailable, and a cancel that redis-py
    lost raised again (signaling/bus/tasks.py ``cancels_kept``)."""
    with cancels_kept():
        try:
            yield
        except (RedisError, OSError, TimeoutError) as exc:
            if isinstance(exc, aioredis.ResponseError):
                raise  # a bug (bad script, wrong type), not an outage: let it show
            raise BusUnavailable(f"Redis unavailable while {what}: {exc}") from exc


def _glob_escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


class RedisBus(Bus):
    """Bus over Redis, for many processes.

    ``replay_window``: events kept per room. ``ttl``: seconds an idle room's counter and
    window survive. ``timeout``: seconds to wait for Redis on connect, commands and
    subscription confirmations before raising BusUnavailable. ``client_name``: prefix of this
    process's connection names (``CLIENT LIST``); the pub/sub one is ``{client_name}:pubsub``.
    ``max_connections``: size of the command pool (callers beyond it wait for a connection).
    """

    def __init__(self, url: str, *, replay_window: int = 500, namespace: str = "otodesk",
                 ttl: int = 24 * 3600, timeout: float = 10.0, client_name: str | None = None,
                 max_connections: int = 50):
        if replay_window < 0:
            raise ValueError(f"replay_window must be >= 0, got {replay_window}")
        self.url = url
        self.replay_window = replay_window
        self.namespace = namespace
        self.ttl = ttl
        self.timeout = timeout
        self.client_name = client_name or f"{namespace}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stats = BusStats()
        self._ns = namespace + ":"
        self._leaderships = set()
        self._closed = False
        common: dict[str, Any] = {"socket_connect_timeout": timeout, "socket_keepalive": True}
        # A blocking pool: a burst of concurrent publishes queues for a connection (up to
        # ``timeout``) instead of failing with "Too many connections".
        self._redis = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout, socket_timeout=timeout,
            client_name=self.client_name, **common))
        self._blocking = aioredis.Redis.from_url(url, client_name=f"{self.client_name}:inbox", **common)
        self.fanout = RedisFanout(
            # No retries: a dropped pub/sub connection must reach the supervisor, which
            # replays; a silent reconnect inside redis-py would lose messages.
            aioredis.Redis.from_url(url, client_name=f"{self.client_name}:pubsub",
                                    retry=Retry(NoBackoff(), 0), **common),
            channel_prefix=self._ns + "room:", window=self._window, timeout=timeout, stats=self.stats)
        self._publish = self._redis.register_script(scripts.PUBLISH_EVENT)
        self._replay = self._redis.register_script(scripts.REPLAY)
        self._hit = self._redis.register_script(scripts.HIT)
        self._take = self._redis.register_script(scripts.TAKE)
        self._acquire = self._redis.register_script(scripts.LEASE_ACQUIRE)
        self._renew = self._redis.register_script(scripts.LEASE_RENEW)
        self._release = self._redis.register_script(scripts.LEASE_RELEASE)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._ns}{kind}:{name}"

    async def start(self) -> None:
        with _unavailable(f"connecting to {self.url}"):
            await self._redis.ping()
        self.fanout.start()

    async def publish(self, room: str, event: dict[str, Any], *, keep: int | None = None) -> int:
        started = time.perf_counter()
        self._check_open()
        payload = encode_event(event)
        window = window_size(self.replay_window, keep)
        with _unavailable(f'publishing to room "{room}"'):
            seq = await self._publish(
                keys=[self._key("seq", room), self._key("replay", room)],
                args=[payload, window, self.ttl, self._key("room", room)])
        self.stats.publish.observe(time.perf_counter() - started)
        return seq

    def subscribe(self, room: str, *, buffer: int = DEFAULT_BUFFER) -> contextlib.AbstractAsyncContextManager[Subscription]:
        self._check_open()
        return self.fanout.subscribe(room, buffer=buffer)

    def backlog(self) -> int:
        return self.fanout.backlog()

    async def _window(self, room: str, after: int | None) -> tuple[int, list[tuple[int, Any]]]:
        if after is None:
            return await self.last_seq(room), []
        with _unavailable(f'replaying room "{room}"'):
            current, members = await self._replay(
                keys=[self._key("seq", room), self._key("replay", room)], args=[after])
        return int(current), [parse_message(member) for member in members]

    async def replay(self, room: str, after_seq: int) -> list[tuple[int, Any]] | None:
        self._check_open()
        if after_seq < 0:
            raise ValueError(f"after_seq must be >= 0, got {after_seq}")
        current, events = await self._window(room, after_seq)
        if after_seq >= current:
            return [] if after_seq == current else None
        if not events or events[0][0] > after_seq + 1:
            return None
        return events

    async def last_seq(self, room: str) -> int:
        self._check_open()
        with _unavailable(f'reading the seq of room "{room}"'):
            return int(await self._redis.get(self._key("seq", room)) or 0)

    async def send_to_router(self, command: dict[str, Any]) -> None:
        self._check_open()
        payload = encode_event(command)
        key = self._ns + "router:inbox"
        with _unavailable("sending to the router"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.lpush(key, payload)
                pipe.ltrim(key, 0, INBOX_LIMIT - 1)
                length, _ = await pipe.execute()
        if length > INBOX_LIMIT:
            log.warning("router inbox full (%d): oldest commands dropped; is a leader running?", length)

    async def _drain_inbox(self) -> AsyncIterator[Any]:
        key = self._ns + "router:inbox"
        backoff = 0.2
        while not self._closed:
            try:
                # Short BRPOP timeout so closing is prompt. A command popped just as the
                # consumer is cancelled is lost: at-most-once, as documented.
                with cancels_kept():  # (no socket_timeout here, unless the URL sets one)
                    popped = await self._blocking.brpop([key], timeout=INBOX_POLL)
            except (RedisError, OSError) as exc:
                if self._closed:
                    return
                log.warning("router inbox: %s; retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            if popped is not None:
                yield decode_event(popped[1])

    async def hit(self, key: str, *, limit: int, window: float, now: float | None = None) -> bool:
        self._check_open()
        with _unavailable("rate limiting"):
            return bool(await self._hit(
                keys=[self._key("hit", key)],
                args=["" if now is None else repr(float(now)), repr(float(window)), limit,
                      secrets.token_hex(8)]))

    async def remember(self, key: str, value: dict[str, Any], *, ttl: float) -> dict[str, Any]:
        self._check_open()
        data = encode_event(value)
        with _unavailable("remembering"):
            if await self._redis.set(self._key("kept", key), data, nx=True, px=max(1, int(ttl * 1000))):
                return value
            kept = await self._redis.get(self._key("kept", key))
        return value if kept is None else decode_event(kept)

    async def recall(self, key: str) -> dict[str, Any] | None:
        self._check_open()
        with _unavailable("recalling"):
            kept = await self._redis.get(self._key("kept", key))
        return None if kept is None else decode_event(kept)

    async def take(self, key: str, *, limit: int, window: float, member: str | None = None,
                   now: float | None = None) -> float:
        self._check_open()
        with _unavailable("rate limiting"):
            wait = await self._take(
                keys=[self._key("slots", key)],
                args=["" if now is None else repr(float(now)), repr(float(window)), limit,
                      member or secrets.token_hex(8)])
        return float(wait)

    async def give_back(self, key: str, member: str) -> None:
        self._check_open()
        with _unavailable("rate limiting"):
            await self._redis.zrem(self._key("slots", key), member)

    async def erase(self, pattern_room_prefix: str) -> int:
        self._check_open()
        erased = 0
        with _unavailable("erasing rooms"):
            batch: list[bytes] = []
            async for key in self._redis.scan_iter(
                    match=self._key("replay", _glob_escape(pattern_room_prefix)) + "*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    erased += await self._redis.unlink(*batch)
                    batch.clear()
            if batch:
                erased += await self._redis.unlink(*batch)
        return erased

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_leaderships()
        await self.fanout.close()
        for client in (self._blocking, self._redis):
            with contextlib.suppress(Exception):
                await client.aclose()

    # -- leases --

    async def lease_acquire(self, name: str, owner: str, lease: float) -> tuple[int | None, float]:
        with _unavailable(f'acquiring leadership "{name}"'):
            result = int(await self._acquire(
                keys=[self._key("lease", name), self._key("lease", name) + ":epoch"],
                args=[owner, max(1, round(lease * 1000)), EPOCH_MEMORY * 1000]))
        return (result, 0.0) if result > 0 else (None, -result / 1000)

    async def lease_renew(self, name: str, owner: str, lease: float) -> bool:
        with _unavailable(f'renewing leadership "{name}"'):
            return bool(await self._renew(keys=[self._key("lease", name), self._key("lease", name) + ":epoch"],
                                          args=[owner, max(1, round(lease * 1000)), EPOCH_MEMORY * 1000]))

    async def lease_release(self, name: str, owner: str) -> None:
        with _unavailable(f'releasing leadership "{name}"'):
            await self._release(keys=[self._key("lease", name)], args=[owner])
