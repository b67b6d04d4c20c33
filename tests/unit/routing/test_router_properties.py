"""Random command sequences against the routing core, checking its invariants.

The machine keeps a model built *only from the returned events* and checks,
after every command, that it agrees with the router's views: the events must
tell the whole story, since the service persists them and a new leader
rebuilds from them. On top of that, the routing invariants:

* no agent holds two offers, no callback has two;
* no QUEUED callback while an AVAILABLE agent could take it, unless that
  agent declined or missed it and another staffed agent who did not could;
* an offer never skips a better QUEUED callback of the same queue that the
  agent could have taken;
* every callback ends exactly once (the run ends by draining them all), and
  once ended is forgotten.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from desktop.routing import (
    AgentState, AgentStateChanged, CallbackConnected, CallbackEnded, CallbackQueued,
    CallbackRequest, CallbackScheduled, CallbackState, Channel, InvalidTransition, OfferEnded,
    OfferMade, OfferOutcome, QueueChanged, QueueConfig, Router, RoutingEvent, UnknownAgent,
    UnknownCallback, UnknownOffer,
)
from desktop.routing.priority import DEFAULT_TIER_BONUS, WaitingLine

QUEUES = [QueueConfig("sales"), QueueConfig("support", frozenset({"tech"})), QueueConfig("fr", frozenset({"fr"}))]
QUEUE_SKILLS = {q.name: q.skills for q in QUEUES}
AGENTS = ["a0", "a1", "a2", "a3"]
SKILLSETS = [frozenset(), frozenset({"tech"}), frozenset({"fr"}), frozenset({"tech", "fr"})]
TEXTS = {"": False, "my invoice": False, "It is URGENT": True, "insurgents": False, "as soon as possible": True}
URGENCY_BONUS = 120.0
OFFER_TIMEOUT, WRAPUP_TIMEOUT, GRACE = 20.0, 30.0, 15.0

A, CS = AgentState, CallbackState
STAFFED = {A.AVAILABLE, A.RESERVED, A.BUSY, A.WRAP_UP}
WAITING = {CS.SCHEDULED, CS.QUEUED, CS.OFFERED}


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.offer_ids = itertools.count(1)  # shared by successive routers: ids never repeat
        self.now = 1000.0
        self.away_on_missed = True
        self.router = self.new_router()
        # the model, fed by events only
        self.agent_state: dict[str, AgentState] = {}
        self.skills: dict[str, frozenset[str]] = {}
        self.requests: dict[str, CallbackRequest] = {}
        self.cb_state: dict[str, CallbackState] = {}   # live callbacks
        self.keys: dict[str, float] = {}
        self.declined: defaultdict[str, set[str]] = defaultdict(set)
        self.offers: dict[str, tuple[str, str]] = {}   # open offer -> (callback, agent)
        self.expires: dict[str, float] = {}
        self.ended: Counter[str] = Counter()
        self.left_at: dict[str, float] = {}

    def new_router(self) -> Router:
        return Router(QUEUES, offer_timeout=OFFER_TIMEOUT, wrapup_timeout=WRAPUP_TIMEOUT,
                      abandon_grace=GRACE, away_on_missed_offer=self.away_on_missed,
                      urgency_bonus=URGENCY_BONUS, id_factory=lambda: f"o{next(self.offer_ids)}")

    @initialize(away=st.booleans(), staff=st.lists(st.tuples(st.sampled_from(SKILLSETS), st.booleans()),
                                                    min_size=len(AGENTS), max_size=len(AGENTS)))
    def configure(self, away: bool, staff: list[tuple[frozenset[str], bool]]) -> None:
        """Start with everybody logged in, some available: the interesting part."""
        self.away_on_missed = away
        self.router = self.new_router()
        for agent, (skills, available) in zip(AGENTS, staff):
            self.skills[agent] = skills
            self.apply(self.router.agent_login(agent, skills, self.now))
            if available:
                self.apply(self.router.set_available(agent, self.now))

    # ------------------------------------------------------------ the model

    def apply(self, events: list[RoutingEvent]) -> None:
        """Replay events into the model, checking each as it comes."""
        for e in events:
            assert e.at == self.now
            if isinstance(e, CallbackScheduled):
                self.cb_state[e.callback_id] = CS.SCHEDULED
            elif isinstance(e, CallbackQueued):
                assert self.cb_state.get(e.callback_id) in (None, CS.SCHEDULED)
                self.cb_state[e.callback_id] = CS.QUEUED
                self.keys[e.callback_id] = e.at - self.bonus(self.requests[e.callback_id])
            elif isinstance(e, OfferMade):
                self.check_offer(e)
                self.offers[e.offer_id] = (e.callback_id, e.agent_id)
                self.expires[e.offer_id] = e.expires_at
                self.cb_state[e.callback_id] = CS.OFFERED
            elif isinstance(e, OfferEnded):
                assert self.offers.pop(e.offer_id) == (e.callback_id, e.agent_id)
                if e.outcome is OfferOutcome.TIMED_OUT:
                    assert self.now >= self.expires[e.offer_id]
                if e.outcome in (OfferOutcome.DECLINED, OfferOutcome.TIMED_OUT):
                    self.declined[e.callback_id].add(e.agent_id)
                if e.outcome is not OfferOutcome.ACCEPTED:
                    self.cb_state[e.callback_id] = CS.QUEUED
            elif isinstance(e, CallbackConnected):
                assert self.cb_state[e.callback_id] is CS.OFFERED
                self.cb_state[e.callback_id] = CS.CONNECTED
            elif isinstance(e, CallbackEnded):
                self.check_end(e)
                self.ended[e.callback_id] += 1
                assert self.ended[e.callback_id] == 1, f"{e.callback_id} ended twice"
                del self.cb_state[e.callback_id]
            elif isinstance(e, AgentStateChanged):
                self.agent_state[e.agent_id] = e.state
            else:
                assert isinstance(e, QueueChanged)

    def bonus(self, request: CallbackRequest) -> float:
        return DEFAULT_TIER_BONUS[request.tier] + (URGENCY_BONUS if TEXTS[request.text] else 0.0)

    def check_offer(self, e: OfferMade) -> None:
        cb, agent = e.callback_id, e.agent_id
        assert self.cb_state[cb] is CS.QUEUED
        assert self.agent_state[agent] is A.AVAILABLE
        assert all(a != agent and c != cb for c, a in self.offers.values()), "two offers"
        queue = self.requests[cb].queue
        assert self.skills[agent] >= QUEUE_SKILLS[queue]
        assert e.expires_at == e.at + OFFER_TIMEOUT
        if agent in self.declined[cb]:  # only once nobody else staffed could take it
            assert not any(self.agent_state.get(o) in STAFFED and self.skills[o] >= QUEUE_SKILLS[queue]
                           for o in AGENTS if o not in self.declined[cb]), f"{cb} re-offered to {agent}"
        for other, state in self.cb_state.items():
            if (state is CS.QUEUED and other != cb and self.requests[other].queue == queue
                    and self.keys[other] < self.keys[cb] and agent not in self.declined[other]):
                raise AssertionError(f"{cb} offered to {agent} before the better {other}")

    def check_end(self, e: CallbackEnded) -> None:
        before = self.cb_state[e.callback_id]
        request = self.requests[e.callback_id]
        if e.state is CS.COMPLETED:
            assert before is CS.CONNECTED and e.agent_id is not None
        else:
            assert before in WAITING
        if e.state is CS.ABANDONED:
            assert request.channel is Channel.BROWSER
            left = self.left_at[e.callback_id]
            assert self.now >= left + GRACE
            if request.scheduled_at is not None:
                assert self.now >= request.scheduled_at + GRACE

    def snapshot(self) -> tuple:
        r = self.router
        return r.agents(), r.callbacks(), r.next_deadline()

    def expect(self, call: Callable[[], list[RoutingEvent]], error: type[Exception] | None) -> None:
        """Run a command; it must fail with ``error`` (changing nothing) or succeed."""
        if error is None:
            self.apply(call())
            return
        before = self.snapshot()
        with pytest.raises(error):
            call()
        assert self.snapshot() == before

    # ------------------------------------------------------------ the clock

    @rule(dt=st.sampled_from([0.0, 0.5, 3.0, 10.0, 19.0, 25.0, 60.0]))
    def advance(self, dt: float) -> None:
        self.now += dt

    @rule(to_deadline=st.booleans())
    def tick(self, to_deadline: bool) -> None:
        deadline = self.router.next_deadline()
        if to_deadline and deadline is not None:
            self.now = max(self.now, deadline)
        self.apply(self.router.tick(self.now))
        deadline = self.router.next_deadline()
        assert deadline is None or deadline > self.now

    # ------------------------------------------------------------ agents

    def agent_error(self, agent: str, allowed: set[AgentState]) -> type[Exception] | None:
        state = self.agent_state.get(agent)
        if state is None:
            return UnknownAgent
        return None if state in allowed else InvalidTransition

    @rule(agent=st.sampled_from(AGENTS), skills=st.sampled_from(SKILLSETS))
    def login(self, agent: str, skills: frozenset[str]) -> None:
        was = self.agent_state.get(agent)
        events = self.router.agent_login(agent, skills, self.now)
        self.skills[agent] = skills
        self.apply(events)
        if was in (None, A.OFFLINE):
            assert events[0] == AgentStateChanged(agent, A.AWAY, "login", self.now)

    @rule(agent=st.sampled_from(AGENTS),
          command=st.sampled_from(["logout", "available", "available", "away", "wrapped up", "accept gone"]))
    def agent_command(self, agent: str, command: str) -> None:
        r, now, ready = self.router, self.now, {A.AWAY, A.WRAP_UP, A.AVAILABLE, A.RESERVED}
        if command == "logout":
            self.expect(lambda: r.agent_logout(agent, now), self.agent_error(agent, set(A) - {A.BUSY}))
        elif command == "available":
            self.expect(lambda: r.set_available(agent, now), self.agent_error(agent, ready))
        elif command == "away":
            self.expect(lambda: r.set_away(agent, "break", now), self.agent_error(agent, ready))
        elif command == "wrapped up":
            error = self.agent_error(agent, {A.WRAP_UP, A.AVAILABLE, A.RESERVED})
            self.expect(lambda: r.finish_wrap_up(agent, now), error)
        else:
            error = UnknownAgent if agent not in self.agent_state else UnknownOffer
            self.expect(lambda: r.accept("o-gone", agent, now), error)

    # ------------------------------------------------------------ callbacks

    @rule(queue=st.sampled_from([q.name for q in QUEUES]), tier=st.sampled_from(list(DEFAULT_TIER_BONUS)),
          text=st.sampled_from(list(TEXTS)), channel=st.sampled_from(list(Channel)),
          delay=st.none() | st.sampled_from([-5.0, 0.0, 10.0, 40.0]))
    def add_callback(self, queue: str, tier: str, text: str, channel: Channel, delay: float | None) -> None:
        cb = f"c{len(self.requests)}"
        request = CallbackRequest(cb, queue, tier, text, channel, created_at=self.now,
                                  scheduled_at=None if delay is None else self.now + delay)
        self.requests[cb] = request
        events = self.router.add_callback(request, self.now)
        self.apply(events)
        assert isinstance(events[0], CallbackScheduled if delay is not None and delay > 0 else CallbackQueued)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), command=st.sampled_from(["cancel", "left", "left", "returned"]))
    def customer_command(self, data: st.DataObject, command: str) -> None:
        live = sorted(self.cb_state)
        cb = data.draw(st.sampled_from(live) if live and data.draw(st.booleans()) else st.sampled_from(sorted(self.requests)))
        r, now = self.router, self.now
        error = UnknownCallback if cb not in self.cb_state else None
        if command == "cancel":
            if error is None and self.cb_state[cb] is CS.CONNECTED:
                error = InvalidTransition
            self.expect(lambda: r.cancel(cb, now), error)
        elif command == "left":
            self.expect(lambda: r.customer_left(cb, now), error)
            if error is None and self.requests[cb].channel is Channel.BROWSER and self.cb_state[cb] is not CS.CONNECTED:
                self.left_at.setdefault(cb, now)
        else:
            self.expect(lambda: r.customer_returned(cb, now), error)
            self.left_at.pop(cb, None)

    @precondition(lambda self: self.offers)
    @rule(data=st.data(), accept=st.booleans(), wrong_agent=st.sampled_from([False, False, False, True]))
    def answer_offer(self, data: st.DataObject, accept: bool, wrong_agent: bool) -> None:
        offer = data.draw(st.sampled_from(sorted(self.offers)))
        agent = self.offers[offer][1]
        error = None
        if wrong_agent:
            others = [a for a in self.agent_state if a != agent]
            if others:
                agent, error = data.draw(st.sampled_from(others)), InvalidTransition
        command = self.router.accept if accept else self.router.decline
        self.expect(lambda: command(offer, agent, self.now), error)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), right_agent=st.booleans())
    def end_contact(self, data: st.DataObject, right_agent: bool) -> None:
        connected = sorted(c for c, s in self.cb_state.items() if s is CS.CONNECTED)
        cb = data.draw(st.sampled_from(connected if connected and right_agent else sorted(self.requests)))
        agent = data.draw(st.sampled_from(AGENTS))
        if right_agent and connected:
            agent = self.router.callback(cb).agent_id
        if agent not in self.agent_state:
            error = UnknownAgent
        elif cb not in self.cb_state:
            error = UnknownCallback
        elif self.cb_state[cb] is not CS.CONNECTED or self.router.callback(cb).agent_id != agent:
            error = InvalidTransition
        else:
            error = None
        self.expect(lambda: self.router.end_contact(cb, agent, self.now), error)

    # ------------------------------------------------------------ the admin console

    @rule(fallback=st.sampled_from(["sales", "support"]))
    def delete_a_queue(self, fallback: str) -> None:
        """An admin deletes "fr" (whoever waits in it moves to ``fallback``), then makes it again."""
        for c, state in self.cb_state.items():
            if state is not CS.CONNECTED and self.requests[c].queue == "fr":
                self.requests[c] = dataclasses.replace(self.requests[c], queue=fallback)
        self.apply(self.router.remove_queue("fr", fallback, self.now))
        assert "fr" not in {q.name for q in self.router.queues()}
        self.router.add_queue(QUEUES[2])

    # ------------------------------------------------------------ failover

    @rule()
    def failover(self) -> None:
        """A new leader rebuilds the router from what the old one showed."""
        old, new = self.router, self.new_router()
        for view in old.agents():
            new.restore_agent(view.id, view.skills, view.state, view.reason, view.since)
        for view in old.callbacks():  # arrival order, as the database would give it
            new.restore_callback(self.requests[view.id], view.state, enqueued_at=view.enqueued_at,
                                 agent_id=view.agent_id if view.state is CS.CONNECTED else None,
                                 connected_at=view.enqueued_at)
        # pending offers, declines and absences are not carried over
        self.offers.clear()
        self.declined.clear()
        self.left_at.clear()
        self.agent_state = {a: A.AVAILABLE if s is A.RESERVED else s for a, s in self.agent_state.items()}
        self.cb_state = {c: CS.QUEUED if s is CS.OFFERED else s for c, s in self.cb_state.items()}
        self.router = new
        self.apply(new.rebalance(self.now))

    def teardown(self) -> None:
        """Drain: every callback ever added must end exactly once."""
        for view in self.router.callbacks():
            if view.state is CS.CONNECTED:
                self.apply(self.router.end_contact(view.id, view.agent_id, self.now))
            else:
                self.apply(self.router.cancel(view.id, self.now))
        assert self.router.callbacks() == []
        assert all(self.ended[c] == 1 for c in self.requests)

    # ------------------------------------------------------------ invariants

    @invariant()
    def views_agree_with_the_events(self) -> None:
        r = self.router
        agents = {v.id: v for v in r.agents()}
        cbs = {v.id: v for v in r.callbacks()}
        assert {a: v.state for a, v in agents.items()} == self.agent_state
        assert {c: v.state for c, v in cbs.items()} == self.cb_state
        assert {v.offer_id: (c, v.agent_id) for c, v in cbs.items() if v.offer_id} == self.offers
        for a, v in agents.items():
            assert (v.state is A.RESERVED) == (v.offer_id is not None)
            assert v.offer_id is None or self.offers[v.offer_id][1] == a
            assert (v.state is A.BUSY) == (v.callback_id is not None)
            if v.callback_id is not None:
                assert cbs[v.callback_id].state is CS.CONNECTED and cbs[v.callback_id].agent_id == a
        for c, v in cbs.items():
            assert (v.state is CS.OFFERED) == (v.offer_id is not None)
            assert (v.agent_id is not None) == (v.state in (CS.OFFERED, CS.CONNECTED))
        for c in self.ended:
            assert c not in cbs

    @invariant()
    def no_callback_waits_for_an_idle_agent(self) -> None:
        agents = self.router.agents()
        for cb in self.router.callbacks():
            if cb.state is not CS.QUEUED:
                continue
            need = QUEUE_SKILLS[cb.queue]
            able = [a for a in agents if a.skills >= need]
            for agent in able:
                if agent.state is A.AVAILABLE:
                    declined = self.declined[cb.id]
                    assert agent.id in declined, f"{cb.id} waits while {agent.id} is idle"
                    assert any(o.state in STAFFED and o.id not in declined for o in able), \
                        f"{cb.id} kept from {agent.id} though nobody else could take it"

    @invariant()
    def waiting_lines_are_in_priority_order(self) -> None:
        r = self.router
        for q in QUEUES:
            ids = r.waiting(q.name)
            assert set(ids) == {c for c, s in self.cb_state.items() if s is CS.QUEUED
                                and self.requests[c].queue == q.name}
            keys = [self.keys[c] for c in ids]
            assert keys == sorted(keys)
            for i, c in enumerate(ids):
                assert r.position(c) == i + 1
            assert r.queue_view(q.name, self.now).waiting == len(ids)


RouterMachine.TestCase.settings = settings(
    max_examples=120, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterMachine = RouterMachine.TestCase


# ------------------------------------------------------------ the waiting line

class _Item:
    def __init__(self, key: float, seq: int) -> None:
        self.key, self.seq, self.entry = key, seq, None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["push", "push", "remove", "first"]),
                          st.integers(0, 20), st.integers(0, 400)), max_size=300))
def test_waiting_line_matches_a_sorted_list(ops: list[tuple[str, int, int]]) -> None:
    """The lazy-deletion heap gives the order, positions and skips of a sorted list."""
    line, model, seq = WaitingLine(), [], itertools.count()
    for op, key, pick in ops:
        if op == "push":
            item = _Item(float(key), next(seq))
            line.push(item)
            model.append(item)
        elif op == "remove" and model:
            item = model.pop(pick % len(model))
            line.remove(item)
        elif op == "first":
            ordered = sorted(model, key=lambda i: (i.key, i.seq))
            skipped = {id(i) for i in ordered[: pick % 4]}
            expected = next((i for i in ordered if id(i) not in skipped), None)
            assert line.first(lambda i: id(i) in skipped) is expected
        ordered = sorted(model, key=lambda i: (i.key, i.seq))
        assert len(line) == len(model)
        assert line.ordered() == ordered
        assert line.first() is (ordered[0] if ordered else None)
    for n, item in enumerate(sorted(model, key=lambda i: (i.key, i.seq)), 1):
        assert line.position(item) == n
