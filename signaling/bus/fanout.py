"""RedisFanout: this process's one pub/sub connection, shared by all its subscriptions.

redis-py's asyncio PubSub does not recover from a dropped connection by itself, and a
silent reconnect would lose what was published meanwhile. So the reader task is supervised:
after any connection error it reconnects with backoff, resubscribes every room and, per
room, replays from the last seq each local subscription accepted (from the replay window).
Subscriptions drop seqs they already have, so nothing is lost or duplicated; events that
already left the window make the subscription lagged (it resyncs).

Every SUBSCRIBE sent pushes a *token* (the subscriptions it serves) on the room's FIFO; its
confirmation pops it. Only then, with the server known to be subscribed, does the reader
read the room's current seq (the new subscription's starting point) or replay what older
ones missed. The reader does this before reading the next message, so no message of the
room can slip between the two.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from signaling.bus.base import DEFAULT_BUFFER, BusStats, Subscription, decode_event
from signaling.bus.errors import BusUnavailable
from signaling.bus.tasks import cancel_and_wait

__all__ = ["RedisFanout", "parse_message"]

log = logging.getLogger("signaling.bus")

#: Reconnect backoff, seconds: first wait, and cap (doubling, with jitter).
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 5.0
#: Rooms one UNSUBSCRIBE names at most (a command of a few tens of KB).
UNSUBSCRIBE_BATCH = 1000
#: Seconds of silence before the reader PINGs; twice that without any reply = dead connection.
HEALTH_INTERVAL = 15.0

Window = Callable[[str, int | None], Awaitable[tuple[int, list[tuple[int, Any]]]]]


def parse_message(message: bytes) -> tuple[int, Any]:
    """``b"seq|json"`` (pub/sub message and replay member) -> (seq, event)."""
    seq, _, payload = message.partition(b"|")
    return int(seq), decode_event(payload)


class RedisFanout:
    """Refcounted per-room SUBSCRIBE on one connection, delivering to local subscriptions.

    ``client``: a Redis client for this connection only, without retries (errors must reach
    the supervisor). ``window(room, after)``: (room's current seq, events after ``after``;
    ``after=None`` asks for the seq only). ``timeout``: seconds ``subscribe`` waits for the
    server's confirmation before raising BusUnavailable. ``stats``: the bus's, counting
    subscriptions that lag.
    """

    def __init__(self, client: aioredis.Redis, *, channel_prefix: str, window: Window, timeout: float,
                 stats: BusStats | None = None):
        self._client = client
        self._prefix = channel_prefix
        self._window = window
        self._timeout = timeout
        self._stats = stats
        self._rooms: dict[str, set[Subscription]] = {}
        self._tokens: dict[str, collections.deque[list[Subscription]]] = {}
        self._leaving: dict[str, None] = {}  # rooms to UNSUBSCRIBE, in the order they were left
        self._flusher: asyncio.Task[None] | None = None  # sends them
        self._pubsub: aioredis.client.PubSub | None = None
        # Serialises commands on the connection and its replacement on reconnect.
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.reconnects = 0  # connections lost and re-established, for metrics and tests

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="bus-pubsub-reader")

    async def close(self) -> None:
        self._closed = True
        for task in (self._task, self._flusher):
            if task is not None:
                await cancel_and_wait(task)
        for subscriptions in self._rooms.values():
            for subscription in subscriptions:
                subscription._close()
        await self._client.aclose()

    @contextlib.asynccontextmanager
    async def subscribe(self, room: str, *, buffer: int = DEFAULT_BUFFER) -> AsyncIterator[Subscription]:
        # The starting point is set on confirmation.
        subscription = Subscription(room, buffer=buffer, stats=self._stats)
        self._rooms.setdefault(room, set()).add(subscription)
        try:
            # Always SUBSCRIBE, even when the room is already subscribed: the confirmation is
            # what tells us the server will deliver from now on.
            await self._send("SUBSCRIBE", room, token=[subscription])
            try:
                async with asyncio.timeout(self._timeout):
                    await asyncio.shield(subscription._ready)
            except TimeoutError:
                raise BusUnavailable(
                    f'Redis did not confirm the subscription to room "{room}" within '
                    f"{self._timeout} s") from None
            yield subscription
        finally:
            subscription._close()
            subscriptions = self._rooms.get(room)
            if subscriptions is not None:
                subscriptions.discard(subscription)
                if not subscriptions:
                    del self._rooms[room]
                    await self._unsubscribe(room)

    def backlog(self) -> int:
        """The most events one local subscription holds unread."""
        return max((s.backlog for subs in self._rooms.values() for s in subs), default=0)

    async def _unsubscribe(self, room: str) -> None:
        """UNSUBSCRIBE ``room``, in one command with every other room left meanwhile; returns
        once sent. Thousands of sockets closing at once (a process stopping) took one command
        and one turn of the lock each (8,000 rooms: 5-6 s, the loop passing the lock on)."""
        self._leaving[room] = None
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_leaving(), name="bus-unsubscribe")
        await asyncio.shield(self._flusher)

    async def _flush_leaving(self) -> None:
        while self._leaving:  # until none is left: whoever waits on this returns once its room went
            async with self._lock:
                # Not those subscribed again meanwhile (their SUBSCRIBE went or goes after).
                rooms = [room for room in self._leaving if room not in self._rooms]
                self._leaving.clear()
                for start in range(0, len(rooms), UNSUBSCRIBE_BATCH):
                    await self._command("UNSUBSCRIBE", *rooms[start:start + UNSUBSCRIBE_BATCH])

    async def _send(self, command: str, room: str, *, token: list[Subscription] | None = None) -> None:
        async with self._lock:
            if token is not None and self._connected():
                self._tokens.setdefault(room, collections.deque()).append(token)
            await self._command(command, room)

    def _connected(self) -> bool:
        pubsub = self._pubsub
        return pubsub is not None and pubsub.connection is not None and pubsub.connection.is_connected

    async def _command(self, command: str, *rooms: str) -> None:
        """Send ``command`` for ``rooms`` (the lock held); nothing while down (or not yet
        noticed down): the supervisor resubscribes every room, with every subscription in its
        token, once it reconnects."""
        if not rooms or not self._connected():
            return
        try:
            await self._pubsub.execute_command(command, *(self._prefix + room for room in rooms))
        except (RedisError, OSError) as exc:
            log.debug("pubsub %s %r failed (reader will reconnect): %s", command, rooms[:3], exc)

    async def _supervise(self) -> None:
        backoff = BACKOFF_FIRST
        connected_once = False
        while not self._closed:
            try:
                pubsub = await self._connect()
                if connected_once:
                    self.reconnects += 1
                    log.warning("bus pub/sub reconnected; resubscribed %d rooms", len(self._rooms))
                connected_once, backoff = True, BACKOFF_FIRST
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, BusUnavailable) as exc:
                log.warning("bus pub/sub connection lost: %s; reconnecting in %.1f s", exc, backoff)
            except Exception:  # a bug must not silently stop delivery for the whole process
                log.exception("bus pub/sub reader failed; reconnecting in %.1f s", backoff)
            finally:
                await self._drop_connection()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _connect(self) -> aioredis.client.PubSub:
        async with self._lock:
            pubsub = self._client.pubsub()
            await pubsub.connect()
            self._pubsub = pubsub
            # Confirmations of the old connection will never come: every subscription of
            # every room (waiting or not) rides on the resubscription's token.
            self._tokens = {room: collections.deque([list(subs)]) for room, subs in self._rooms.items()}
            if self._rooms:
                await pubsub.execute_command("SUBSCRIBE", *(self._prefix + room for room in self._rooms))
            return pubsub

    async def _drop_connection(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _read(self, pubsub: aioredis.client.PubSub) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        prefix = len(self._prefix)
        while True:
            message = await pubsub.get_message(timeout=HEALTH_INTERVAL)
            if message is None:
                if loop.time() - heard > 2 * HEALTH_INTERVAL:
                    raise aioredis.ConnectionError("no reply to PING: connection presumed dead")
                async with self._lock:
                    await pubsub.ping()
                continue
            heard = loop.time()
            kind = message["type"]
            if kind == "message":
                subscriptions = self._rooms.get(message["channel"][prefix:].decode())
                if subscriptions:
                    seq, event = parse_message(message["data"])
                    for subscription in tuple(subscriptions):
                        subscription._offer(seq, event)
            elif kind == "subscribe":
                await self._confirmed(message["channel"][prefix:].decode())

    async def _confirmed(self, room: str) -> None:
        tokens = self._tokens.get(room)
        token = tokens.popleft() if tokens else list(self._rooms.get(room, ()))
        live = self._rooms.get(room, set())
        token = [s for s in token if s in live]
        if not token:
            return
        known = [s._last for s in token if s._last is not None]
        current, events = await self._window(room, min(known) if known else None)
        for subscription in token:
            if subscription._last is None:
                subscription._last = current  # new: deliver what comes after this
            elif subscription._last > current:
                subscription._lag()  # the room's counter expired and restarted
            elif subscription._last < current:
                # Missed events while disconnected: replay them if the window still has them.
                if events and events[0][0] <= subscription._last + 1:
                    for seq, event in events:
                        subscription._offer(seq, event)
                else:
                    subscription._lag()
            if not subscription._ready.done():
                subscription._ready.set_result(None)
