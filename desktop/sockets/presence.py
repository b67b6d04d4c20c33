"""The sockets of this process, told to the router's leader: as they open and close, and all
of them again when a new leader is elected (it knows nobody's).

Every announcement goes through the router inbox, which keeps a bounded number of commands
(the oldest dropped beyond). So they travel together, in ``commands.Presences`` of up to
``PRESENCES_LIMIT`` sockets: a single socket's is sent at once, and those made while a send
is under way (thousands of sockets closing as the process stops, its re-announce) go in the
next, a few commands for a whole process. One sender sends them in the order they were made,
so a socket's close never overtakes its open.

A leader of an older version (a rolling upgrade) does not know ``presences``: it refuses the
command (``bad_message``) and would know none of this process's sockets (its customers' callbacks
abandoned, its agents "desk closed"). So until the leader of the day has answered a
``presences``, each is sent asking for its answer; a refusal turns this process to one socket a
command (``CustomerPresence``, ``AgentPresence``), all its open sockets announced again that way,
until the next leader is elected.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import Sequence

from desktop.leader.client import RouterClient
from desktop.routing import commands
from desktop.routing.commands import PRESENCES_LIMIT, PresenceEntry
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["Presence", "Outbox"]

log = logging.getLogger(__name__)


class Outbox:
    """Announcements not sent yet, in order, numbered from 1 as they are added (no I/O)."""

    def __init__(self, *, limit: int = PRESENCES_LIMIT):
        if not 1 <= limit <= PRESENCES_LIMIT:
            raise ValueError(f"limit must be within 1..{PRESENCES_LIMIT}, got {limit}")
        self.limit = limit
        self._entries: collections.deque[PresenceEntry] = collections.deque()
        self.added = 0  # the number of the last one added
        self.taken = 0  # ...and of the last one taken to be sent

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entries: Sequence[PresenceEntry]) -> tuple[int, int]:
        """Queue ``entries``; the numbers of the first and the last (``(n + 1, n)``: none)."""
        first = self.added + 1
        self._entries.extend(entries)
        self.added += len(entries)
        return first, self.added

    def take(self) -> commands.Presences | None:
        """The next command to send: the oldest entries, ``limit`` at most (None: none left)."""
        if not self._entries:
            return None
        count = min(self.limit, len(self._entries))
        self.taken += count
        return commands.Presences(entries=[self._entries.popleft() for _ in range(count)])


class Presence:
    """The sockets of this process (``sessions``, by socket key), announced to the leader.

    Supervisors' sockets are kept too but not announced: the router has no use for them.
    """

    def __init__(self, router: RouterClient, process_id: str, *, limit: int = PRESENCES_LIMIT):
        self.router = router
        self.process_id = process_id
        self._keys = itertools.count(1)
        self.sessions: dict[str, Session] = {}
        self._outbox = Outbox(limit=limit)
        # Each announce waiting for its entries (numbers first..last) to be sent, in order.
        self._waiting: collections.deque[_Waiter] = collections.deque()
        self._sender: asyncio.Task[None] | None = None
        #: Does the leader of the day read ``presences``? None: not known yet (ask it).
        self._batches: bool | None = None
        self._term = 0  # leaders elected since this process started: an old answer is not heeded
        self._heeding: set[asyncio.Task[None]] = set()

    def key(self) -> str:
        return f"{self.process_id}:{next(self._keys)}"

    async def announce(self, session: Session, present: bool) -> None:
        """Tell the leader ``session``'s socket opened (``present``) or closed.

        Returns once it is in the router inbox (with the others made meanwhile); raises what
        the bus raised sending it (``BusUnavailable``, ``BusClosed``). Cancelled, it is still sent.
        """
        key = session.data["socket"]
        if present:
            self.sessions[key] = session
        else:
            self.sessions.pop(key, None)
        entry = _entry(session, present)
        if entry is not None:
            await self._send([entry])

    async def reannounce(self) -> None:
        """A new leader knows nobody's sockets: tell it ours (``PRESENCES_LIMIT`` a command)."""
        self._term += 1
        self._batches = None  # it may be of another version than the last
        await self._announce_all()

    async def _announce_all(self) -> None:
        await self._send([entry for session in self.sessions.values()
                          if (entry := _entry(session, True)) is not None])

    async def aclose(self) -> None:
        """Wait until what was announced is sent (or failed to be)."""
        for task in list(self._heeding):
            task.cancel()
        if self._sender is not None:
            await asyncio.shield(self._sender)

    async def _send(self, entries: list[PresenceEntry]) -> None:
        first, last = self._outbox.add(entries)
        if last < first:
            return
        waiter = _Waiter(first, last, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        if self._sender is None:
            # Next turn of the loop: what is announced in this one goes in the same command.
            self._sender = asyncio.create_task(self._send_all(), name="presence-sender")
        await waiter.future

    async def _send_all(self) -> None:
        try:
            while (batch := self._outbox.take()) is not None:
                try:
                    await self._deliver(batch)
                except Exception as exc:  # the bus is down or closed: those are lost, as one by one
                    self._settle(self._outbox.taken, exc)
                else:
                    self._settle(self._outbox.taken, None)
        finally:
            self._sender = None
            for waiter in self._waiting:  # cancelled mid-send (the loop is closing): nothing more goes
                waiter.future.cancel()
            self._waiting.clear()

    async def _deliver(self, batch: commands.Presences) -> None:
        if self._batches is False:  # an older leader: one socket a command, as it reads them
            for entry in batch.entries:
                await self.router.notify(_single(entry))
        elif self._batches is None:
            answer = await self.router.send_asking(batch)
            task = asyncio.create_task(self._heed(answer, self._term), name="presence-answer")
            self._heeding.add(task)
            task.add_done_callback(self._heeding.discard)
        else:
            await self.router.notify(batch)

    async def _heed(self, answer: asyncio.Future, term: int) -> None:
        """What the leader made of a ``presences``: read (batches from now on), refused as
        unknown (an older leader: one by one, every open socket again), or no answer (ask again)."""
        try:
            await answer
        except ProtocolError as exc:
            if exc.code != ErrorCode.BAD_MESSAGE or term != self._term or self._batches is False:
                return  # not_ready (no leader answered in time): the next batch asks again
            log.warning("the router's leader does not read presence batches (an older version): "
                        "announcing this process's sockets one by one until the next leader")
            self._batches = False
            # Those refused are lost; what is open now, then each change, goes one by one.
            await self._announce_all()
        except Exception:
            return  # the bus closed: nothing to heed
        else:
            if term == self._term and self._batches is None:
                self._batches = True

    def _settle(self, sent: int, error: Exception | None) -> None:
        """Entries up to number ``sent`` went (or failed, ``error``): answer whose they were."""
        for waiter in self._waiting:
            if waiter.first > sent:
                break
            if error is not None and waiter.error is None:
                waiter.error = error
        while self._waiting and self._waiting[0].last <= sent:
            waiter = self._waiting.popleft()
            if waiter.future.done():  # its announcer was cancelled
                continue
            if waiter.error is not None:
                waiter.future.set_exception(waiter.error)
            else:
                waiter.future.set_result(None)


class _Waiter:
    __slots__ = ("first", "last", "future", "error")

    def __init__(self, first: int, last: int, future: asyncio.Future[None]):
        self.first, self.last, self.future = first, last, future
        self.error: Exception | None = None


def _single(entry: PresenceEntry) -> commands.Command:
    """``entry`` as the command of its own a leader before ``presences`` reads."""
    if entry.role == "customer":
        return commands.CustomerPresence(visitor_id=entry.identity, socket=entry.socket, present=entry.present)
    return commands.AgentPresence(agent_id=entry.identity, socket=entry.socket, present=entry.present)


def _entry(session: Session, present: bool) -> PresenceEntry | None:
    if session.role not in ("customer", "agent"):
        return None
    return PresenceEntry(role=session.role, identity=session.identity, socket=session.data["socket"],
                         present=present)
