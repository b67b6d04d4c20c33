"""The ACD routing core: pure, synchronous, sans-I/O.

``Router`` is fed commands, each with ``now`` (seconds since the epoch), and
returns the ``RoutingEvent``s they caused, in the order they happened. It
never reads the clock, sleeps or does I/O: the routing service persists the
events, announces them, and calls ``tick(now)`` when ``next_deadline()``
comes. Timers fire only in ``tick``; a command that arrives after a deadline
but before the tick (say ``accept`` of an offer that just expired) is honoured.

Routing rules
    * An agent can take a queue iff its skills ⊇ the queue's skills. An agent
      holds at most one offer (RESERVED); a callback has at most one.
    * Priority is ``tier bonus + urgency bonus (+ follow-up bonus for a request made by
      "not solved") + seconds waited``; callbacks
      are ordered by ``enqueued_at - bonus``, ties by arrival (``priority``).
    * A callback that becomes QUEUED goes to the longest-idle AVAILABLE agent
      that can take it; an agent that becomes AVAILABLE gets the best QUEUED
      callback across the queues it can take.
    * An agent that declined or missed a callback is not offered it again
      while another *staffed* agent (AVAILABLE, RESERVED, BUSY or WRAP_UP) who
      has not declined it can take it; once everyone staffed has, it may.
    * ``QueueChanged`` comes last in a command's events, once per queue whose
      waiting line changed (positions moved).

Errors are listed in ``desktop.routing.errors``; a command that raises has
changed nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Mapping

from ._construct import fast_constructor
from ._core import ABANDON_TIMER, SCHEDULE_TIMER, RoutingCore
from ._records import AgentRecord, CallbackRecord, OfferRecord, QueueState
from .errors import (
    DuplicateCallback, InvalidRequest, InvalidTransition, RoutingError, UnknownAgent,
    UnknownCallback, UnknownOffer, UnknownQueue,
)
from .events import (
    AgentState, CallbackConnected, CallbackScheduled, CallbackState, Channel, OfferOutcome, RoutingEvent,
    TERMINAL_CALLBACK_STATES,
)
from .models import AgentView, CallbackRequest, CallbackView, QueueConfig, QueueView
from .priority import (
    DEFAULT_HANDLE_TIME, DEFAULT_TIER_BONUS, DEFAULT_URGENT_WORDS, UrgencyMatcher, estimate_wait,
)

__all__ = [
    "Router", "QueueConfig", "CallbackRequest", "AgentView", "CallbackView", "QueueView",
    "RoutingError", "UnknownCallback", "UnknownAgent", "UnknownOffer", "UnknownQueue",
    "InvalidTransition", "InvalidRequest", "DuplicateCallback",
]

# As in _core: enum members and event constructors as module globals for the hot paths.
_OFFLINE, _AWAY, _AVAILABLE = AgentState.OFFLINE, AgentState.AWAY, AgentState.AVAILABLE
_RESERVED, _BUSY, _WRAP_UP = AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP
_SCHEDULED, _QUEUED, _CONNECTED = CallbackState.SCHEDULED, CallbackState.QUEUED, CallbackState.CONNECTED
_CallbackConnected, _CallbackScheduled = map(fast_constructor, (CallbackConnected, CallbackScheduled))


class Router(RoutingCore):
    """Routes callbacks to agents. See the module docstring for the rules.

    ``offer_timeout``, ``wrapup_timeout`` and ``abandon_grace`` are seconds.
    ``id_factory`` makes offer ids; the default counter ("o1", "o2", ...)
    restarts with each router, so a service that rebuilds routers after a
    failover must pass a globally unique one (e.g. ``lambda: uuid4().hex``).
    """

    def __init__(
        self,
        queues: Iterable[QueueConfig] = (),
        *,
        offer_timeout: float = 20.0,
        wrapup_timeout: float = 60.0,
        away_on_missed_offer: bool = True,
        abandon_grace: float = 60.0,
        urgent_words: Iterable[str] = DEFAULT_URGENT_WORDS,
        is_urgent: Callable[[str], bool] | None = None,
        tier_bonus: Mapping[str, float] = DEFAULT_TIER_BONUS,
        urgency_bonus: float = 120.0,
        follow_up_bonus: float = 300.0,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        if not offer_timeout > 0:
            raise InvalidRequest(f"offer_timeout must be positive, not {offer_timeout!r}")
        if not (wrapup_timeout >= 0 and abandon_grace >= 0):
            raise InvalidRequest("wrapup_timeout and abandon_grace must not be negative")
        if id_factory is None:
            counter = itertools.count(1)
            id_factory = lambda: f"o{next(counter)}"  # noqa: E731
        super().__init__(
            offer_timeout=float(offer_timeout), wrapup_timeout=float(wrapup_timeout),
            away_on_missed_offer=away_on_missed_offer, abandon_grace=float(abandon_grace),
            # ``is_urgent`` replaces the fixed words: the app passes the console's, which change live.
            is_urgent=is_urgent or UrgencyMatcher(urgent_words),
            tier_bonus={tier: float(bonus) for tier, bonus in tier_bonus.items()},
            urgency_bonus=float(urgency_bonus), new_offer_id=id_factory,
            follow_up_bonus=float(follow_up_bonus),
        )
        for config in queues:
            self.add_queue(config)

    # ------------------------------------------------------------------ queues

    def add_queue(self, config: QueueConfig) -> None:
        """Add a queue, or replace the config of the queue with this name.

        If the skills of an existing queue change, call ``rebalance(now)``
        afterwards: offers that became possible are only made then.
        """
        queue = self._queues.get(config.name)
        if queue is None:
            queue = self._queues[config.name] = QueueState(config)
        else:
            queue.config = config
            if queue.skills == config.skills:
                return
            queue.skills = config.skills
            for skillset in queue.skillsets:
                skillset.queues.remove(queue)
            queue.skillsets = []
        for skillset in self._skillsets.values():
            if queue.skills <= skillset.skills:
                queue.skillsets.append(skillset)
                skillset.queues.append(queue)

    def remove_queue(self, name: str, fallback: str, now: float) -> list[RoutingEvent]:
        """Delete a queue: its waiting callbacks (SCHEDULED, QUEUED, OFFERED) move to
        ``fallback`` keeping their place in time (``enqueued_at`` and bonus), so a customer
        who waited long is not sent to the back; a QUEUED one is offered at once when an
        AVAILABLE agent can take it (no such agent had anything to do). A ringing offer goes
        on; CONNECTED callbacks finish in the old queue (its wrap-up time). Returns the offers
        made; raises ``UnknownQueue``, or ``InvalidRequest`` when ``fallback`` is ``name``.
        """
        old, new = self._queue(name), self._queue(fallback)
        if old is new:
            raise InvalidRequest(f'Queue "{name}" can\'t be its own fallback')
        out: list[RoutingEvent] = []
        waiting = [cb for cb in self._callbacks.values() if cb.queue is old and cb.state is not _CONNECTED]
        for cb in sorted(waiting, key=lambda cb: (cb.key, cb.seq)):  # the best first, as they'd be served
            if cb.entry is not None:
                old.line.remove(cb)
            cb.queue = new
            if old.declined.pop(cb.id, None) is not None:
                new.declined[cb.id] = cb
            if cb.state is _QUEUED:
                agent = self._pick_agent(cb)
                if agent is None:
                    new.line.push(cb)
                else:
                    self._offer(cb, agent, now, out)
                self._dirty[new.name] = None
        del self._queues[name]
        for skillset in old.skillsets:
            skillset.queues.remove(old)
        old.skillsets = []
        self._dirty.pop(name, None)
        return self._done(now, out)

    # ------------------------------------------------------------------ agents

    def agent_login(self, agent_id: str, skills: Iterable[str], now: float) -> list[RoutingEvent]:
        """Log an agent in: OFFLINE (or unknown) -> AWAY with reason "login".

        The agent takes contacts only after ``set_available``. Logging in an
        agent that is already logged in keeps its state and updates its skills
        (an AVAILABLE agent then goes to the back of the idle line).
        """
        skills = frozenset(skills)
        out: list[RoutingEvent] = []
        agent = self._agents.get(agent_id)
        if agent is None or agent.state is _OFFLINE:
            if agent is None:
                agent = self._agents[agent_id] = AgentRecord(agent_id, self._skillset(skills))
            agent.skillset = self._skillset(skills)  # OFFLINE: counted nowhere yet
            self._set_agent(agent, _AWAY, "login", now, out)
        elif agent.skillset.skills != skills:
            self._change_skills(agent, self._skillset(skills), now, out)
        return self._done(now, out)

    def agent_logout(self, agent_id: str, now: float) -> list[RoutingEvent]:
        """Log an agent out -> OFFLINE; a no-op if already OFFLINE.

        A pending offer is WITHDRAWN and its callback goes back to its place.
        Raises ``InvalidTransition`` while BUSY: the contact must end first.
        """
        agent = self._agent(agent_id)
        if agent.state is _OFFLINE:
            return []
        if agent.state is _BUSY:
            raise self._illegal("log out", agent)
        out: list[RoutingEvent] = []
        self._leave(agent, _OFFLINE, "logout", now, out)
        return self._done(now, out)

    def set_available(self, agent_id: str, now: float) -> list[RoutingEvent]:
        """AWAY or WRAP_UP -> AVAILABLE, maybe straight on to RESERVED.

        A no-op if the agent is already AVAILABLE or RESERVED; raises
        ``InvalidTransition`` if OFFLINE or BUSY.
        """
        agent = self._agent(agent_id)
        if agent.state is _AVAILABLE or agent.state is _RESERVED:
            return []
        if agent.state is not _AWAY and agent.state is not _WRAP_UP:
            raise self._illegal("set available", agent)
        out: list[RoutingEvent] = []
        self._make_available(agent, now, out)
        return self._done(now, out)

    def set_away(self, agent_id: str, reason: str, now: float) -> list[RoutingEvent]:
        """AVAILABLE, RESERVED, WRAP_UP or AWAY -> AWAY with ``reason``.

        A pending offer is WITHDRAWN and its callback goes back to its place.
        From AWAY only the reason changes (no event if it is the same).
        Raises ``InvalidTransition`` if OFFLINE or BUSY.
        """
        agent = self._agent(agent_id)
        if agent.state is _OFFLINE or agent.state is _BUSY:
            raise self._illegal("set away", agent)
        if agent.state is _AWAY and agent.reason == reason:
            return []
        out: list[RoutingEvent] = []
        self._leave(agent, _AWAY, reason, now, out)
        return self._done(now, out)

    def finish_wrap_up(self, agent_id: str, now: float) -> list[RoutingEvent]:
        """WRAP_UP -> AVAILABLE, maybe straight on to RESERVED.

        A no-op if the agent is already AVAILABLE or RESERVED (the wrap-up
        timeout won the race); otherwise raises ``InvalidTransition``.
        """
        agent = self._agent(agent_id)
        if agent.state is _AVAILABLE or agent.state is _RESERVED:
            return []
        if agent.state is not _WRAP_UP:
            raise self._illegal("finish wrap-up", agent)
        out: list[RoutingEvent] = []
        self._make_available(agent, now, out)
        return self._done(now, out)

    # --------------------------------------------------------------- callbacks

    def add_callback(self, request: CallbackRequest, now: float) -> list[RoutingEvent]:
        """Queue a callback (``CallbackQueued``, then maybe ``OfferMade``) or,
        if ``scheduled_at`` is later than ``now``, schedule it
        (``CallbackScheduled``; ``tick`` queues it at its time).

        Raises ``UnknownQueue``, ``InvalidRequest`` (unknown tier) or
        ``DuplicateCallback``.
        """
        if request.id in self._callbacks:
            raise DuplicateCallback(f'Callback "{request.id}" already exists')
        queue = self._queue(request.queue)
        bonus = self._bonus(request)
        out: list[RoutingEvent] = []
        if request.scheduled_at is not None and request.scheduled_at > now:
            cb = CallbackRecord(request, queue, _SCHEDULED, bonus, next(self._seq))
            self._callbacks[cb.id] = cb
            out.append(_CallbackScheduled(cb.id, queue.name, request.scheduled_at, now))
            self._start_timer(request.scheduled_at, SCHEDULE_TIMER, cb)
        else:
            cb = CallbackRecord(request, queue, _QUEUED, bonus, next(self._seq))
            self._callbacks[cb.id] = cb
            self._enqueue(cb, now, out)
        return self._done(now, out)

    def cancel(self, callback_id: str, now: float) -> list[RoutingEvent]:
        """The customer cancels: SCHEDULED, QUEUED or OFFERED -> CANCELLED.

        A pending offer is WITHDRAWN first and its agent becomes AVAILABLE
        again. Raises ``InvalidTransition`` once CONNECTED (the agent ends the
        contact) and ``UnknownCallback`` once ended.
        """
        cb = self._callback(callback_id)
        if cb.state is _CONNECTED:
            raise InvalidTransition(f'Cannot cancel callback "{cb.id}": it is connected to agent "{cb.agent.id}"')
        out: list[RoutingEvent] = []
        self._finish(cb, CallbackState.CANCELLED, now, out)
        return self._done(now, out)

    def abandon(self, callback_id: str, now: float, *, reason: str = "") -> list[RoutingEvent]:
        """The customer gave up at once (an inbound caller hung up while waiting, or their
        line dropped): SCHEDULED, QUEUED or OFFERED -> ABANDONED with ``reason``
        (``CallbackEnded.reason``), a pending offer WITHDRAWN.

        Raises like ``cancel`` (``InvalidTransition`` once CONNECTED).
        """
        cb = self._callback(callback_id)
        if cb.state is _CONNECTED:
            raise InvalidTransition(f'Cannot abandon callback "{cb.id}": it is connected to agent "{cb.agent.id}"')
        out: list[RoutingEvent] = []
        self._finish(cb, CallbackState.ABANDONED, now, out, reason)
        return self._done(now, out)

    def callers_gone(self, callback_ids: Iterable[str], now: float, *, reason: str) -> list[RoutingEvent]:
        """Callers on the line who are gone (their lines dropped): ABANDONED with ``reason``
        while waiting (a ringing offer WITHDRAWN), the contact ended (the agent to wrap-up)
        once CONNECTED. Those waiting in line go first, then those offered: an agent freed
        by a withdrawn offer is never offered another caller who is gone. Callbacks that
        have ended or are unknown are skipped."""
        order = {_SCHEDULED: 0, _QUEUED: 0, CallbackState.OFFERED: 1, _CONNECTED: 2}
        gone = sorted((cb for cb in map(self._callbacks.get, set(callback_ids)) if cb is not None),
                      key=lambda cb: (order.get(cb.state, 3), cb.id))
        out: list[RoutingEvent] = []
        for cb in gone:
            if cb.state is _CONNECTED:
                out += self.end_contact(cb.id, cb.agent.id, now, reason=reason)
            else:
                out += self.abandon(cb.id, now, reason=reason)
        return out

    def call_back_instead(self, callback_id: str) -> list[RoutingEvent]:
        """An inbound caller waiting on the line chose to hang up and be called back: their
        callback, QUEUED (or SCHEDULED), becomes a ``Channel.PHONE`` callback where it stands,
        its place in line unchanged (the same ``enqueued_at`` and arrival). Returns no events.

        Raises ``InvalidTransition`` unless it is a waiting ``PHONE_INBOUND`` callback (once
        OFFERED an agent is being rung for them: they stay on the line) and
        ``UnknownCallback`` once ended.
        """
        cb = self._callback(callback_id)
        if cb.request.channel is not Channel.PHONE_INBOUND:
            raise InvalidTransition(f'Cannot call back "{cb.id}" instead: it is a {cb.request.channel} callback, '
                                    'not a caller on the line')
        if cb.state is not _QUEUED and cb.state is not _SCHEDULED:
            raise InvalidTransition(f'Cannot call back "{cb.id}" instead: it is {cb.state}')
        cb.request = dataclasses.replace(cb.request, channel=Channel.PHONE)
        return []

    def customer_left(self, callback_id: str, now: float) -> list[RoutingEvent]:
        """The customer's page is gone. Returns no events.

        If the customer is not back ``abandon_grace`` seconds later, ``tick``
        ends the callback ABANDONED; for a SCHEDULED callback those seconds
        count from its scheduled time (the customer may well come back for it).
        Ignored but for ``Channel.BROWSER`` (a phone has no page) and once CONNECTED.
        """
        cb = self._callback(callback_id)
        if cb.request.channel is not Channel.BROWSER or cb.state is _CONNECTED or cb.left_at is not None:
            return []
        cb.left_at = now
        cb.left_token += 1
        start = now if cb.request.scheduled_at is None else max(now, cb.request.scheduled_at)
        self._start_timer(start + self._abandon_grace, ABANDON_TIMER, cb, cb.left_token)
        return []

    def customer_returned(self, callback_id: str, now: float) -> list[RoutingEvent]:
        """The customer's page is back: forget the pending abandonment."""
        cb = self._callback(callback_id)
        if cb.left_at is not None:
            cb.left_at = None
            cb.left_token += 1
        return []

    def accept(self, offer_id: str, agent_id: str, now: float) -> list[RoutingEvent]:
        """The agent takes the offer: ``OfferEnded(ACCEPTED)``,
        ``CallbackConnected``, agent BUSY. Call ``end_contact`` when done.

        Raises ``UnknownOffer`` if the offer has ended (e.g. timed out) and
        ``InvalidTransition`` if it was made to another agent.
        """
        agent, offer = self._offer_of(offer_id, agent_id, "accept")
        cb = offer.callback
        out: list[RoutingEvent] = []
        self._end_offer(offer, OfferOutcome.ACCEPTED, now, out)
        self._set_callback(cb, _CONNECTED)
        cb.agent = agent
        cb.connected_at = now
        agent.callback = cb
        out.append(_CallbackConnected(cb.id, agent.id, offer.id, now))
        self._set_agent(agent, _BUSY, "", now, out)
        return self._done(now, out)

    def decline(self, offer_id: str, agent_id: str, now: float) -> list[RoutingEvent]:
        """The agent refuses the offer: ``OfferEnded(DECLINED)``, agent
        AVAILABLE (and offered something else if there is something), the
        callback back at its place and offered to the next agent.

        Raises like ``accept``.
        """
        _, offer = self._offer_of(offer_id, agent_id, "decline")
        out: list[RoutingEvent] = []
        self._take_back(offer, OfferOutcome.DECLINED, _AVAILABLE, "", now, out)
        return self._done(now, out)

    def end_contact(self, callback_id: str, agent_id: str, now: float, *, reason: str = "") -> list[RoutingEvent]:
        """The contact is over: ``CallbackEnded(COMPLETED)`` (with ``reason``: why, if not
        the usual hang-up), agent WRAP_UP until ``finish_wrap_up`` or ``wrapup_timeout`` seconds.

        The handle time (connect to now) feeds the queue's wait estimate.
        Raises ``InvalidTransition`` unless the callback is CONNECTED to this
        agent.
        """
        agent = self._agent(agent_id)
        cb = self._callback(callback_id)
        if cb.state is not _CONNECTED:
            raise InvalidTransition(f'Cannot end contact "{cb.id}": callback is {cb.state}')
        if cb.agent is not agent:
            raise InvalidTransition(f'Cannot end contact "{cb.id}": it is connected to agent "{cb.agent.id}"')
        out: list[RoutingEvent] = []
        cb.queue.handle_times.append(max(0.0, now - cb.connected_at))
        agent.callback = None
        self._end_callback(cb, CallbackState.COMPLETED, agent.id, now, out, reason)
        self._set_agent(agent, _WRAP_UP, "", now, out)
        wrapup = cb.queue.config.wrapup_timeout
        self._start_wrap_up_timer(agent, now + (self._wrapup_timeout if wrapup is None else wrapup))
        return self._done(now, out)

    # ------------------------------------------------------------------ timers

    def tick(self, now: float) -> list[RoutingEvent]:
        """Fire every timer due at ``now``, earliest first.

        Offer timeouts (``OfferEnded(TIMED_OUT)``, the agent AWAY "missed
        offer" or AVAILABLE per ``away_on_missed_offer``, the callback to the
        next agent), wrap-up timeouts (AVAILABLE), scheduled callbacks
        (``CallbackQueued``) and abandonments (``CallbackEnded(ABANDONED)``).
        """
        out: list[RoutingEvent] = []
        self._fire_timers(now, out)
        return self._done(now, out)

    def next_deadline(self) -> float | None:
        """The earliest time ``tick`` has something to do, or None."""
        return self._next_live_deadline()

    # --------------------------------------------------------------- failover

    def restore_agent(self, agent_id: str, skills: Iterable[str], state: AgentState, reason: str,
                      since: float) -> None:
        """Rebuild an agent from the database; call ``rebalance`` when all is restored.

        RESERVED comes back AVAILABLE (pending offers are not restored). A
        WRAP_UP agent's timeout runs from ``since``. An agent restored BUSY
        should get its CONNECTED callback restored too, or ``rebalance`` puts
        it in WRAP_UP. Raises ``InvalidRequest`` if the agent is already known.
        """
        if agent_id in self._agents:
            raise InvalidRequest(f'Agent "{agent_id}" already exists')
        agent = self._agents[agent_id] = AgentRecord(agent_id, self._skillset(frozenset(skills)))
        state = AgentState(state)
        if state is _RESERVED:
            state, reason = _AVAILABLE, ""
        self._put_agent(agent, state)
        agent.reason = reason
        agent.since = since
        if state is _WRAP_UP:
            self._start_wrap_up_timer(agent, since + self._wrapup_timeout)

    def restore_callback(self, request: CallbackRequest, state: CallbackState, *,
                         enqueued_at: float | None, agent_id: str | None = None,
                         connected_at: float | None = None) -> None:
        """Rebuild a callback from the database; call ``rebalance`` when all is restored.

        SCHEDULED waits for ``request.scheduled_at``; QUEUED and OFFERED come
        back QUEUED at their original ``enqueued_at``; CONNECTED needs
        ``agent_id`` (restore the agent first) and makes that agent BUSY.
        Terminal states are ignored. Restore callbacks in arrival order: it
        breaks ties of priority. Raises ``UnknownQueue``, ``UnknownAgent``,
        ``InvalidRequest`` or ``DuplicateCallback``.
        """
        state = CallbackState(state)
        if state in TERMINAL_CALLBACK_STATES:
            return
        if request.id in self._callbacks:
            raise DuplicateCallback(f'Callback "{request.id}" already exists')
        queue = self._queue(request.queue)
        bonus = self._bonus(request)
        if state is _SCHEDULED:
            if request.scheduled_at is None:
                raise InvalidRequest(f'Callback "{request.id}" is scheduled but has no scheduled_at')
        elif enqueued_at is None:
            raise InvalidRequest(f'Callback "{request.id}" is {state} but has no enqueued_at')
        agent = None
        if state is _CONNECTED:
            if agent_id is None:
                raise InvalidRequest(f'Callback "{request.id}" is connected but has no agent_id')
            agent = self._agent(agent_id)
            if agent.callback is not None:
                raise InvalidRequest(f'Agent "{agent_id}" is already connected to "{agent.callback.id}"')
        cb = CallbackRecord(request, queue, state, bonus, next(self._seq))
        self._callbacks[cb.id] = cb
        if state is _SCHEDULED:
            self._start_timer(request.scheduled_at, SCHEDULE_TIMER, cb)
            return
        cb.enqueued_at = enqueued_at
        cb.key = enqueued_at - bonus
        if agent is None:
            cb.state = _QUEUED
            queue.line.push(cb)
            return
        cb.agent = agent
        cb.connected_at = enqueued_at if connected_at is None else connected_at
        agent.callback = cb
        if agent.state is not _BUSY:
            self._put_agent(agent, _BUSY)
            agent.reason, agent.since = "", cb.connected_at

    def rebalance(self, now: float) -> list[RoutingEvent]:
        """After restoring: fire due timers and make the offers that are due.

        AVAILABLE agents are served longest idle first (by their ``since``).
        """
        out: list[RoutingEvent] = []
        for agent in self._agents.values():
            if agent.state is _BUSY and agent.callback is None:
                self._set_agent(agent, _WRAP_UP, "", now, out)
                self._start_wrap_up_timer(agent, now + self._wrapup_timeout)
        idle = sorted((a for a in self._agents.values() if a.state is _AVAILABLE), key=lambda a: (a.since, a.idle_seq))
        for skillset in self._skillsets.values():
            skillset.available.clear()
        for agent in idle:  # rebuild the idle lines in `since` order
            agent.idle_seq = next(self._seq)
            agent.skillset.available[agent.id] = agent
        for agent in idle:
            if agent.state is _AVAILABLE:
                self._offer_best_to(agent, now, out)
        # Timers last: once the restored state obeys the routing rules, a
        # callback that falls due is routed like any newcomer.
        self._fire_timers(now, out)
        return self._done(now, out)

    def record_handle_time(self, queue: str, seconds: float) -> None:
        """Seed the queue's recent handle times (e.g. from the database)."""
        self._queue(queue).handle_times.append(max(0.0, float(seconds)))

    # ----------------------------------------------------------------- queries

    def agent(self, agent_id: str) -> AgentView:
        return self._agent(agent_id).view()

    def agents(self) -> list[AgentView]:
        """Every agent ever seen, OFFLINE ones included."""
        return [a.view() for a in self._agents.values()]

    def queues_of_agent(self, agent_id: str) -> list[str]:
        """The queues whose staffing (and so whose waits) this agent's state counts in: those it
        has the skills for. Raises ``UnknownAgent``."""
        return [queue.name for queue in self._agent(agent_id).skillset.queues]

    def agents_changed_since(self, mark: int) -> tuple[int, list[AgentView]]:
        """The agents whose state, reason, ``since`` or skills changed after ``mark`` (0: every
        agent ever seen), and the mark to pass next time. O(agents changed), not O(agents)."""
        changed = []
        for agent_id, count in reversed(self._agent_changes.items()):
            if count <= mark:
                break
            changed.append(self._agents[agent_id].view())
        return self._agent_change_count, changed

    def callback(self, callback_id: str) -> CallbackView:
        """Raises ``UnknownCallback`` once the callback has ended."""
        return self._callback(callback_id).view()

    def callbacks(self) -> list[CallbackView]:
        """Every live (not ended) callback."""
        return [cb.view() for cb in self._callbacks.values()]

    def queues(self) -> list[QueueConfig]:
        return [q.config for q in self._queues.values()]

    def waiting(self, queue: str) -> list[str]:
        """Ids of the queue's QUEUED callbacks, best first. O(n log n)."""
        return [cb.id for cb in self._queue(queue).line.ordered()]

    def position(self, callback_id: str) -> int | None:
        """1-based place among its queue's QUEUED callbacks; None if not QUEUED. O(n)."""
        cb = self._callback(callback_id)
        return cb.queue.line.position(cb) if cb.entry is not None else None

    def estimated_wait(self, callback_id: str | None, queue: str, now: float) -> float | None:
        """Seconds until an offer is likely, for this callback or (None) for
        one added now to ``queue``; None when nobody is staffed for the queue.

        Uses the mean of the queue's last 20 handle times (180 s before any)
        and the staffed agents with the skills (see ``estimate_wait``). An
        OFFERED or CONNECTED callback has 0.0; a SCHEDULED one, the time left
        to its schedule whoever is staffed. A given callback's own queue is used.
        """
        q = self._queue(queue)
        position = len(q.line) + 1
        if callback_id is not None:
            cb = self._callback(callback_id)
            q = cb.queue
            if cb.state is _SCHEDULED:
                return max(0.0, cb.request.scheduled_at - now)
            if cb.entry is None:
                return 0.0
            position = q.line.position(cb)
        times = q.handle_times
        mean = sum(times) / len(times) if times else DEFAULT_HANDLE_TIME
        return estimate_wait(position, staffed=sum(s.staffed for s in q.skillsets),
                             available=sum(len(s.available) for s in q.skillsets), mean_handle_time=mean)

    def waiting_estimates(self, queue: str) -> list[tuple[str, int, float | None]]:
        """``(callback id, 1-based position, estimated wait in s)`` of every QUEUED
        callback of ``queue``, best first: all positions in O(n log n) where
        calling ``position`` for each would be O(n²)."""
        q = self._queue(queue)
        times = q.handle_times
        mean = sum(times) / len(times) if times else DEFAULT_HANDLE_TIME
        staffed = sum(s.staffed for s in q.skillsets)
        available = sum(len(s.available) for s in q.skillsets)
        return [
            (cb.id, position, estimate_wait(position, staffed=staffed, available=available,
                                            mean_handle_time=mean))
            for position, cb in enumerate(q.line.ordered(), start=1)
        ]

    def queue_view(self, queue: str, now: float) -> QueueView:
        q = self._queue(queue)
        oldest = min((cb.enqueued_at for cb in q.line), default=now)
        return QueueView(
            name=q.name,
            waiting=len(q.line),
            longest_wait=max(0.0, now - oldest),
            estimated_wait=self.estimated_wait(None, queue, now),
            agents_staffed=sum(s.staffed for s in q.skillsets),
            agents_available=sum(len(s.available) for s in q.skillsets),
        )

    # ------------------------------------------------------ helpers (private)

    def _offer_of(self, offer_id: str, agent_id: str, action: str) -> tuple[AgentRecord, OfferRecord]:
        agent = self._agent(agent_id)
        offer = self._offers.get(offer_id)
        if offer is None:
            raise UnknownOffer(f'Unknown offer "{offer_id}" (it may have ended)')
        if offer.agent is not agent:
            held = f'holds offer "{agent.offer.id}"' if agent.offer is not None else f"is {agent.state}"
            raise InvalidTransition(f'Cannot {action} offer "{offer_id}": agent "{agent_id}" {held}')
        return agent, offer

    @staticmethod
    def _illegal(action: str, agent: AgentRecord) -> InvalidTransition:
        return InvalidTransition(f'Cannot {action}: agent "{agent.id}" is {agent.state}')

