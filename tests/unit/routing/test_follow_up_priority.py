"""A request made by "not solved" (desktop/aftercall) goes ahead of those that waited less than
the follow-up bonus, and is offered first when an agent becomes free."""

from __future__ import annotations

from desktop.routing import CallbackRequest, OfferMade, QueueConfig, Router


def first_offer(router: Router, now: float) -> str:
    router.agent_login("a1", ["sales"], now)
    events = router.set_available("a1", now)
    [offer] = [event for event in events if isinstance(event, OfferMade)]
    return offer.callback_id


def test_a_follow_up_goes_ahead_of_an_earlier_request():
    router = Router([QueueConfig("sales")], follow_up_bonus=300.0)
    router.add_callback(CallbackRequest(id="earlier", queue="sales"), 0.0)
    router.add_callback(CallbackRequest(id="reopened", queue="sales", follow_up=True), 100.0)
    assert first_offer(router, 120.0) == "reopened"


def test_without_the_flag_arrival_order_holds():
    router = Router([QueueConfig("sales")], follow_up_bonus=300.0)
    router.add_callback(CallbackRequest(id="earlier", queue="sales"), 0.0)
    router.add_callback(CallbackRequest(id="later", queue="sales"), 100.0)
    assert first_offer(router, 120.0) == "earlier"


def test_the_bonus_is_bounded_a_long_wait_still_wins():
    router = Router([QueueConfig("sales")], follow_up_bonus=300.0)
    router.add_callback(CallbackRequest(id="long", queue="sales"), 0.0)
    router.add_callback(CallbackRequest(id="reopened", queue="sales", follow_up=True), 400.0)
    assert first_offer(router, 401.0) == "long"
