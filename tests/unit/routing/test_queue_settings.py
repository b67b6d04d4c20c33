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
