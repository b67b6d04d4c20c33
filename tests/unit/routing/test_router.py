"""Examples of the routing core's behaviour (``desktop.routing.router``)."""

from __future__ import annotations

import itertools

import pytest

from desktop.routing import (
    AgentState, AgentStateChanged, CallbackConnected, CallbackEnded, CallbackQueued,
    CallbackRequest, CallbackScheduled, CallbackState, Channel, DuplicateCallback,
    InvalidRequest, InvalidTransition, OfferEnded, OfferMade, OfferOutcome, QueueChanged,
    QueueConfig, Router, RoutingError, UnknownAgent, UnknownCallback, UnknownOffer, UnknownQueue,
)
from desktop.routing.events import LINE_DROPPED

QUEUES = [QueueConfig("sales"), QueueConfig("support", frozenset({"tech"}))]


def make_router(**options: object) -> Router:
    return Router(QUEUES, **options)


def staff(router: Router, *agents: str, skills: tuple[str, ...] = (), now: float = 0.0) -> None:
    """Log agents in and make them available, one second apart, in order."""
    for i, agent in enumerate(agents):
        router.agent_login(agent, skills, now + i)
        router.set_available(agent, now + i)


def offers(events: list) -> list[OfferMade]:
    return [e for e in events if isinstance(e, OfferMade)]


def only_offer(events: list) -> OfferMade:
    made = offers(events)
    assert len(made) == 1, events
    return made[0]


def callback(id: str, queue: str = "sales", **fields: object) -> CallbackRequest:
    return CallbackRequest(id=id, queue=queue, **fields)


# ----------------------------------------------------------------- priority

def test_higher_tier_jumps_the_queue_within_its_bonus() -> None:
    router = make_router()
    router.add_callback(callback("std"), 0.0)
    router.add_callback(callback("gold", tier="gold"), 100.0)      # 180 s bonus: ahead
    router.add_callback(callback("silver", tier="silver"), 70.0)   # 60 s bonus: 70-60=10 > 0
    assert router.waiting("sales") == ["gold", "std", "silver"]
    assert router.position("silver") == 3
    staff(router, "a1", now=200.0)
    assert router.callback("gold").state is CallbackState.OFFERED
    assert router.waiting("sales") == ["std", "silver"]
    assert router.position("gold") is None


def test_urgent_words_add_the_urgency_bonus_as_whole_words() -> None:
    router = make_router()
    router.add_callback(callback("plain", text="my invoice"), 0.0)
    router.add_callback(callback("insurgent", text="Insurgent films"), 1.0)
    router.add_callback(callback("phrase", text="Call me AS SOON\nas possible!"), 100.0)
    router.add_callback(callback("urgent", text="This is URGENT."), 110.0)
    assert router.callback("plain").priority == 0.0
    assert router.callback("insurgent").priority == 0.0
    assert router.callback("phrase").priority == 120.0
    # phrase: 100-120=-20, urgent: 110-120=-10, plain: 0, insurgent: 1
    assert router.waiting("sales") == ["phrase", "urgent", "plain", "insurgent"]


def test_tier_and_urgency_add_up_and_ties_go_by_arrival() -> None:
    router = make_router(urgent_words=["help"], urgency_bonus=50.0,
                         tier_bonus={"standard": 0.0, "gold": 100.0})
    router.add_callback(callback("b"), 150.0)
    router.add_callback(callback("a", tier="gold", text="help"), 300.0)  # 300-150 = 150, tie with b
    router.add_callback(callback("c"), 150.0)
    assert router.callback("a").priority == 150.0
    assert router.waiting("sales") == ["b", "a", "c"]


def test_unknown_tier_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="tier"):
        make_router().add_callback(callback("c1", tier="diamond"), 0.0)


# -------------------------------------------------------------- agent choice

def test_the_longest_idle_agent_gets_a_new_callback() -> None:
    router = make_router()
    staff(router, "a1", "a2", "a3")
    router.set_away("a1", "lunch", 5.0)
    router.set_available("a1", 6.0)  # now the newest idle
    offer = only_offer(router.add_callback(callback("c1"), 10.0))
    assert offer.agent_id == "a2"
    assert offer.expires_at == 30.0
    assert router.agent("a2").state is AgentState.RESERVED
    assert router.agent("a2").offer_id == offer.offer_id


def test_an_agent_without_the_skills_is_never_offered_the_queue() -> None:
    router = make_router()
    staff(router, "novice")
    events = router.add_callback(callback("c1", "support"), 10.0)
    assert offers(events) == []
    assert events[-1] == QueueChanged("support", 10.0)
    staff(router, "expert", skills=("tech", "fr"), now=20.0)
    assert router.callback("c1").agent_id == "expert"


def test_a_newly_available_agent_gets_the_best_callback_across_its_queues() -> None:
    router = make_router()
    router.add_callback(callback("s1"), 0.0)
    router.add_callback(callback("t1", "support", tier="platinum"), 50.0)
    router.add_callback(callback("s2", tier="gold"), 10.0)
    staff(router, "a1", skills=("tech",), now=100.0)
    assert router.agent("a1").offer_id is not None
    assert router.callback("t1").agent_id == "a1"   # key 50-300 beats 10-180 and 0


def test_add_callback_events_and_accept_flow() -> None:
    router = make_router(id_factory=iter(["x", "y"]).__next__)
    staff(router, "a1")
    events = router.add_callback(callback("c1"), 10.0)
    assert events == [
        CallbackQueued("c1", "sales", 10.0),
        OfferMade("x", "c1", "a1", 10.0, 30.0),
        AgentStateChanged("a1", AgentState.RESERVED, "", 10.0),
    ]
    assert router.accept("x", "a1", 12.0) == [
        OfferEnded("x", "c1", "a1", OfferOutcome.ACCEPTED, 12.0),
        CallbackConnected("c1", "a1", "x", 12.0),
        AgentStateChanged("a1", AgentState.BUSY, "", 12.0),
    ]
    assert router.agent("a1").callback_id == "c1"
    assert router.end_contact("c1", "a1", 100.0) == [
        CallbackEnded("c1", CallbackState.COMPLETED, "a1", 100.0),
        AgentStateChanged("a1", AgentState.WRAP_UP, "", 100.0),
    ]
    with pytest.raises(UnknownCallback):  # ended callbacks are forgotten
        router.callback("c1")
    assert router.callbacks() == []


# ------------------------------------------------------------ declines, timeouts

def test_decline_goes_to_the_next_agent_and_not_back() -> None:
    router = make_router()
    staff(router, "a1", "a2")
    first = only_offer(router.add_callback(callback("c1"), 10.0))
    assert first.agent_id == "a1"
    events = router.decline(first.offer_id, "a1", 11.0)
    assert events[0] == OfferEnded(first.offer_id, "c1", "a1", OfferOutcome.DECLINED, 11.0)
    assert events[1] == AgentStateChanged("a1", AgentState.AVAILABLE, "", 11.0)
    assert only_offer(events).agent_id == "a2"
    # a2 declines too: now everyone staffed has declined, so a1 may get it again
    events = router.decline(router.agent("a2").offer_id, "a2", 12.0)
    assert only_offer(events).agent_id == "a1"


def test_declined_callback_waits_for_another_agent_while_one_is_staffed() -> None:
    router = make_router()
    staff(router, "a1", "a2")
    router.add_callback(callback("busy-maker"), 5.0)
    router.accept(router.agent("a1").offer_id, "a1", 5.0)        # a1 busy
    offer = only_offer(router.add_callback(callback("c1"), 10.0))  # to a2
    router.add_callback(callback("c2"), 11.0)
    events = router.decline(offer.offer_id, "a2", 12.0)
    assert only_offer(events).callback_id == "c2"                # a2 gets the next one
    router.decline(router.agent("a2").offer_id, "a2", 13.0)      # a2 declines c2 as well
    assert router.agent("a2").state is AgentState.AVAILABLE
    assert router.waiting("sales") == ["c1", "c2"]               # kept for a1
    router.end_contact("busy-maker", "a1", 20.0)
    assert only_offer(router.finish_wrap_up("a1", 21.0)).callback_id == "c1"
    # a1 going away leaves a2 as the only one staffed: a2 may now have c1
    # (back from a1, and better than c2) although a2 declined it
    router.set_away("a1", "break", 22.0)
    assert router.callback("c1").agent_id == "a2"


def test_offer_timeout_sends_the_agent_away_and_the_callback_on() -> None:
    router = make_router(offer_timeout=15.0)
    staff(router, "a1", "a2")
    first = only_offer(router.add_callback(callback("c1"), 10.0))
    assert router.next_deadline() == 25.0
    assert router.tick(24.9) == []
    events = router.tick(25.0)
    assert events[0] == OfferEnded(first.offer_id, "c1", "a1", OfferOutcome.TIMED_OUT, 25.0)
    assert events[1] == AgentStateChanged("a1", AgentState.AWAY, "missed offer", 25.0)
    assert only_offer(events).agent_id == "a2"
    with pytest.raises(UnknownOffer):
        router.accept(first.offer_id, "a1", 26.0)


def test_offer_timeout_can_leave_the_agent_available() -> None:
    router = make_router(offer_timeout=15.0, away_on_missed_offer=False)
    staff(router, "a1", "a2")
    router.add_callback(callback("c1"), 10.0)
    router.add_callback(callback("c2"), 11.0)                    # to a2
    events = router.tick(25.0)
    assert AgentStateChanged("a1", AgentState.AVAILABLE, "", 25.0) in events
    assert router.agent("a1").state is AgentState.AVAILABLE      # c1 waits for a2
    assert router.waiting("sales") == ["c1"]


def test_a_lone_agent_that_misses_an_offer_gets_it_again_when_back() -> None:
    router = make_router(offer_timeout=15.0)
    staff(router, "a1")
    router.add_callback(callback("c1"), 10.0)
    router.tick(25.0)
    assert router.agent("a1").state is AgentState.AWAY
    assert only_offer(router.set_available("a1", 30.0)).callback_id == "c1"


def test_wrap_up_times_out_to_available() -> None:
    router = make_router(wrapup_timeout=30.0)
    staff(router, "a1")
    router.add_callback(callback("c1"), 10.0)
    router.accept(router.agent("a1").offer_id, "a1", 11.0)
    router.end_contact("c1", "a1", 50.0)
    router.add_callback(callback("c2"), 60.0)
    assert router.next_deadline() == 80.0
    events = router.tick(80.0)
    assert events[0] == AgentStateChanged("a1", AgentState.AVAILABLE, "", 80.0)
    assert only_offer(events).callback_id == "c2"
    assert router.finish_wrap_up("a1", 81.0) == []  # the timeout won the race: fine


def test_finishing_wrap_up_early_cancels_the_timeout() -> None:
    router = make_router(wrapup_timeout=30.0)
    staff(router, "a1")
    router.add_callback(callback("c1"), 10.0)
    router.accept(router.agent("a1").offer_id, "a1", 11.0)
    router.end_contact("c1", "a1", 50.0)
    router.finish_wrap_up("a1", 55.0)
    router.set_away("a1", "break", 56.0)
    assert router.next_deadline() is None
    assert router.tick(100.0) == []
    assert router.agent("a1").state is AgentState.AWAY


# ------------------------------------------------------ scheduling, abandoning

def test_a_scheduled_callback_enters_the_queue_at_its_time() -> None:
    router = make_router()
    staff(router, "a1")
    events = router.add_callback(callback("c1", scheduled_at=500.0), 10.0)
    assert events == [CallbackScheduled("c1", "sales", 500.0, 10.0)]
    assert router.callback("c1").state is CallbackState.SCHEDULED
    assert router.estimated_wait("c1", "sales", 100.0) == 400.0
    assert router.next_deadline() == 500.0
    events = router.tick(500.0)
    assert events[0] == CallbackQueued("c1", "sales", 500.0)
    assert only_offer(events).agent_id == "a1"


def test_a_scheduled_time_already_past_queues_at_once() -> None:
    router = make_router()
    assert router.add_callback(callback("c1", scheduled_at=5.0), 10.0)[0] == CallbackQueued("c1", "sales", 10.0)


def test_a_customer_gone_past_the_grace_is_abandoned() -> None:
    router = make_router(abandon_grace=60.0)
    router.add_callback(callback("c1"), 0.0)
    router.add_callback(callback("c2"), 1.0)
    assert router.customer_left("c1", 10.0) == []
    router.customer_left("c2", 10.0)
    router.customer_returned("c2", 20.0)
    assert router.tick(69.0) == []
    events = router.tick(70.0)
    assert events == [CallbackEnded("c1", CallbackState.ABANDONED, None, 70.0), QueueChanged("sales", 70.0)]
    assert router.waiting("sales") == ["c2"]
    assert router.next_deadline() is None


def test_an_offered_callback_is_abandoned_and_its_agent_freed() -> None:
    router = make_router(abandon_grace=10.0, offer_timeout=60.0)
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1"), 0.0))
    router.add_callback(callback("c2"), 1.0)
    router.customer_left("c1", 2.0)
    events = router.tick(12.0)
    assert events[:3] == [
        OfferEnded(offer.offer_id, "c1", "a1", OfferOutcome.WITHDRAWN, 12.0),
        CallbackEnded("c1", CallbackState.ABANDONED, None, 12.0),
        AgentStateChanged("a1", AgentState.AVAILABLE, "", 12.0),
    ]
    assert only_offer(events).callback_id == "c2"


def test_phone_callbacks_are_never_abandoned() -> None:
    router = make_router(abandon_grace=10.0)
    router.add_callback(callback("c1", channel=Channel.PHONE), 0.0)
    assert router.customer_left("c1", 1.0) == []
    assert router.next_deadline() is None
    assert router.tick(1000.0) == []
    assert router.callback("c1").state is CallbackState.QUEUED


def test_inbound_calls_are_not_abandoned_for_want_of_a_page_but_at_once_when_the_caller_hangs_up() -> None:
    router = make_router(abandon_grace=10.0)
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1", channel=Channel.PHONE_INBOUND), 1.0))
    assert router.customer_left("c1", 1.0) == [] and router.tick(12.0) == []  # past the grace, before the offer times out
    events = router.abandon("c1", 2.0)
    assert events[:3] == [
        OfferEnded(offer.offer_id, "c1", "a1", OfferOutcome.WITHDRAWN, 2.0),
        CallbackEnded("c1", CallbackState.ABANDONED, None, 2.0),
        AgentStateChanged("a1", AgentState.AVAILABLE, "", 2.0),
    ]


def test_a_connected_call_is_not_abandoned() -> None:
    router = make_router()
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1", channel=Channel.PHONE_INBOUND), 1.0))
    router.accept(offer.offer_id, "a1", 2.0)
    with pytest.raises(InvalidTransition):
        router.abandon("c1", 3.0)


def test_a_caller_whose_line_dropped_is_abandoned_while_waiting_and_ended_once_connected() -> None:
    router = make_router()
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1", channel=Channel.PHONE_INBOUND), 1.0))
    router.add_callback(callback("c2", channel=Channel.PHONE_INBOUND), 1.5)  # waits: a1 is reserved
    events = router.callers_gone(["c1"], 2.0, reason=LINE_DROPPED)
    assert events[:2] == [OfferEnded(offer.offer_id, "c1", "a1", OfferOutcome.WITHDRAWN, 2.0),
                          CallbackEnded("c1", CallbackState.ABANDONED, None, 2.0, LINE_DROPPED)]
    second = only_offer(events)  # a1 is free again: offered the caller still on the line
    assert second.callback_id == "c2"
    router.accept(second.offer_id, "a1", 3.0)
    ended = router.callers_gone(["c2"], 4.0, reason=LINE_DROPPED)
    assert ended[:2] == [CallbackEnded("c2", CallbackState.COMPLETED, "a1", 4.0, LINE_DROPPED),
                         AgentStateChanged("a1", AgentState.WRAP_UP, "", 4.0)]
    assert router.callers_gone(["c2", "nobody"], 5.0, reason=LINE_DROPPED) == []  # over, or unknown: nothing


def test_callers_gone_together_free_no_agent_for_one_of_them() -> None:
    router = make_router()
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1", channel=Channel.PHONE_INBOUND), 1.0))
    router.add_callback(callback("c2", channel=Channel.PHONE_INBOUND), 1.5)
    events = router.callers_gone(["c1", "c2"], 2.0, reason=LINE_DROPPED)
    assert not any(isinstance(event, OfferMade) for event in events)  # a1 is not offered c2 on the way
    assert [e.callback_id for e in events if isinstance(e, CallbackEnded)] == ["c2", "c1"]
    assert router.agent("a1").state is AgentState.AVAILABLE and offer.callback_id == "c1"


def test_a_scheduled_callbacks_grace_counts_from_its_time() -> None:
    router = make_router(abandon_grace=60.0)
    router.add_callback(callback("c1", scheduled_at=1000.0), 0.0)
    router.customer_left("c1", 5.0)
    router.tick(999.0)
    assert router.callback("c1").state is CallbackState.SCHEDULED
    router.tick(1000.0)
    assert router.callback("c1").state is CallbackState.QUEUED
    assert router.tick(1060.0)[0] == CallbackEnded("c1", CallbackState.ABANDONED, None, 1060.0)


# -------------------------------------------------------------- cancelling

def test_cancel_while_offered_frees_the_agent_for_the_next_callback() -> None:
    router = make_router()
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1"), 10.0))
    router.add_callback(callback("c2"), 11.0)
    events = router.cancel("c1", 12.0)
    assert events[:3] == [
        OfferEnded(offer.offer_id, "c1", "a1", OfferOutcome.WITHDRAWN, 12.0),
        CallbackEnded("c1", CallbackState.CANCELLED, None, 12.0),
        AgentStateChanged("a1", AgentState.AVAILABLE, "", 12.0),
    ]
    assert only_offer(events).callback_id == "c2"
    with pytest.raises(UnknownCallback):
        router.cancel("c1", 13.0)


def test_cancel_while_queued_or_scheduled_and_not_once_connected() -> None:
    router = make_router()
    router.add_callback(callback("q"), 0.0)
    router.add_callback(callback("s", scheduled_at=100.0), 0.0)
    assert router.cancel("q", 1.0) == [CallbackEnded("q", CallbackState.CANCELLED, None, 1.0),
                                       QueueChanged("sales", 1.0)]
    assert router.cancel("s", 1.0) == [CallbackEnded("s", CallbackState.CANCELLED, None, 1.0)]
    assert router.tick(200.0) == []
    staff(router, "a1")
    router.add_callback(callback("c"), 2.0)
    router.accept(router.agent("a1").offer_id, "a1", 3.0)
    with pytest.raises(InvalidTransition, match='connected to agent "a1"'):
        router.cancel("c", 4.0)


# ----------------------------------------------------------- agent moves

def test_going_away_while_reserved_puts_the_callback_back_in_its_place() -> None:
    router = make_router()
    router.add_callback(callback("c0"), 0.0)
    router.add_callback(callback("c1"), 1.0)
    staff(router, "a1", now=5.0)  # gets c0
    offer_id = router.agent("a1").offer_id
    events = router.set_away("a1", "phone rang", 6.0)
    assert events == [
        OfferEnded(offer_id, "c0", "a1", OfferOutcome.WITHDRAWN, 6.0),
        AgentStateChanged("a1", AgentState.AWAY, "phone rang", 6.0),
        QueueChanged("sales", 6.0),
    ]
    assert router.waiting("sales") == ["c0", "c1"]
    assert router.callback("c0").enqueued_at == 0.0


def test_logout_withdraws_an_offer_and_is_refused_while_busy() -> None:
    router = make_router()
    staff(router, "a1", "a2")
    router.add_callback(callback("c1"), 10.0)   # a1
    events = router.agent_logout("a1", 11.0)
    assert AgentStateChanged("a1", AgentState.OFFLINE, "logout", 11.0) in events
    assert only_offer(events).agent_id == "a2"
    router.accept(router.agent("a2").offer_id, "a2", 12.0)
    with pytest.raises(InvalidTransition, match='Cannot log out: agent "a2" is busy'):
        router.agent_logout("a2", 13.0)
    assert router.agent_logout("a1", 14.0) == []  # already offline


def test_login_is_idempotent_and_updates_skills() -> None:
    router = make_router()
    assert router.agent_login("a1", [], 0.0) == [AgentStateChanged("a1", AgentState.AWAY, "login", 0.0)]
    router.set_available("a1", 1.0)
    router.add_callback(callback("t1", "support"), 2.0)
    events = router.agent_login("a1", ["tech"], 3.0)
    assert only_offer(events).callback_id == "t1"
    assert router.agent("a1").skills == frozenset({"tech"})
    assert router.agent("a1").state is AgentState.RESERVED


def test_illegal_moves_name_the_current_state() -> None:
    router = make_router()
    staff(router, "a1", "a2")
    offer = only_offer(router.add_callback(callback("c1"), 10.0))
    with pytest.raises(InvalidTransition, match=f'Cannot accept offer "{offer.offer_id}": agent "a2" is available'):
        router.accept(offer.offer_id, "a2", 11.0)
    with pytest.raises(InvalidTransition, match='Cannot end contact "c1": callback is offered'):
        router.end_contact("c1", "a1", 11.0)
    router.agent_login("a3", [], 11.0)
    with pytest.raises(InvalidTransition, match='Cannot finish wrap-up: agent "a3" is away'):
        router.finish_wrap_up("a3", 11.0)
    router.accept(offer.offer_id, "a1", 12.0)
    with pytest.raises(InvalidTransition, match="busy"):
        router.set_away("a1", "x", 13.0)
    with pytest.raises(InvalidTransition, match='connected to agent "a1"'):
        router.end_contact("c1", "a2", 13.0)
    router.agent_logout("a3", 14.0)
    with pytest.raises(InvalidTransition, match="offline"):
        router.set_available("a3", 14.0)
    assert router.set_available("a2", 14.0) == []  # already available


def test_unknown_ids_raise_lookup_errors() -> None:
    router = make_router()
    with pytest.raises(UnknownAgent):
        router.set_available("nobody", 0.0)
    with pytest.raises(UnknownCallback):
        router.cancel("nothing", 0.0)
    with pytest.raises(UnknownQueue):
        router.add_callback(callback("c1", "nowhere"), 0.0)
    router.agent_login("a1", [], 0.0)
    with pytest.raises(UnknownOffer):
        router.accept("o404", "a1", 0.0)
    for error in (UnknownAgent, UnknownCallback, UnknownQueue, UnknownOffer):
        assert issubclass(error, RoutingError) and issubclass(error, LookupError)
    router.add_callback(callback("c1"), 0.0)
    with pytest.raises(DuplicateCallback):
        router.add_callback(callback("c1"), 1.0)


def test_a_failed_command_changes_nothing() -> None:
    router = make_router()
    staff(router, "a1")
    router.add_callback(callback("c1"), 1.0)
    before = (router.agents(), router.callbacks(), router.next_deadline())
    with pytest.raises(RoutingError):
        router.decline(router.agent("a1").offer_id, "a2-unknown", 2.0)
    with pytest.raises(RoutingError):
        router.add_callback(callback("c2", tier="bogus"), 2.0)
    assert (router.agents(), router.callbacks(), router.next_deadline()) == before


# ------------------------------------------------------------ estimates, views

def test_estimated_wait_from_handle_times_and_staffing() -> None:
    router = make_router()
    assert router.estimated_wait(None, "sales", 0.0) is None  # nobody staffed
    staff(router, "a1", "a2")
    assert router.estimated_wait(None, "sales", 0.0) == 0.0   # two agents idle
    for i in range(3):
        router.add_callback(callback(f"c{i}"), 10.0 + i)       # c0, c1 offered; c2 waits
    router.record_handle_time("sales", 100.0)
    router.record_handle_time("sales", 200.0)
    # c2 first in line, 2 staffed: (ceil(1/2) - 0.5) * 150
    assert router.estimated_wait("c2", "sales", 20.0) == 75.0
    assert router.estimated_wait("c0", "sales", 20.0) == 0.0    # offered
    # a newcomer would be 2nd: still one round
    assert router.estimated_wait(None, "sales", 20.0) == 75.0
    router.add_callback(callback("c3"), 21.0)
    assert router.estimated_wait(None, "sales", 22.0) == 225.0  # 3rd: two rounds
    view = router.queue_view("sales", 30.0)
    assert (view.name, view.waiting, view.longest_wait, view.agents_staffed, view.agents_available) == (
        "sales", 2, 18.0, 2, 0)
    assert view.estimated_wait == 225.0
    assert router.queue_view("support", 30.0).estimated_wait is None


def test_handle_times_come_from_contacts_and_default_to_180s() -> None:
    router = make_router()
    staff(router, "a1")
    router.add_callback(callback("c0"), 0.0)
    router.add_callback(callback("c1"), 1.0)
    assert router.estimated_wait("c1", "sales", 2.0) == 90.0   # (1 - 0.5) * 180
    router.accept(router.agent("a1").offer_id, "a1", 10.0)
    router.end_contact("c0", "a1", 70.0)
    assert router.estimated_wait("c1", "sales", 71.0) == 30.0  # (1 - 0.5) * 60


def test_away_agents_are_not_staffed() -> None:
    router = make_router()
    staff(router, "a1")
    router.set_away("a1", "lunch", 1.0)
    assert router.queue_view("sales", 2.0).agents_staffed == 0
    assert router.estimated_wait(None, "sales", 2.0) is None


# --------------------------------------------------------------- failover

def test_restore_then_rebalance_rebuilds_and_offers() -> None:
    ids = itertools.count(100)
    old = make_router()
    staff(old, "a1", "a2", "a3")
    old.add_callback(callback("connected"), 10.0)
    old.accept(old.agent("a1").offer_id, "a1", 11.0)
    old.add_callback(callback("offered"), 12.0)                          # to a2
    old.add_callback(callback("gold", tier="gold"), 13.0)                # to a3
    old.agent_logout("a3", 14.0)                                         # gold back in the queue
    old.add_callback(callback("later", scheduled_at=500.0), 15.0)
    old.set_away("a2", "x", 16.0)                                        # "offered" queued
    old.set_available("a2", 17.0)                                        # gets gold
    states = {v.id: v for v in old.agents()}
    cbs = {v.id: v for v in old.callbacks()}
    assert cbs["gold"].state is CallbackState.OFFERED and cbs["offered"].state is CallbackState.QUEUED

    new = Router(QUEUES, id_factory=lambda: f"n{next(ids)}")
    for view in states.values():
        new.restore_agent(view.id, view.skills, view.state, view.reason, view.since)
    requests = {"connected": callback("connected"), "offered": callback("offered"),
                "gold": callback("gold", tier="gold"), "later": callback("later", scheduled_at=500.0)}
    for cb in sorted(cbs.values(), key=lambda v: (v.enqueued_at or 0.0)):
        new.restore_callback(requests[cb.id], cb.state, enqueued_at=cb.enqueued_at,
                             agent_id=cb.agent_id if cb.state is CallbackState.CONNECTED else None,
                             connected_at=11.0)
    assert new.agent("a2").state is AgentState.AVAILABLE                 # RESERVED restored available
    assert new.agent("a1").state is AgentState.BUSY
    assert new.callback("connected").agent_id == "a1"
    assert new.waiting("sales") == ["gold", "offered"]
    events = new.rebalance(20.0)
    assert only_offer(events) == OfferMade("n100", "gold", "a2", 20.0, 40.0)
    assert new.next_deadline() == 40.0
    new.end_contact("connected", "a1", 30.0)
    assert new.callback("later").state is CallbackState.SCHEDULED
    assert CallbackQueued("later", "sales", 500.0) in new.tick(500.0)


def test_restore_wrap_up_and_busy_without_a_callback() -> None:
    router = make_router(wrapup_timeout=60.0)
    router.restore_agent("w", [], AgentState.WRAP_UP, "", 100.0)
    router.restore_agent("b", [], AgentState.BUSY, "", 100.0)
    events = router.rebalance(120.0)
    assert events == [AgentStateChanged("b", AgentState.WRAP_UP, "", 120.0)]
    assert router.next_deadline() == 160.0
    assert router.tick(160.0) == [AgentStateChanged("w", AgentState.AVAILABLE, "", 160.0)]
    with pytest.raises(InvalidRequest):
        router.restore_agent("w", [], AgentState.AWAY, "", 0.0)


def test_router_options_are_checked() -> None:
    with pytest.raises(InvalidRequest):
        Router(offer_timeout=0)
    with pytest.raises(InvalidRequest):
        Router(abandon_grace=-1)


# ------------------------------------------------------------- odds and ends

def test_urgency_matcher_words_and_phrases() -> None:
    from desktop.routing.priority import UrgencyMatcher

    matcher = UrgencyMatcher(["a.s.a.p", "right now", "Dringend"])
    assert matcher("Please call A.S.A.P.")
    assert matcher("I need it right\tnow!")
    assert matcher("DRINGEND bitte")
    assert not matcher("rightnow")
    assert not matcher("not urgent at all")
    assert not UrgencyMatcher([])("anything urgent")


def test_changing_a_queues_skills_takes_effect_on_rebalance() -> None:
    router = make_router()
    staff(router, "a1")
    router.add_callback(callback("t1", "support"), 10.0)
    router.add_queue(QueueConfig("support", frozenset(), service_level_target=30.0))
    assert router.waiting("support") == ["t1"]
    assert only_offer(router.rebalance(11.0)).agent_id == "a1"
    assert router.queues()[1].service_level_target == 30.0


def test_logout_from_wrap_up_and_skills_change_while_reserved() -> None:
    router = make_router()
    staff(router, "a1")
    offer = only_offer(router.add_callback(callback("c1"), 10.0))
    assert router.agent_login("a1", ["tech"], 11.0) == []   # the offer stands
    router.accept(offer.offer_id, "a1", 12.0)
    router.end_contact("c1", "a1", 13.0)
    assert router.agent_logout("a1", 14.0) == [AgentStateChanged("a1", AgentState.OFFLINE, "logout", 14.0)]
    assert router.next_deadline() is None                     # the wrap-up timer died with it


def test_dead_timers_do_not_pile_up() -> None:
    router = make_router()
    for i in range(5000):
        router.add_callback(callback(f"c{i}", scheduled_at=1e6 + i), 0.0)
        router.cancel(f"c{i}", 0.0)
    assert router.next_deadline() is None
    assert len(router._timers) <= 2048  # white-box: the sweep keeps the heap bounded


def test_a_tie_across_queues_goes_to_the_earlier_arrival() -> None:
    router = make_router()
    router.add_callback(callback("t1", "support"), 10.0)
    router.add_callback(callback("s1", "sales"), 10.0)
    staff(router, "a1", skills=("tech",), now=20.0)
    assert router.agent("a1").callback_id is None
    assert router.callback("t1").agent_id == "a1"


def test_a_declined_callback_is_released_when_the_other_agent_leaves_wrap_up() -> None:
    router = make_router()
    staff(router, "a1", "a2")
    router.add_callback(callback("c0"), 1.0)                    # a1
    router.accept(router.agent("a1").offer_id, "a1", 2.0)
    router.end_contact("c0", "a1", 3.0)                         # a1 wrapping up
    offer = only_offer(router.add_callback(callback("c1"), 4.0))  # a2
    router.decline(offer.offer_id, "a2", 5.0)
    assert router.waiting("sales") == ["c1"]                    # kept for a1
    events = router.set_away("a1", "done for today", 6.0)
    assert only_offer(events).agent_id == "a2"


def test_fast_constructors_build_the_same_events() -> None:
    import dataclasses

    from desktop.routing._construct import fast_constructor

    made = fast_constructor(OfferMade)("o1", "c1", "a1", 1.0, 21.0)
    assert made == OfferMade("o1", "c1", "a1", 1.0, 21.0)
    assert type(made) is OfferMade and hash(made) == hash(OfferMade("o1", "c1", "a1", 1.0, 21.0))
    assert repr(made) == repr(OfferMade("o1", "c1", "a1", 1.0, 21.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.at = 2.0  # type: ignore[misc]

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithDefault:
        a: str
        b: int = 7

    assert fast_constructor(WithDefault)("x") == WithDefault("x", 7)

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: str

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: str

        def __post_init__(self) -> None:
            raise ValueError

    assert fast_constructor(NoSlots) is NoSlots
    assert fast_constructor(Checked) is Checked


def test_waiting_estimates_match_position_and_estimated_wait_one_by_one() -> None:
    router = make_router()
    staff(router, "a1", "a2", skills=("sales",))
    for agent in ("a1", "a2"):
        router.set_available(agent, 1.0)
    for n in range(6):
        router.add_callback(callback(f"c{n}", tier="gold" if n == 4 else "standard"), 2.0 + n)
    bulk = router.waiting_estimates("sales")
    one_by_one = [(cid, router.position(cid), router.estimated_wait(cid, "sales", 10.0))
                  for cid in router.waiting("sales")]
    assert bulk == one_by_one
    assert [cid for cid, _, _ in bulk][0] == "c4"  # gold jumped ahead of the earlier ones


def test_an_inbound_caller_who_chooses_a_callback_keeps_their_place() -> None:
    router = make_router()
    router.add_callback(CallbackRequest("first", "sales", channel=Channel.PHONE_INBOUND), 0.0)
    router.add_callback(CallbackRequest("second", "sales", channel=Channel.PHONE_INBOUND), 5.0)
    router.add_callback(CallbackRequest("web", "sales"), 6.0)
    assert router.call_back_instead("first") == []
    assert router.callback("first").channel == Channel.PHONE
    assert router.callback("first").enqueued_at == 0.0 and router.waiting("sales") == ["first", "second", "web"]
    with pytest.raises(InvalidTransition, match="not a caller on the line"):
        router.call_back_instead("first")  # once is enough
    with pytest.raises(InvalidTransition, match="browser"):
        router.call_back_instead("web")
    staff(router, "ann", now=10.0)
    assert router.callback("first").state == CallbackState.OFFERED  # first in line, as before
    router.add_callback(CallbackRequest("rung", "sales", channel=Channel.PHONE_INBOUND), 11.0)
    staff(router, "bob", now=12.0)
    assert router.callback("second").state == CallbackState.OFFERED
    with pytest.raises(InvalidTransition, match="offered"):
        router.call_back_instead("second")  # an agent is being rung for them: they stay on the line
    with pytest.raises(UnknownCallback):
        router.call_back_instead("nobody")
