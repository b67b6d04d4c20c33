"""The router's I/O edge: it runs on the one process that holds the leader lease.

Loop: take a command from the bus's router inbox (or wake at the router's
next deadline), feed the pure :class:`~desktop.routing.Router`, write its
events to the repository in one transaction, and only then announce them to
the rooms of the browsers concerned. A new leader rebuilds the router from the
database, so a crash loses no callback; offers that were pending are withdrawn
and made again.

Commands (``desktop/routing/commands.py``, one struct each, tagged ``op`` on the bus) are
sent by :class:`desktop.leader.client.RouterClient`; the leader decodes each and applies it
through its table of handlers. Those with ``rid`` get a reply on ``reply:<process>``.

The leader owns, for its term: a :class:`~desktop.routing.reachability.Reachability` (whose
sockets are open, when an agent is logged out, when a process is gone), the
customers' :class:`~desktop.routing.status.CallbackStatuses`, and an
:class:`~desktop.leader.announcements.Announcer` that tells the rooms of each event.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from desktop.routing import commands
from desktop.contacts.card import queue_dispositions
from desktop.leader.announcements import Announcer, ContactEndedHook
from desktop.leader.command_stats import CommandStats
from desktop.leader.offer_stats import OfferStats
from desktop.routing.status import CallbackStatuses, queue_availability
from desktop.leader.outcomes import CommandOutcomes, failed, succeeded
from desktop.routing.reachability import AWAY_WHILE_GONE, Reach, Reachability, paused_while_gone
from desktop.repository.admin import DEFAULT_QUEUE, default_fallback
from desktop.repository.repository import Repository
from desktop.repository.errors import NumberWaiting
from desktop.rooms import QUEUES_ROOM, SYSTEM_ROOM, WALL_KEEP, WALL_ROOM, agent_room, reply_room, visitor_room
from desktop.routing import (
    CallbackRequest, InvalidTransition, QueueConfig, Router, RoutingError,
)
from desktop.routing.events import (
    LINE_DROPPED, TERMINAL_CALLBACK_STATES, AgentState, AgentStateChanged, CallbackState, Channel, OfferMade,
)
from desktop.settings import Settings
from desktop.routing.wall import AgentRows, WaitingHistory, WallSchedule, wall_snapshot
from desktop.leader.wall_feed import WallFeed
from desktop.suggestions.live import Suggester
from signaling.bus import Bus
from signaling.protocol import ErrorCode
from signaling.protocol.outbound import BusLeader, BusQueues, OutContact

# The room names live in desktop/rooms.py; re-exported so existing imports keep working.
__all__ = ["RoutingService", "agent_room", "visitor_room", "WALL_ROOM", "WALL_KEEP", "SYSTEM_ROOM"]

log = logging.getLogger(__name__)

STATUS_FLUSH = 1.0   # seconds between position/estimated-wait updates to waiting customers


class LeadershipLost(Exception):
    pass


class RoutingService:
    """``on_contact_ended``: what the features wired in by the app do when a contact ends
    (see :class:`~desktop.leader.announcements.Announcer`); the leader imports none of them."""

    def __init__(self, *, repo: Repository, bus: Bus, settings: Settings, clock=time.time,
                 on_contact_ended: Sequence[ContactEndedHook] = (), suggester: Suggester | None = None,
                 is_urgent: Callable[[str], bool] | None = None):
        self.repo = repo
        #: The urgency test of the console's urgent words (desktop/leader/live_centre.py); None:
        #: the fixed OTODESK_URGENT_WORDS.
        self.is_urgent = is_urgent
        self.on_contact_ended = tuple(on_contact_ended)
        self.bus = bus
        self.settings = settings
        self.clock = clock
        #: The business rules' suggestions for the offer and connected cards (none without).
        self.suggester = suggester
        self.owner = settings.process_id
        self.is_leader = False
        #: The current term while this process leads (what /metrics reads of the router), else None.
        self.term: _Leader | None = None
        #: Offers made and ended while this process led, and their latency (for /metrics).
        self.offers = OfferStats()
        #: How long commands waited in the inbox and took to apply (for /metrics).
        self.commands = CommandStats()

    async def run(self) -> None:
        """Contend for the lease forever; lead while holding it. Cancel to stop."""
        while True:
            try:
                async with self.bus.leadership("router", self.owner, lease=self.settings.leader_lease) as lead:
                    await lead.acquired()
                    log.info("process %s leads the router (epoch %s)", self.owner, lead.epoch)
                    self.is_leader, self.term = True, _Leader(self, lead)
                    try:
                        await self.term.run()
                    finally:
                        self.is_leader, self.term = False, None
            except LeadershipLost:
                log.warning("process %s lost the router lease; stepping down", self.owner)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("router leader failed; contending again")
                await asyncio.sleep(1.0)


class _Leader:
    """One term of leadership: a router rebuilt from the database."""

    def __init__(self, service: RoutingService, lead):
        self.service = service
        self.repo = service.repo
        self.bus = service.bus
        self.settings = service.settings
        self.clock = service.clock
        self.lead = lead
        self.router = Router(
            offer_timeout=self.settings.offer_timeout,
            wrapup_timeout=self.settings.wrapup_timeout,
            away_on_missed_offer=self.settings.away_on_missed_offer,
            abandon_grace=self.settings.abandon_grace,
            urgent_words=self.settings.urgent_words,
            is_urgent=service.is_urgent,
            id_factory=_offer_ids(),
        )
        self.agent_names: dict[str, str] = {}
        self.statuses = CallbackStatuses(self.router, self.agent_names)
        self.agent_usernames: dict[str, str] = {}
        self.agent_skills: dict[str, list[str]] = {}
        self.queue_titles: dict[str, str] = {}
        self.targets: dict[str, float] = {}
        self.wrapup_timeouts: dict[str, float] = {}
        self.dispositions: dict[str, tuple[str, ...]] = {}  # each queue's, for the cards (no query each)
        self.reach = Reachability(reconnect_grace=self.settings.agent_reconnect_grace,
                                  own_process=service.owner, now=self.clock())
        self.inbox_lag = 0.0  # seconds between sending and applying the latest command
        #: callback id -> its creation time, while the command that brought it in is applied:
        #: an offer made then is timed from the customer's call_me (OfferStats.latency).
        self.arriving: dict[str, float] = {}
        self.dirty_queues: set[str] = set()
        self.wall_schedule = WallSchedule()
        # A term of its own: another leader's deltas never apply to this one's walls.
        self.wall_feed = WallFeed(f"{lead.epoch}.{secrets.token_hex(4)}")
        self.next_status_flush = 0.0
        self.last_availability: list | None = None
        self.history = WaitingHistory()
        self.wall_agents = AgentRows()  # the wall's rows, rebuilt only for agents that changed
        self.outcomes = CommandOutcomes(self.bus)
        self.handlers = self._handlers()
        self.announcer = Announcer(repo=self.repo, bus=self.bus, statuses=self.statuses,
                                   queue_titles=self.queue_titles,
                                   wrapup_timeout=self.settings.wrapup_timeout, clock=self.clock,
                                   on_contact_ended=service.on_contact_ended,
                                   suggester=service.suggester, wrapup_timeouts=self.wrapup_timeouts,
                                   dispositions=self.dispositions)

    # -- the loop ----------------------------------------------------------------

    async def run(self) -> None:
        await self._rebuild()
        async with self.bus.router_inbox() as inbox:
            await self.bus.publish(SYSTEM_ROOM, BusLeader(owner=self.service.owner, epoch=self.lead.epoch).to_dict())
            received = aiter(inbox)
            next_command = asyncio.ensure_future(anext(received))
            lost = asyncio.ensure_future(self.lead.lost.wait())
            try:
                while True:
                    timeout = self._seconds_to_next_deadline()
                    done, _ = await asyncio.wait({next_command, lost}, timeout=timeout,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if lost in done:
                        raise LeadershipLost()
                    if next_command in done:
                        command = next_command.result()
                        next_command = asyncio.ensure_future(anext(received))
                        await self._apply_safely(command)
                    await self._due(self.clock())
            finally:
                for task in (next_command, lost):
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    def _seconds_to_next_deadline(self) -> float:
        now = self.clock()
        candidates = [self.wall_schedule.next_at()]
        deadline = self.router.next_deadline()
        if deadline is not None:
            candidates.append(deadline)
        if self.dirty_queues:
            candidates.append(self.next_status_flush)
        presence_deadline = self.reach.next_deadline()
        if presence_deadline is not None:
            candidates.append(presence_deadline)
        return max(0.0, min(candidates) - now)

    async def _due(self, now: float) -> None:
        gone = self.reach.silent_processes(now, inbox_lag=self.inbox_lag)
        for process in gone:
            await self._forget_process(process, now)
        lost = self.reach.lost_lines(now, gone)
        if lost:  # their lines went with the process carrying them: nobody may be offered them
            log.warning("inbound calls %s: their lines are gone (their process stopped)", ", ".join(lost))
            await self._commit(self.router.callers_gone(lost, now, reason=LINE_DROPPED))
        for agent_id in self.reach.due_logouts(now):
            await self._logout_if_idle(agent_id, now)
        await self._commit(self.router.tick(now))
        if self.dirty_queues and now >= self.next_status_flush:
            await self._flush_statuses()
            self.next_status_flush = now + STATUS_FLUSH
        if self.wall_schedule.due(now):
            await self._publish_wall(now)

    # -- rebuild ---------------------------------------------------------------------

    async def _rebuild(self) -> None:
        now = self.clock()
        await self._load_queues()
        for agent in await self.repo.list_agents():
            self.agent_names[agent.id] = agent.display_name
            self.agent_usernames[agent.id] = agent.username
            self.agent_skills[agent.id] = list(agent.skills)
            if agent.state and agent.state != AgentState.OFFLINE:
                self.router.restore_agent(agent.id, agent.skills, AgentState(agent.state),
                                          agent.state_reason or "", agent.state_since or now)
                self.reach.expect_agent(agent.id, now)
        await self.repo.withdraw_open_offers(now)
        for record in await self.repo.open_callbacks():
            if record.queue not in self.queue_titles:  # its queue was deleted (or removed by hand)
                record = await self._rehomed(record)
            self.statuses.track(record)
            self.router.restore_callback(
                _request_of(record), CallbackState(record.state),
                enqueued_at=record.enqueued_at or record.scheduled_at or record.created_at,
                agent_id=record.agent_id, connected_at=record.answered_at,
            )
            if record.channel == Channel.BROWSER and record.state != CallbackState.CONNECTED:
                self.router.customer_left(record.id, now)
            elif record.channel == Channel.PHONE_INBOUND:  # its process may have died with the last leader
                self.reach.expect_line(record.id, now)
        await self._commit(self.router.rebalance(now))
        self.dirty_queues.update(self.queue_titles)
        log.info("router rebuilt: %d callbacks, %d agents", len(self.statuses), len(self.router.agents()))

    async def _load_queues(self) -> list[str]:
        """Read the queues' settings into the router (new ones with their recent handle times);
        returns the names of the new queues."""
        added = []
        for queue in await self.repo.list_queues():
            new = queue.name not in self.queue_titles
            self.router.add_queue(QueueConfig(queue.name, frozenset(queue.skills), queue.service_level_target,
                                              offer_timeout=queue.offer_timeout,
                                              wrapup_timeout=queue.wrapup_timeout))
            self.queue_titles[queue.name] = queue.title
            self.targets[queue.name] = queue.service_level_target
            self.dispositions[queue.name] = queue_dispositions(queue)
            if queue.wrapup_timeout is None:
                self.wrapup_timeouts.pop(queue.name, None)
            else:
                self.wrapup_timeouts[queue.name] = queue.wrapup_timeout
            if new:
                added.append(queue.name)
                for seconds in await self.repo.recent_handle_times(queue.name):
                    self.router.record_handle_time(queue.name, seconds)
        return added

    # -- commands ------------------------------------------------------------------------

    def _handlers(self) -> dict[type[commands.Command], Any]:
        """What each command does (``handler(command, now)``)."""
        return {
            commands.CallbackAdded: self._op_callback_added, commands.Cancel: self._op_cancel,
            commands.Abandon: self._op_abandon, commands.CallBackInstead: self._op_call_back_instead,
            commands.Status: self._op_status, commands.ProcessAlive: self._op_process_alive,
            commands.InboundLines: self._op_inbound_lines, commands.Presences: self._op_presences,
            commands.CustomerPresence: self._op_customer_presence,
            commands.AgentPresence: self._op_agent_presence, commands.SignedOut: self._op_signed_out,
            commands.SetState: self._op_set_state, commands.Accept: self._op_accept,
            commands.Decline: self._op_decline, commands.End: self._op_end, commands.WrapUp: self._op_wrap_up,
            commands.Wall: self._op_wall,
            commands.QueuesChanged: self._op_queues_changed, commands.AgentChanged: self._op_agent_changed,
            commands.QueueRemoved: self._op_queue_removed,
        }

    async def _op_queues_changed(self, command, now):
        """An admin added or changed a queue: the router takes it now, no restart (offers a
        changed queue's skills allow are made at once)."""
        await self._load_queues()
        await self._commit(self.router.rebalance(now))
        self.dirty_queues.update(self.queue_titles)
        self.wall_schedule.now_please()
        await self._publish_availability(now)

    async def _op_queue_removed(self, command: commands.QueueRemoved, now: float):
        """An admin deleted a queue and moved its waiting callbacks to ``fallback`` in the
        database: the router moves them too (offered at once to a free agent of the fallback)
        and each customer is told (``moved_from``). Nobody is lost."""
        name, fallback = command.name, command.fallback
        await self._load_queues()  # the fallback may be newer than this term's router
        queues = await self.repo.list_queues()
        if fallback not in {q.name for q in queues}:  # deleted too in the meantime: the default
            fallback = default_fallback(queues, name) or DEFAULT_QUEUE["name"]
            await self.repo.ensure_default_queue()
            await self._load_queues()
        await self.repo.move_waiting_callbacks(name, fallback)  # asked for in the moment it went
        moved = [cb.id for cb in self.router.callbacks()
                 if cb.queue == name and cb.state != CallbackState.CONNECTED]
        events = self.router.remove_queue(name, fallback, now) if name in self.queue_titles else []
        for callback_id in moved:
            self.statuses.moved(callback_id, fallback)
        await self._commit(events)
        for mapping in (self.queue_titles, self.targets, self.wrapup_timeouts, self.dispositions):
            mapping.pop(name, None)
        self.dirty_queues.discard(name)
        for callback_id in moved:
            await self.announcer.tell_customer(self.statuses.update(callback_id, now, again=True,
                                                                    moved_from=name))
        self.wall_schedule.now_please()
        await self._publish_availability(now)
        return {"moved": len(moved)}

    async def _rehomed(self, record):
        """A live callback whose queue is gone (a request made as it was deleted, or a queue
        removed by hand): moved to the default fallback, in the database first, so it is
        routed rather than lost."""
        fallback = default_fallback(await self.repo.list_queues(), record.queue)
        if fallback is None:  # no queue at all: the next start makes the default one
            fallback = DEFAULT_QUEUE["name"]
            await self.repo.ensure_default_queue()
            await self._load_queues()
        log.warning("callback %s waits in queue %r, which is gone: moved to %r", record.id, record.queue, fallback)
        await self.repo.move_waiting_callbacks(record.queue, fallback)
        if record.state == CallbackState.CONNECTED:  # in the router only: it ends where it was
            return dataclasses.replace(record, queue=fallback)
        return await self.repo.get_callback(record.id)

    async def _op_agent_changed(self, command, now):
        """An admin changed an account: new skills count at once for a logged-in agent; a
        disabled one is logged out (after the contact they are on, if any)."""
        agent_id = command.agent_id
        agent = await self.repo.get_agent(agent_id)
        if agent is None:
            return
        self.agent_names[agent_id] = agent.display_name
        self.agent_usernames[agent_id] = agent.username
        self.agent_skills[agent_id] = list(agent.skills)
        self.wall_agents.touch(agent_id)  # a new name shows without a change of state
        state = self.router_agent_state(agent_id)
        if state in (None, AgentState.OFFLINE):
            return
        if agent.disabled_at is not None:
            self.reach.forget_agent(agent_id)
            await self._logout_if_idle(agent_id, now)
        else:
            await self._commit(self.router.agent_login(agent_id, agent.skills, now))
            self.dirty_queues.update(self.queue_titles)  # new skills: the queues it left count it no more
        self.wall_schedule.now_please()


    async def _apply_safely(self, message: dict[str, Any]) -> None:
        """Apply one command from the inbox (as the bus carries it) and answer it if it asks."""
        try:
            command = commands.decode(message)
        except msgspec.ValidationError as exc:
            log.warning("router command refused: %s", exc)
            await self._reply(message, failed(ErrorCode.BAD_MESSAGE, f"not a router command: {exc}"))
            return
        if command.sent_at is not None:
            now = self.clock()
            self.inbox_lag = max(0.0, now - command.sent_at)
            self.service.commands.taken_up(command.sent_at, now)
        started = time.perf_counter()
        # A retried command (same sender, same id) gets the first outcome, not a second go.
        outcome = await self.outcomes.recall(command.command_key)
        if outcome is None:
            outcome = await self.outcomes.keep(command.command_key, await self._apply(command))
        await self._reply(message, outcome)
        self.service.commands.applied(type(command).__name__, time.perf_counter() - started)

    async def _apply(self, command: commands.Command) -> dict[str, Any]:
        handler = self.handlers[type(command)]
        return await self._outcome(type(command).__name__, handler(command, self.clock()))

    async def _outcome(self, what: str, work: Awaitable[Any]) -> dict[str, Any]:
        """What ``work`` (a command being applied) answers: its result, or the error it met."""
        try:
            return succeeded(await work)
        except _Refused as exc:
            return failed(exc.code, str(exc))
        except InvalidTransition as exc:
            return failed(ErrorCode.INVALID_STATE, str(exc))
        except LookupError as exc:
            return failed(ErrorCode.NOT_FOUND, str(exc.args[0] if exc.args else exc))
        except RoutingError as exc:
            return failed(ErrorCode.INVALID_STATE, str(exc))
        except LeadershipLost:
            raise
        except Exception:
            log.exception("router command %s failed", what)
            return failed(ErrorCode.INTERNAL, "internal error")

    async def _reply(self, message: dict[str, Any], outcome: dict[str, Any]) -> None:
        if message.get("rid") and message.get("reply_to"):
            await self.bus.publish(reply_room(message["reply_to"]), {"rid": message["rid"], **outcome})

    async def _op_callback_added(self, command: commands.CallbackAdded, now: float):
        callback_id = command.callback_id
        with contextlib.suppress(LookupError):
            self.router.callback(callback_id)
            return None  # already known (rebuilt from the database before this command arrived)
        record = await self.repo.get_callback(callback_id)
        if record is None or record.state in TERMINAL_CALLBACK_STATES:
            return None
        if record.queue not in self.queue_titles:  # made in the moment before a queues_changed came
            await self._load_queues()
        if record.queue not in self.queue_titles:  # ...or as its queue was being deleted
            record = await self._rehomed(record)
        self.statuses.track(record)
        events = self.router.add_callback(_request_of(record), now)
        if record.channel == Channel.BROWSER and not self.reach.has_customer_socket(record.visitor_id):
            events += self.router.customer_left(callback_id, now)
        elif record.channel == Channel.PHONE_INBOUND:
            self.reach.expect_line(callback_id, now)
        self.arriving[callback_id] = record.created_at
        try:
            await self._commit(events)
        finally:
            self.arriving.pop(callback_id, None)
        return None

    async def _op_cancel(self, command: commands.Cancel, now: float):
        await self._commit(self.router.cancel(command.callback_id, now))

    async def _op_abandon(self, command: commands.Abandon, now: float):
        await self._commit(self.router.abandon(command.callback_id, now, reason=command.reason))

    async def _op_call_back_instead(self, command: commands.CallBackInstead, now: float):
        """A waiting caller chose a callback: in the database first (channel, number, consent,
        the timeline), then the router; the same callback, so its place in line is kept. Its
        line will close (our BYE): nothing is expected of it any more, and its end is no
        abandonment (``desktop/voice/inbound.py``)."""
        view = self.router.callback(command.callback_id)  # UnknownCallback once ended
        if view.channel != Channel.PHONE_INBOUND or view.state not in (CallbackState.QUEUED,
                                                                       CallbackState.SCHEDULED):
            raise InvalidTransition(f'Cannot call back "{view.id}" instead: it is a {view.channel} '
                                    f'callback, {view.state}')
        try:
            await self.repo.call_back_instead(command.callback_id, phone=command.phone, consent=command.consent,
                                              data=command.data, now=now)
        except NumberWaiting as exc:
            raise _Refused(ErrorCode.PHONE_WAITING, str(exc)) from None
        self.router.call_back_instead(command.callback_id)
        self.reach.forget_line(command.callback_id)
        return None

    async def _op_status(self, command: commands.Status, now: float):
        await self.announcer.status_now(command.callback_id, again=True)

    # -- presence: what desktop/routing/reachability.py decides, told to the router -------------

    async def _op_process_alive(self, command: commands.ProcessAlive, now: float):
        self.reach.process_alive(command.process, now)

    async def _op_inbound_lines(self, command: commands.InboundLines, now: float):
        # A line listed as its caller chose a callback (the heartbeat crossed our BYE) is not
        # theirs to lose any more: its callback is a phone callback now.
        self.reach.lines_listed(command.process, [line for line in command.lines if not self._called_back(line)])

    def _called_back(self, callback_id: str) -> bool:
        try:
            return self.router.callback(callback_id).channel == Channel.PHONE
        except LookupError:  # not routed yet (its callback_added is on its way) or ended
            return False

    async def _forget_process(self, process: str, now: float) -> None:
        log.warning("process %s went silent; forgetting its sockets", process)
        visitors, agents = self.reach.sockets_on(process)
        for visitor_id, key in visitors:
            await self._customer_socket(visitor_id, key, False, now)
        for agent_id, key in agents:
            await self._agent_socket(agent_id, key, False, now)

    async def _op_presences(self, command: commands.Presences, now: float):
        """Each socket as a command of its own would be, in order: one refused (an agent's
        account gone) keeps none of the others out."""
        for entry in command.entries:
            if entry.role == "customer":
                work = self._customer_socket(entry.identity, entry.socket, entry.present, now)
            else:
                work = self._agent_socket(entry.identity, entry.socket, entry.present, now)
            await self._outcome(f"presences ({entry.role} {entry.identity})", work)

    async def _op_customer_presence(self, command: commands.CustomerPresence, now: float):
        await self._customer_socket(command.visitor_id, command.socket, command.present, now)

    async def _op_agent_presence(self, command: commands.AgentPresence, now: float):
        await self._agent_socket(command.agent_id, command.socket, command.present, now)

    async def _customer_socket(self, visitor_id: str, socket: str, present: bool, now: float) -> None:
        change = self.reach.customer_socket(visitor_id, socket, present)
        callback_id = self.statuses.callback_of(visitor_id)
        if callback_id is None:
            return
        try:
            self.router.callback(callback_id)
        except LookupError:
            return
        if change == Reach.RETURNED:
            await self._commit(self.router.customer_returned(callback_id, now))
        elif change == Reach.LEFT:
            await self._commit(self.router.customer_left(callback_id, now))

    async def _agent_socket(self, agent_id: str, socket: str, present: bool, now: float) -> None:
        if present:
            self.reach.agent_socket_opened(agent_id, socket)
            if self.router_agent_state(agent_id) in (None, AgentState.OFFLINE):
                await self._login(agent_id, now)
            elif paused_while_gone(self.router.agent(agent_id)):
                await self._commit(self.router.set_available(agent_id, now))
        else:
            self.reach.agent_socket_closed(agent_id, socket, now)
            await self._pause_if_no_desk(agent_id, now)

    async def _op_signed_out(self, command: commands.SignedOut, now: float):
        """The agent signed out: logged out now (unless a contact is still theirs to finish)."""
        self.reach.forget_agent(command.agent_id)
        await self._logout_if_idle(command.agent_id, now)

    async def _login(self, agent_id: str, now: float) -> None:
        agent = await self.repo.get_agent(agent_id)
        if agent is None:
            raise _Refused(ErrorCode.NOT_FOUND, "no such agent")
        self.agent_names[agent_id] = agent.display_name
        self.agent_usernames[agent_id] = agent.username
        await self._commit(self.router.agent_login(agent_id, agent.skills, now))

    def router_agent_state(self, agent_id: str) -> AgentState | None:
        try:
            return self.router.agent(agent_id).state
        except LookupError:
            return None

    async def _logout_if_idle(self, agent_id: str, now: float) -> None:
        if self.router_agent_state(agent_id) in (AgentState.AVAILABLE, AgentState.AWAY, AgentState.RESERVED):
            await self._commit(self.router.agent_logout(agent_id, now))

    async def _op_set_state(self, command: commands.SetState, now: float):
        agent_id = command.agent_id
        state = self.router_agent_state(agent_id)
        if state in (None, AgentState.OFFLINE):
            await self._login(agent_id, now)
        elif state == AgentState.WRAP_UP:
            # Leaving wrap-up is Done (with an outcome) or its timeout: never a closed
            # contact with no disposition and a lost note.
            raise _Refused(ErrorCode.INVALID_STATE, "finish the wrap-up first: choose an outcome "
                           "and press Done (it also ends by itself when its time is up)")
        if command.state == "available":
            await self._commit(self.router.set_available(agent_id, now))
        else:
            await self._commit(self.router.set_away(agent_id, command.reason or "away", now))

    async def _op_accept(self, command: commands.Accept, now: float):
        await self._commit(self.router.accept(command.offer_id, command.agent_id, now))

    async def _op_decline(self, command: commands.Decline, now: float):
        await self._commit(self.router.decline(command.offer_id, command.agent_id, now))

    async def _op_end(self, command: commands.End, now: float):
        await self._commit(self.router.end_contact(command.callback_id, command.agent_id, now))

    async def _op_wrap_up(self, command: commands.WrapUp, now: float):
        agent_id = command.agent_id
        # Here, after the retry check: a retried wrap-up gets its first outcome, another one this.
        record = await self.repo.get_callback(command.callback_id)
        if record is not None and record.disposition is not None:
            raise _Refused(ErrorCode.INVALID_STATE, "this contact is already wrapped up")
        await self.repo.wrap_up(command.callback_id, agent_id=agent_id,
                                disposition=command.disposition, note=command.note, now=now,
                                timed_out=command.timed_out, summary=command.summary)
        if self.router_agent_state(agent_id) == AgentState.WRAP_UP:
            await self._commit(self.router.finish_wrap_up(agent_id, now))
        await self.bus.publish(agent_room(agent_id), OutContact(
            contact=None, wrapped_up=command.callback_id).to_dict())

    async def _op_wall(self, command: commands.Wall, now: float):
        # A whole wall within WALL_FLUSH, not at once: many asking make one, not one each.
        self.wall_feed.want_whole()
        self.wall_schedule.change()

    # -- events: persist, then announce ---------------------------------------------------

    async def _commit(self, events: list) -> None:
        if not events:
            return
        if self.lead.lost.is_set():
            raise LeadershipLost()
        await self.repo.record_routing(events)
        for event in events:
            self.wall_schedule.change()
            self.dirty_queues.update(await self.announcer.announce(event))
            # An offer made as its callback arrives is timed from the call_me (once).
            arrived_at = self.arriving.pop(event.callback_id, None) if isinstance(event, OfferMade) else None
            self.service.offers.announced(event, arrived_at=arrived_at, now=self.clock())
        if any(isinstance(event, AgentStateChanged) for event in events):
            # Staffing changed: a customer opening the widget now must not be told "nobody".
            await self._publish_availability(self.clock())
        # Also made available after the desk closed (wrap-up timed out, a missed offer returned them).
        for agent_id in {e.agent_id for e in events if isinstance(e, AgentStateChanged)}:
            await self._pause_if_no_desk(agent_id, self.clock())

    async def _pause_if_no_desk(self, agent_id: str, now: float) -> None:
        """An available agent with no desk open (within the reconnect grace) can't see an offer:
        away ("desk closed") until a desk is back."""
        if not self.reach.has_agent_desk(agent_id) and self.router_agent_state(agent_id) == AgentState.AVAILABLE:
            await self._commit(self.router.set_away(agent_id, AWAY_WHILE_GONE, now))

    async def _flush_statuses(self) -> None:
        queues, self.dirty_queues = self.dirty_queues, set()
        for queue in queues:
            for update in self.statuses.queue_updates(queue, self.clock()):
                await self.announcer.tell_customer(update)

    # -- the wall -------------------------------------------------------------------------

    async def _publish_wall(self, now: float) -> None:
        message = self.wall_feed.message(await self.wall(now), now)
        try:
            await self.bus.publish(WALL_ROOM, message.to_dict(), keep=WALL_KEEP)
        except Exception:
            self.wall_feed.failed()
            raise
        self.wall_schedule.published(now)
        await self._publish_availability(now)

    async def _publish_availability(self, now: float) -> None:
        """What widgets tell before a request (the wall's staffing and estimate), when it changed."""
        availability = queue_availability(self.router, now)
        if availability != self.last_availability:
            await self.bus.publish(QUEUES_ROOM, BusQueues(queues=availability).to_dict(), keep=1)
            self.last_availability = availability

    async def wall(self, now: float) -> dict[str, Any]:
        day = await self.repo.queue_day_stats(since=_start_of_day(now), targets=self.targets)
        return wall_snapshot(self.router, now, day_stats=day, titles=self.queue_titles,
                             names=self.agent_names, usernames=self.agent_usernames,
                             history=self.history, agent_rows=self.wall_agents)


class _Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _request_of(record) -> CallbackRequest:
    return CallbackRequest(
        id=record.id, queue=record.queue, tier=record.tier or "standard",
        text=f"{record.topic or ''} {record.message or ''}",
        channel=Channel(record.channel), created_at=record.created_at,
        scheduled_at=record.scheduled_at, follow_up=record.follow_up_of is not None,
    )


def _offer_ids():
    import uuid
    return lambda: uuid.uuid4().hex


def _start_of_day(now: float) -> float:
    local = time.localtime(now)
    return time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
