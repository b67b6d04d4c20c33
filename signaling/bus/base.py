"""The bus interface, shared by every backend.

A bus carries three things between the processes of one deployment:

- **room events**: ``publish`` numbers each event per room (1, 2, 3...), keeps the last
  ``replay_window`` of them for ``replay`` and fans them out to every ``subscribe``-r;
- **router commands**: ``send_to_router`` from any process, ``router_inbox`` on the leader;
- **coordination**: a leased ``leadership`` with a fencing epoch, and ``hit`` rate limits.

Exceptions: see ``signaling.bus.errors`` (all derive from BusError).

Events go through JSON on every backend (msgspec.json), so a subscriber receives the same
shapes from ``memory://`` as from ``redis://`` (tuples come back as lists). The dicts handed
to subscribers are shared between them: treat them as read-only.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from typing import Any, Protocol

import msgspec

from signaling.bus.errors import BusClosed, EventNotSerialisable, SubscriptionLagged
from signaling.bus.leadership import Leadership
from signaling.stats import Histogram

__all__ = ["DEFAULT_BUFFER", "EPOCH_MEMORY", "Bus", "BusStats", "Subscription", "SubscriptionListener", "decode_event",
           "encode_event", "window_size"]

log = logging.getLogger(__name__)


#: Default bound of one subscription's buffer, in events.
DEFAULT_BUFFER = 1_000
EPOCH_MEMORY = 24 * 3600  # seconds a lease's epoch counter outlives its last holder


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def encode_event(event: dict[str, Any]) -> bytes:
    """JSON-encode an event or command; raise EventNotSerialisable if it can't be."""
    if not isinstance(event, dict):
        raise EventNotSerialisable(f"Events must be dicts, not {type(event).__name__}")
    try:
        return _encoder.encode(event)
    except (TypeError, ValueError, msgspec.EncodeError) as exc:
        raise EventNotSerialisable(f"Event is not JSON-serialisable: {exc}") from None


def decode_event(data: bytes | str) -> Any:
    return _decoder.decode(data)


#: Upper bounds (seconds) of the publish-time buckets: a memory publish takes microseconds,
#: a Redis one a round trip (~0.5 ms on one host).
PUBLISH_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)


class BusStats:
    """What monitoring reads of a bus (``Bus.stats``), counted in place as it works:
    ``publish``, the seconds each ``publish`` took (its caller waited that long); ``lagged``,
    the subscriptions that fell behind (SubscriptionLagged: their reader must resync)."""

    __slots__ = ("publish", "lagged")

    def __init__(self) -> None:
        self.publish = Histogram(PUBLISH_BUCKETS)
        self.lagged = 0


class Subscription:
    """An async iterator of ``(seq, event)`` for one room, in seq order, without duplicates.

    Created by ``Bus.subscribe``; iteration ends when the bus closes. Raises
    SubscriptionLagged when more than ``buffer`` events wait unread, or when events it should
    have had can no longer be replayed: the caller must resync.
    """

    # An idle socket holds one or two of these for its life (its room, the co-browse room): the
    # queue is made on the first event, and a reader waits on a bare future, not an Event (each
    # asyncio Event and deque is ~0.6 KiB, bench/idle_sockets.py --where).
    # A reader may instead hand it a listener (:meth:`listen`): each event is then passed on as it
    # is offered, with no queue, no waiting task and no future per subscription.
    __slots__ = ("room", "buffer", "_queue", "_waiter", "_last", "_lagged", "_closed", "_ready", "_stats",
                 "_listener")

    def __init__(self, room: str, *, buffer: int = DEFAULT_BUFFER, last: int | None = None,
                 stats: BusStats | None = None):
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, got {buffer}")
        self.room = room
        self.buffer = buffer
        self._queue: collections.deque[tuple[int, Any]] | None = None
        self._waiter: asyncio.Future[None] | None = None  # the reader's, while it waits
        # Highest seq accepted so far; None while the backend has not fixed the starting
        # point yet (offers are dropped until then: they predate the subscription).
        self._last = last
        self._lagged = False
        self._closed = False
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stats = stats  # its bus's, which counts it when it lags
        self._listener: SubscriptionListener | None = None

    @property
    def last_seq(self) -> int | None:
        """The highest seq this subscription has accepted (not necessarily read yet)."""
        return self._last

    @property
    def backlog(self) -> int:
        """Events accepted and not read yet: how far its reader is behind."""
        return len(self._queue) if self._queue else 0

    def _offer(self, seq: int, event: Any) -> None:
        """Queue one event; drops duplicates and marks the subscription lagged when full."""
        if self._last is None or seq <= self._last or self._lagged or self._closed:
            return
        if self._listener is not None:
            self._last = seq
            self._tell(self._listener.on_event, seq, event)
            return
        if self._queue is None:
            self._queue = collections.deque()
        elif len(self._queue) >= self.buffer:
            self._lag()
            return
        self._queue.append((seq, event))
        self._last = seq
        self._wake()

    def _lag(self) -> None:
        if not self._lagged and self._stats is not None:
            self._stats.lagged += 1
        # The backlog is useless to a subscriber that must resync anyway: free it now.
        self._lagged = True
        self._queue = None
        self._wake()
        self._end()

    def _close(self) -> None:
        self._closed = True
        self._wake()
        if not self._ready.done():
            self._ready.cancel()
        self._end()

    def listen(self, listener: SubscriptionListener) -> None:
        """Hand every event to ``listener`` from now on, those already waiting first, instead of
        iterating. It is called from whatever offers the events (a publish, the bus's reader):
        it must be quick and not block. ``on_end(lagged)`` is called once, when the
        subscription falls behind (``lagged``: the caller must resync) or its bus closes."""
        if self._listener is not None:
            raise RuntimeError("this subscription already has a listener")
        self._listener = listener
        waiting, self._queue = self._queue, None
        for seq, event in waiting or ():
            self._tell(listener.on_event, seq, event)
        if self._lagged or self._closed:
            self._end()

    def _end(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            self._tell(listener.on_end, self._lagged)

    def _tell(self, method: Any, *args: Any) -> None:
        try:
            method(*args)
        except Exception:  # one listener's bug must not stop the room's other subscribers
            log.exception("subscription listener failed in room %s", self.room)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> tuple[int, Any]:
        while True:
            if self._lagged:
                raise SubscriptionLagged(
                    f'Subscription to room "{self.room}" fell behind (buffer of {self.buffer} '
                    "events, or events past the replay window): resync from a snapshot")
            if self._queue:
                item = self._queue.popleft()
                if not self._queue:
                    self._queue = None  # most sockets wait far longer than they read
                return item
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None


class SubscriptionListener(Protocol):
    def on_event(self, seq: int, event: Any) -> None: ...

    def on_end(self, lagged: bool) -> None: ...


def window_size(replay_window: int, keep: int | None) -> int:
    """The replay window of one publish: the bus's, or ``keep`` when that is smaller."""
    if keep is None:
        return replay_window
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    return min(keep, replay_window)


class Bus(ABC):
    """The interface every backend implements; open one with ``open_bus(url)``.

    Rooms are free-form strings. ``publish`` assigns per-room sequence numbers that every
    process agrees on; ``subscribe`` delivers, in seq order and once each, every event
    published after it was entered; ``replay`` returns what a reconnecting client missed.
    """

    replay_window: int
    #: Publish times and lagged subscriptions, for /metrics (each backend makes its own).
    stats: BusStats

    async def start(self) -> None:
        """Connect; raise BusUnavailable if the backend can't be reached."""

    @abstractmethod
    async def publish(self, room: str, event: dict[str, Any], *, keep: int | None = None) -> int:
        """Number ``event`` (next seq of ``room``), keep it for replay and deliver it to every
        subscriber of the room in every process. Returns the seq.

        ``keep``: the room's replay window from now on, when smaller than ``replay_window``;
        rooms whose events are whole snapshots (the wall) need only the last few.

        Raises EventNotSerialisable, BusUnavailable, BusClosed.
        """

    @abstractmethod
    def subscribe(self, room: str, *, buffer: int = DEFAULT_BUFFER) -> AsyncContextManager[Subscription]:
        """``async with bus.subscribe(room) as sub: async for seq, event in sub: ...``

        The subscription is registered before the body runs: every event published after
        entering is delivered (events published concurrently with entering may or may not
        be). ``buffer``: events held for a slow reader before it gets SubscriptionLagged.
        Raises BusUnavailable if the subscription can't be confirmed in time.
        """

    @abstractmethod
    async def replay(self, room: str, after_seq: int) -> list[tuple[int, Any]] | None:
        """Events with seq > ``after_seq``, oldest first; ``[]`` when up to date.

        None when some of them already left the replay window, or when ``after_seq`` is ahead
        of the room (its counter expired and restarted): the caller must resync.
        """

    @abstractmethod
    def backlog(self) -> int:
        """The most events one subscription of this process holds unread now (0 with none):
        how far the slowest local reader is behind. For monitoring; costs one pass over them."""

    @abstractmethod
    async def last_seq(self, room: str) -> int:
        """The room's latest seq; 0 when nothing was published (or it all expired)."""

    @abstractmethod
    async def send_to_router(self, command: dict[str, Any]) -> None:
        """Queue a command for whichever process leads the router. At most once: commands
        may be lost if the leader dies holding them (the database is the source of truth)."""

    @contextlib.asynccontextmanager
    async def router_inbox(self) -> AsyncIterator[AsyncIterator[Any]]:
        """``async with bus.router_inbox() as inbox: async for command in inbox: ...``

        FIFO. Only the leader should consume it; each command goes to one consumer.
        Iteration ends when the bus closes.
        """
        self._check_open()
        commands = self._drain_inbox()
        try:
            yield commands
        finally:
            await commands.aclose()

    @abstractmethod
    def _drain_inbox(self) -> AsyncIterator[Any]:
        """The backend's commands, in order, until the bus closes."""

    @contextlib.asynccontextmanager
    async def leadership(self, name: str, owner: str, *, lease: float = 5.0) -> AsyncIterator[Leadership]:
        """Contend for the role ``name`` as ``owner`` (unique per contender, e.g. host:pid:uuid).

        ``lease`` in seconds: renewed every lease/3; if the holder stops renewing, another
        contender takes over within about ``lease`` seconds. Released on exit.
        """
        self._check_open()
        leadership = Leadership(self, name, owner, lease=lease)
        self._leaderships.add(leadership)
        leadership._start()
        try:
            yield leadership
        finally:
            self._leaderships.discard(leadership)
            await leadership._stop()

    @abstractmethod
    async def hit(self, key: str, *, limit: int, window: float, now: float | None = None) -> bool:
        """Record one hit on ``key``; False when more than ``limit`` hits (this one included)
        happened in the last ``window`` seconds. Refused hits count too, so a client that
        keeps hammering stays refused. ``now``: seconds since the epoch (default: the
        backend's clock, shared by all processes)."""

    @abstractmethod
    async def remember(self, key: str, value: dict[str, Any], *, ttl: float) -> dict[str, Any]:
        """Keep ``value`` under ``key`` for ``ttl`` seconds unless a value is already there;
        return the value kept (the first writer's). For answers to retried commands."""

    @abstractmethod
    async def recall(self, key: str) -> dict[str, Any] | None:
        """The value ``remember`` keeps under ``key``, or None (never kept, or expired)."""

    @abstractmethod
    async def take(self, key: str, *, limit: int, window: float, member: str | None = None,
                   now: float | None = None) -> float:
        """Spend one of ``limit`` slots of ``key`` per sliding ``window`` seconds, as ``member``
        (unique; default random). Returns 0.0 when taken, else the seconds until a slot frees
        (nothing is recorded: a refused request costs no budget, unlike ``hit``).
        ``now``: seconds since the epoch (default: the backend's clock, shared by all processes)."""

    @abstractmethod
    async def give_back(self, key: str, member: str) -> None:
        """Return the slot ``member`` took from ``key`` (a request that should not count)."""

    @abstractmethod
    async def erase(self, pattern_room_prefix: str) -> int:
        """Delete the replay windows of every room whose name starts with the prefix.
        Sequence counters are kept so numbering never goes backwards. Returns the number of
        rooms erased."""

    @abstractmethod
    async def close(self) -> None:
        """Idempotent. Ends every subscription and inbox iteration; leases are left to expire
        (leave the ``leadership`` contexts first to release them promptly)."""

    # -- leases: Leadership contends with them; a one-off claim (a call's media anchor,
    # desktop/voice/bus.py) takes and renews one directly --

    @abstractmethod
    async def lease_acquire(self, name: str, owner: str, lease: float) -> tuple[int | None, float]:
        """(epoch, 0) if acquired, else (None, seconds left on the current holder's lease).

        Epochs grow with each acquisition of ``name``; a name nobody held for
        ``EPOCH_MEMORY`` seconds is forgotten (a claim per call must not pile up forever)."""

    @abstractmethod
    async def lease_renew(self, name: str, owner: str, lease: float) -> bool:
        """Extend the lease to ``lease`` seconds from now if ``owner`` still holds it."""

    @abstractmethod
    async def lease_release(self, name: str, owner: str) -> None:
        """Delete the lease if ``owner`` still holds it."""

    # -- shared plumbing --

    _closed: bool
    _leaderships: set[Leadership]

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed(f"Cannot use {type(self).__name__} once it has been closed.")

    def _close_leaderships(self) -> None:
        for leadership in list(self._leaderships):
            if leadership._task is not None:
                leadership._task.cancel()
            leadership._lose("bus closed")
            leadership._acquired.set()  # wake acquired() waiters: it raises BusClosed

    async def __aenter__(self) -> Bus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
