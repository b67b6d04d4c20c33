"""The routing state machine behind ``Router``: state, transitions, matching, timers.

``RoutingCore`` holds the state and performs every change of it; it assumes
the move was checked. ``router.Router`` is the public surface on top: it
checks commands (raising with the current state in the message), then calls
in here. Each private method appends the events it causes to ``out``.

Matching keeps one invariant after every command: no QUEUED callback while an
AVAILABLE agent could take it (bar exclusions for declines), which is why a
freed agent only needs the best callback and a new callback only the longest
idle agent.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from ._records import AgentRecord, CallbackRecord, OfferRecord, QueueState, Skillset
from .errors import InvalidRequest, InvalidTransition, UnknownAgent, UnknownCallback, UnknownQueue
from .events import (
    AgentState, AgentStateChanged, CallbackConnected, CallbackEnded, CallbackQueued,
    CallbackScheduled, CallbackState, OfferEnded, OfferMade, OfferOutcome, QueueChanged,
    RoutingEvent, TERMINAL_CALLBACK_STATES,
)
from ._construct import fast_constructor
from .models import CallbackRequest

__all__ = ["RoutingCore"]

# Module-level names: the routing path runs hot and global lookups are cheaper.
_OFFLINE, _AWAY, _AVAILABLE = AgentState.OFFLINE, AgentState.AWAY, AgentState.AVAILABLE
_RESERVED, _BUSY, _WRAP_UP = AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP
_SCHEDULED, _QUEUED, _OFFERED = CallbackState.SCHEDULED, CallbackState.QUEUED, CallbackState.OFFERED
_CONNECTED = CallbackState.CONNECTED
_STAFFED = frozenset({_AVAILABLE, _RESERVED, _BUSY, _WRAP_UP})
_WAITING = frozenset({_SCHEDULED, _QUEUED, _OFFERED})  # states a customer can cancel or abandon

# Every legal move; _set_agent and _set_callback enforce them.
_AGENT_MOVES: dict[AgentState, frozenset[AgentState]] = {
    _OFFLINE: frozenset({_AWAY}),
    _AWAY: frozenset({_AWAY, _AVAILABLE, _OFFLINE}),
    _AVAILABLE: frozenset({_RESERVED, _AWAY, _OFFLINE}),
    _RESERVED: frozenset({_BUSY, _AVAILABLE, _AWAY, _OFFLINE}),
    _BUSY: frozenset({_WRAP_UP}),
    _WRAP_UP: frozenset({_AVAILABLE, _AWAY, _OFFLINE}),
}
_CALLBACK_MOVES: dict[CallbackState, frozenset[CallbackState]] = {
    _SCHEDULED: frozenset({_QUEUED, CallbackState.CANCELLED, CallbackState.ABANDONED}),
    _QUEUED: frozenset({_OFFERED, CallbackState.CANCELLED, CallbackState.ABANDONED}),
    _OFFERED: frozenset({_QUEUED, _CONNECTED, CallbackState.CANCELLED, CallbackState.ABANDONED}),
    _CONNECTED: frozenset({CallbackState.COMPLETED}),
    **{state: frozenset() for state in TERMINAL_CALLBACK_STATES},
}

# Events are built several times per command; _construct says why not cls(...).
(_AgentStateChanged, _CallbackConnected, _CallbackEnded, _CallbackQueued, _CallbackScheduled,
 _OfferEnded, _OfferMade, _QueueChanged) = map(fast_constructor, (
    AgentStateChanged, CallbackConnected, CallbackEnded, CallbackQueued, CallbackScheduled,
    OfferEnded, OfferMade, QueueChanged))

# Timer kinds, in the timer heap as (deadline, seq, kind, record, token).
OFFER_TIMER, WRAP_UP_TIMER, SCHEDULE_TIMER, ABANDON_TIMER = range(4)
_TIMERS_COMPACT_MIN = 1024  # dead timers are swept when the heap doubles past this


class RoutingCore:
    """State and transitions; see ``router.Router`` for the public commands."""

    def __init__(self, *, offer_timeout: float, wrapup_timeout: float, away_on_missed_offer: bool,
                 abandon_grace: float, is_urgent: Callable[[str], bool], tier_bonus: dict[str, float],
                 urgency_bonus: float, new_offer_id: Callable[[], str], follow_up_bonus: float = 0.0) -> None:
        self._offer_timeout = offer_timeout
        self._wrapup_timeout = wrapup_timeout
        self._away_on_missed_offer = away_on_missed_offer
        self._abandon_grace = abandon_grace
        self._is_urgent = is_urgent
        self._tier_bonus = tier_bonus
        self._urgency_bonus = urgency_bonus
        self._follow_up_bonus = follow_up_bonus
        self._new_offer_id = new_offer_id
        self._queues: dict[str, QueueState] = {}
        self._skillsets: dict[frozenset[str], Skillset] = {}
        self._agents: dict[str, AgentRecord] = {}
        self._callbacks: dict[str, CallbackRecord] = {}  # live ones only
        self._offers: dict[str, OfferRecord] = {}        # pending ones only
        self._timers: list[tuple[float, int, int, Any, int]] = []
        self._timers_compact_at = _TIMERS_COMPACT_MIN
        self._seq = itertools.count()                    # arrival, idle and timer order
        self._dirty: dict[str, None] = {}                # queues to announce, in order
        # agent id -> the count of agent changes when it last changed, oldest first: who
        # changed since a reader's mark, without a pass over every agent (the wall).
        self._agent_changes: dict[str, int] = {}
        self._agent_change_count = 0

    # -------------------------------------------------- transitions (private)

    def _set_agent(self, agent: AgentRecord, state: AgentState, reason: str, now: float,
                   out: list[RoutingEvent]) -> None:
        """The one place agents change state (and say so)."""
        if state not in _AGENT_MOVES[agent.state]:
            raise InvalidTransition(f'Cannot move agent "{agent.id}" from {agent.state} to {state}')
        self._put_agent(agent, state)
        agent.reason = reason
        agent.since = now
        out.append(_AgentStateChanged(agent.id, state, reason, now))

    def _put_agent(self, agent: AgentRecord, state: AgentState) -> None:
        """Bookkeeping of a state change: staffed counts and the idle lines."""
        old = agent.state
        skillset = agent.skillset
        if old is _AVAILABLE:
            del skillset.available[agent.id]
        if old in _STAFFED:
            if state not in _STAFFED:
                skillset.staffed -= 1
        elif state in _STAFFED:
            skillset.staffed += 1
        if state is _AVAILABLE:
            agent.idle_seq = next(self._seq)
            skillset.available[agent.id] = agent  # at the back: newest idle
        agent.state = state
        agent.state_seq += 1
        self._agent_change_count += 1
        self._agent_changes.pop(agent.id, None)
        self._agent_changes[agent.id] = self._agent_change_count

    def _set_callback(self, cb: CallbackRecord, state: CallbackState) -> None:
        """The one place callbacks change state (events are the caller's)."""
        if state not in _CALLBACK_MOVES[cb.state]:
            raise InvalidTransition(f'Cannot move callback "{cb.id}" from {cb.state} to {state}')
        cb.state = state

    def _change_skills(self, agent: AgentRecord, skillset: Skillset, now: float, out: list[RoutingEvent]) -> None:
        old = agent.skillset
        state, state_seq = agent.state, agent.state_seq
        self._put_agent(agent, _OFFLINE)  # out of the old skillset's counts...
        agent.skillset = skillset
        self._put_agent(agent, state)     # ...and into the new one's
        agent.state_seq = state_seq       # same state: its pending timers still apply
        if state in _STAFFED:
            self._unlock(old.queues, now, out)
        if state is _AVAILABLE:
            self._offer_best_to(agent, now, out)

    def _make_available(self, agent: AgentRecord, now: float, out: list[RoutingEvent]) -> None:
        self._set_agent(agent, _AVAILABLE, "", now, out)
        self._offer_best_to(agent, now, out)

    def _leave(self, agent: AgentRecord, state: AgentState, reason: str, now: float,
               out: list[RoutingEvent]) -> None:
        """The agent goes AWAY or OFFLINE, giving back any pending offer."""
        if agent.offer is not None:
            self._take_back(agent.offer, OfferOutcome.WITHDRAWN, state, reason, now, out)
            return
        was_staffed = agent.state in _STAFFED
        self._set_agent(agent, state, reason, now, out)
        if was_staffed:
            self._unlock(agent.skillset.queues, now, out)

    def _enqueue(self, cb: CallbackRecord, now: float, out: list[RoutingEvent]) -> None:
        """A new or newly due callback enters its queue (state already QUEUED)."""
        cb.enqueued_at = now
        cb.key = now - cb.bonus
        out.append(_CallbackQueued(cb.id, cb.queue.name, now))
        agent = self._pick_agent(cb)
        if agent is None:
            cb.queue.line.push(cb)
            self._dirty[cb.queue.name] = None
        else:
            # Every AVAILABLE agent had nothing it could take, so the newcomer
            # is the best there is for the longest idle one.
            self._offer(cb, agent, now, out)

    def _offer(self, cb: CallbackRecord, agent: AgentRecord, now: float, out: list[RoutingEvent]) -> None:
        """Offer a callback, already out of its waiting line, to an AVAILABLE agent."""
        timeout = cb.queue.config.offer_timeout or self._offer_timeout
        offer = OfferRecord(self._new_offer_id(), cb, agent, now + timeout)
        self._offers[offer.id] = offer
        self._set_callback(cb, _OFFERED)
        cb.offer = offer
        cb.agent = agent
        agent.offer = offer
        out.append(_OfferMade(offer.id, cb.id, agent.id, now, offer.expires_at))
        self._set_agent(agent, _RESERVED, "", now, out)
        self._start_timer(offer.expires_at, OFFER_TIMER, offer)

    def _end_offer(self, offer: OfferRecord, outcome: OfferOutcome, now: float, out: list[RoutingEvent]) -> None:
        del self._offers[offer.id]
        offer.callback.offer = None
        offer.agent.offer = None
        out.append(_OfferEnded(offer.id, offer.callback.id, offer.agent.id, outcome, now))

    def _take_back(self, offer: OfferRecord, outcome: OfferOutcome, state: AgentState, reason: str,
                   now: float, out: list[RoutingEvent]) -> None:
        """End an offer the agent did not take; the callback returns to its
        original place and the agent moves to ``state``."""
        cb, agent = offer.callback, offer.agent
        self._end_offer(offer, outcome, now, out)
        if outcome is not OfferOutcome.WITHDRAWN:
            if cb.declined is None:
                cb.declined = set()
            cb.declined.add(agent.id)
            cb.queue.declined[cb.id] = cb
        self._set_callback(cb, _QUEUED)
        cb.agent = None
        self._set_agent(agent, state, reason, now, out)
        cb.queue.line.push(cb)
        self._dirty[cb.queue.name] = None
        # The callback goes to somebody else first: even when everyone staffed
        # has declined it, the one who just did comes last. Whoever takes it
        # was idle before, so had nothing better waiting.
        target = self._pick_agent(cb, agent)
        if target is not None:
            cb.queue.line.remove(cb)
            self._offer(cb, target, now, out)
        if state is _AVAILABLE:
            self._offer_best_to(agent, now, out)  # may be this callback, if it is still the best
        else:
            self._unlock(agent.skillset.queues, now, out)

    def _finish(self, cb: CallbackRecord, state: CallbackState, now: float, out: list[RoutingEvent],
                reason: str = "") -> None:
        """A waiting callback ends CANCELLED or ABANDONED (``reason``: why); its agent, if any, is freed."""
        offer = cb.offer
        if cb.entry is not None:
            cb.queue.line.remove(cb)
            self._dirty[cb.queue.name] = None
        if offer is not None:
            self._end_offer(offer, OfferOutcome.WITHDRAWN, now, out)
        self._end_callback(cb, state, None, now, out, reason)
        if offer is not None:
            self._make_available(offer.agent, now, out)

    def _end_callback(self, cb: CallbackRecord, state: CallbackState, agent_id: str | None, now: float,
                      out: list[RoutingEvent], reason: str = "") -> None:
        self._set_callback(cb, state)
        cb.agent = None
        del self._callbacks[cb.id]  # forgotten: memory stays bounded
        cb.queue.declined.pop(cb.id, None)
        out.append(_CallbackEnded(cb.id, state, agent_id, now, reason))

    # ----------------------------------------------------- matching (private)

    def _pick_agent(self, cb: CallbackRecord, not_: AgentRecord | None = None) -> AgentRecord | None:
        """The longest-idle AVAILABLE agent, other than ``not_``, that can take
        ``cb`` and is not excluded from it."""
        excluded = cb.declined if cb.declined and self._others_exist(cb) else None
        best = None
        for skillset in cb.queue.skillsets:
            available = skillset.available
            if not available:
                continue
            for agent in available.values():  # usually stops at the first
                if agent is not not_ and (excluded is None or agent.id not in excluded):
                    break
            else:
                continue
            if best is None or agent.idle_seq < best.idle_seq:
                best = agent
        return best

    def _offer_best_to(self, agent: AgentRecord, now: float, out: list[RoutingEvent]) -> bool:
        """Offer the AVAILABLE ``agent`` the best callback it can take, if any."""
        agent_id = agent.id

        def excluded(cb: CallbackRecord) -> bool:
            return cb.declined is not None and agent_id in cb.declined and self._others_exist(cb)

        best: CallbackRecord | None = None
        for queue in agent.skillset.queues:
            line = queue.line
            if not line:
                continue
            # only callbacks somebody declined can be excluded: skip the check otherwise
            cb = line.first(excluded if queue.declined else None)
            if cb is not None and (best is None or cb.key < best.key or (cb.key == best.key and cb.seq < best.seq)):
                best = cb
        if best is None:
            return False
        best.queue.line.remove(best)
        self._dirty[best.queue.name] = None
        self._offer(best, agent, now, out)
        return True

    def _others_exist(self, cb: CallbackRecord) -> bool:
        """Is a staffed agent who has not declined ``cb`` able to take it?"""
        queue = cb.queue
        declined = cb.declined
        staffed = 0
        for skillset in queue.skillsets:
            staffed += skillset.staffed
        if not declined or staffed > len(declined):
            return staffed > 0
        for agent_id in declined:
            agent = self._agents[agent_id]
            if agent.state in _STAFFED and queue.skills <= agent.skillset.skills:
                staffed -= 1
        return staffed > 0

    def _unlock(self, queues: list[QueueState], now: float, out: list[RoutingEvent]) -> None:
        """A staffed agent left: callbacks it alone kept from agents who
        declined them may now go to those agents."""
        candidates: dict[str, AgentRecord] = {}
        for queue in queues:
            for cb in queue.declined.values():
                if cb.entry is None or self._others_exist(cb):
                    continue
                for agent_id in cb.declined:
                    agent = self._agents[agent_id]
                    if agent.state is _AVAILABLE and queue.skills <= agent.skillset.skills:
                        candidates[agent_id] = agent
        for agent in sorted(candidates.values(), key=lambda a: a.idle_seq):
            if agent.state is _AVAILABLE:
                self._offer_best_to(agent, now, out)

    # -------------------------------------------------------- timers (private)

    def _start_timer(self, deadline: float, kind: int, record: Any, token: int = 0) -> None:
        """Fire at ``deadline`` unless ``record`` has moved on by then (see ``_timer_live``)."""
        timers = self._timers
        heapq.heappush(timers, (deadline, next(self._seq), kind, record, token))
        if len(timers) > self._timers_compact_at:
            # Dead timers (accepted offers, cancelled schedules) otherwise stay
            # until their deadline, holding their records: sweep them, in
            # place since _fire_timers may be iterating.
            timers[:] = [t for t in timers if self._timer_live(t[2], t[3], t[4])]
            heapq.heapify(timers)
            self._timers_compact_at = max(_TIMERS_COMPACT_MIN, 2 * len(timers))

    def _start_wrap_up_timer(self, agent: AgentRecord, deadline: float) -> None:
        self._start_timer(deadline, WRAP_UP_TIMER, agent, agent.state_seq)

    def _fire_timers(self, now: float, out: list[RoutingEvent]) -> None:
        """Fire every live timer due at ``now``, earliest first."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, kind, record, token = heapq.heappop(timers)
            if not self._timer_live(kind, record, token):
                continue
            if kind == OFFER_TIMER:
                if self._away_on_missed_offer:
                    self._take_back(record, OfferOutcome.TIMED_OUT, _AWAY, "missed offer", now, out)
                else:
                    self._take_back(record, OfferOutcome.TIMED_OUT, _AVAILABLE, "", now, out)
            elif kind == WRAP_UP_TIMER:
                self._make_available(record, now, out)
            elif kind == SCHEDULE_TIMER:
                self._set_callback(record, _QUEUED)
                self._enqueue(record, now, out)
            else:
                self._finish(record, CallbackState.ABANDONED, now, out)

    def _next_live_deadline(self) -> float | None:
        timers = self._timers
        while timers and not self._timer_live(timers[0][2], timers[0][3], timers[0][4]):
            heapq.heappop(timers)  # a timer whose subject moved on: drop it now
        return timers[0][0] if timers else None

    def _timer_live(self, kind: int, record: Any, token: int) -> bool:
        """Does this timer still apply, or has its subject moved on?"""
        if kind == OFFER_TIMER:
            return self._offers.get(record.id) is record
        if kind == WRAP_UP_TIMER:
            return record.state is _WRAP_UP and record.state_seq == token
        if kind == SCHEDULE_TIMER:
            return self._callbacks.get(record.id) is record and record.state is _SCHEDULED
        return (self._callbacks.get(record.id) is record and record.left_token == token
                and record.state in _WAITING)

    # ------------------------------------------------------ helpers (private)

    def _done(self, now: float, out: list[RoutingEvent]) -> list[RoutingEvent]:
        """Close a command: announce the queues whose waiting lines changed."""
        dirty = self._dirty
        if dirty:
            for name in dirty:
                out.append(_QueueChanged(name, now))
            dirty.clear()
        return out

    def _bonus(self, request: CallbackRequest) -> float:
        try:
            bonus = self._tier_bonus[request.tier]
        except KeyError:
            raise InvalidRequest(f'Unknown tier "{request.tier}" for callback "{request.id}"') from None
        if request.text and self._is_urgent(request.text):
            bonus += self._urgency_bonus
        if request.follow_up:
            bonus += self._follow_up_bonus
        return bonus

    def _skillset(self, skills: frozenset[str]) -> Skillset:
        skillset = self._skillsets.get(skills)
        if skillset is None:
            skillset = self._skillsets[skills] = Skillset(skills)
            for queue in self._queues.values():
                if queue.skills <= skills:
                    skillset.queues.append(queue)
                    queue.skillsets.append(skillset)
        return skillset

    def _agent(self, agent_id: str) -> AgentRecord:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgent(f'Unknown agent "{agent_id}"') from None

    def _callback(self, callback_id: str) -> CallbackRecord:
        try:
            return self._callbacks[callback_id]
        except KeyError:
            raise UnknownCallback(f'Unknown callback "{callback_id}" (it may have ended)') from None

    def _queue(self, name: str) -> QueueState:
        try:
            return self._queues[name]
        except KeyError:
            raise UnknownQueue(f'Unknown queue "{name}"') from None
