"""A queue's own offer and wrap-up times (set in the admin console) and a queue changed or
added while the router runs (the leader's ``queues_changed``)."""

from __future__ import annotations

from desktop.routing import (
    AgentState,
    CallbackRequest,
    CallbackState,
    OfferEnded,
    OfferMade,
    OfferOutcome,
    QueueConfig,
    Router,
)


def staffed(router: Router, agent: str, skills=(), now: float = 0.0) -> None:
    router.agent_login(agent, skills, now)
    router.set_available(agent, now)


def test_a_queues_own_offer_timeout_and_wrap_up_time_win_over_the_routers():
    router = Router([QueueConfig("sales"), QueueConfig("vip", offer_timeout=45.0, wrapup_timeout=5.0)],
                    offer_timeout=20.0, wrapup_timeout=60.0)
    staffed(router, "a1")
    staffed(router, "a2")
    [offer] = [e for e in router.add_callback(CallbackRequest("c1", "vip"), 10.0) if isinstance(e, OfferMade)]
    assert offer.expires_at == 55.0
    [plain] = [e for e in router.add_callback(CallbackRequest("c2", "sales"), 10.0) if isinstance(e, OfferMade)]
    assert plain.expires_at == 30.0
    assert any(isinstance(e, OfferEnded) and e.outcome is OfferOutcome.TIMED_OUT for e in router.tick(30.0))
    router.accept(offer.offer_id, offer.agent_id, 20.0)
    router.end_contact("c1", offer.agent_id, 100.0)
    assert router.next_deadline() == 105.0  # the vip queue's 5 s of wrap-up, not 60
    router.tick(105.0)
    assert router.agent(offer.agent_id).state in (AgentState.AVAILABLE, AgentState.RESERVED)


def test_a_queue_added_or_opened_to_more_agents_while_running_routes_at_once():
    router = Router([QueueConfig("sales", frozenset({"sales"}))])
    staffed(router, "billing-agent", skills=("billing",))
    router.add_queue(QueueConfig("billing", frozenset({"billing"})))  # new: no restart
    events = router.add_callback(CallbackRequest("c1", "billing"), 1.0)
    assert any(isinstance(e, OfferMade) and e.agent_id == "billing-agent" for e in events)

    router.add_callback(CallbackRequest("c2", "sales"), 2.0)
    staffed(router, "other", skills=("support",), now=3.0)
    assert router.callback("c2").state is CallbackState.QUEUED
    router.add_queue(QueueConfig("sales"))                   # now any agent may take it
    events = router.rebalance(4.0)
    assert any(isinstance(e, OfferMade) and e.callback_id == "c2" and e.agent_id == "other" for e in events)


def test_a_deleted_queues_waiting_callbacks_move_to_the_fallback_keeping_their_place_in_time():
    router = Router([QueueConfig("general"), QueueConfig("billing", frozenset({"billing"}))])
    router.add_callback(CallbackRequest("early", "billing"), 0.0)
    router.add_callback(CallbackRequest("later", "billing", scheduled_at=500.0), 5.0)
    router.add_callback(CallbackRequest("other", "general"), 50.0)
    assert router.waiting("billing") == ["early"]

    router.remove_queue("billing", "general", 60.0)
    # "early" waited since 0: ahead of "other" (50) in its new queue, not sent to the back.
    assert router.waiting("general") == ["early", "other"]
    assert router.callback("later").queue == "general" and router.callback("later").state is CallbackState.SCHEDULED
    assert "billing" not in {q.name for q in router.queues()}
    # An agent of the fallback (no billing skill) gets the moved customer first.
    router.agent_login("a1", (), 70.0)
    [offer] = [e for e in router.set_available("a1", 70.0) if isinstance(e, OfferMade)]
    assert offer.callback_id == "early"
    # The scheduled one enters the fallback at its time.
    router.accept(offer.offer_id, "a1", 71.0)
    assert router.waiting("general") == ["other"]
    router.tick(500.0)
    assert router.waiting("general") == ["other", "later"]


def test_a_moved_callback_is_offered_at_once_to_a_free_agent_and_a_ringing_offer_goes_on():
    router = Router([QueueConfig("general"), QueueConfig("billing", frozenset({"billing"}))])
    staffed(router, "biller", ("billing",), 0.0)
    [ringing] = [e for e in router.add_callback(CallbackRequest("c1", "billing"), 1.0) if isinstance(e, OfferMade)]
    router.add_callback(CallbackRequest("c2", "billing"), 2.0)
    staffed(router, "generalist", (), 3.0)   # can't take billing: idle
    events = router.remove_queue("billing", "general", 4.0)
    [moved_offer] = [e for e in events if isinstance(e, OfferMade)]
    assert (moved_offer.callback_id, moved_offer.agent_id) == ("c2", "generalist")
    # The offer ringing when the queue went stays; declined, the callback waits in the fallback.
    assert router.callback("c1").state is CallbackState.OFFERED
    router.decline(ringing.offer_id, "biller", 5.0)
    assert router.callback("c1").queue == "general"


def test_removing_a_queue_into_itself_or_an_unknown_one_changes_nothing():
    import pytest
    from desktop.routing import InvalidRequest, UnknownQueue

    router = Router([QueueConfig("general"), QueueConfig("billing")])
    router.add_callback(CallbackRequest("c1", "billing"), 0.0)
    with pytest.raises(InvalidRequest):
        router.remove_queue("billing", "billing", 1.0)
    with pytest.raises(UnknownQueue):
        router.remove_queue("billing", "nowhere", 1.0)
    assert router.waiting("billing") == ["c1"]


def test_the_queue_for_a_customers_language_is_the_first_speaking_it_exactly_then_the_same_language():
    from types import SimpleNamespace as Q

    from desktop.routing.languages import queue_for_language

    queues = [Q(name="general", languages=()), Q(name="taiwan", languages=("zh-TW",)),
              Q(name="china", languages=("en", "zh-CN"))]
    assert queue_for_language(queues, "zh-CN") == "china"
    assert queue_for_language(queues, "zh-cn") == "china"
    assert queue_for_language(queues, "zh-HK") == "taiwan"   # no exact one: the first speaking "zh"
    assert queue_for_language(queues, "en") == "china"
    assert queue_for_language(queues, "fr") is None
    assert queue_for_language(queues, None) is None
