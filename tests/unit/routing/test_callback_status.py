"""Examples of what a customer is told of their live callback (``desktop.routing.status``)."""

from __future__ import annotations

from types import SimpleNamespace

from desktop.routing.status import CallbackStatuses
from desktop.routing import CallbackRequest, OfferMade, QueueConfig, Router


def record(id: str, visitor_id: str | None = "v1", **fields):
    """The fields of a callback record the leader tracks (desktop.repository's record)."""
    return SimpleNamespace(id=id, visitor_id=visitor_id, queue=fields.get("queue", "sales"),
                           channel=fields.get("channel", "browser"), phone=fields.get("phone"),
                           created_at=fields.get("created_at", 0.0), scheduled_at=fields.get("scheduled_at"))


def setup(*ids: str, agent_names: dict[str, str] | None = None) -> tuple[Router, CallbackStatuses]:
    router = Router([QueueConfig("sales")])
    statuses = CallbackStatuses(router, agent_names if agent_names is not None else {})
    for i, id in enumerate(ids):
        router.add_callback(CallbackRequest(id=id, queue="sales"), float(i))
        statuses.track(record(id, visitor_id=f"v{i + 1}"))
    return router, statuses


def test_a_queued_customer_is_told_their_place_and_nothing_more_until_it_changes():
    router, statuses = setup("c1", "c2")
    visitor, message = statuses.update("c2", 10.0)
    assert visitor == "v2"
    assert message["type"] == "callback_status"
    assert message["callback"]["id"] == "c2"
    assert message["callback"]["state"] == "queued"
    assert message["callback"]["position"] == 2
    assert message["callback"]["estimated_wait"] is None  # nobody staffed
    assert statuses.update("c2", 11.0) is None  # unchanged: not said again
    assert statuses.update("c2", 12.0, again=True)[1] == message  # the customer asked


def test_waits_are_rounded_to_15_seconds_so_the_status_does_not_flicker():
    router, statuses = setup("c1")
    assert statuses.update("c1", 0.0, place=(1, 100.0))[1]["callback"]["estimated_wait"] == 105
    assert statuses.update("c1", 1.0, place=(1, 98.0)) is None  # still 105 once rounded
    assert statuses.update("c1", 2.0, place=(1, 80.0))[1]["callback"]["estimated_wait"] == 75


def test_an_offered_customer_is_told_the_agents_name_read_when_the_message_is_made():
    names: dict[str, str] = {}
    router, statuses = setup("c1", agent_names=names)
    router.agent_login("a1", (), 1.0)
    events = router.set_available("a1", 2.0)
    assert any(isinstance(e, OfferMade) for e in events)
    names["a1"] = "Alice"  # filled in after the statuses were made
    _, message = statuses.update("c1", 3.0)
    assert message["callback"]["state"] == "offered"
    assert message["callback"]["position"] is None
    assert message["callback"]["agent_name"] == "Alice"


def test_a_final_state_is_told_once_and_a_forgotten_callback_is_told_nothing():
    router, statuses = setup("c1")
    _, message = statuses.update("c1", 5.0, final="cancelled")
    assert message["callback"]["state"] == "cancelled"
    assert statuses.update("c1", 6.0, final="cancelled") is None
    statuses.forget("c1")
    assert len(statuses) == 0
    assert statuses.update("c1", 7.0, again=True) is None
    assert statuses.visitor_of("c1") is None
    assert statuses.callback_of("v1") is None


def test_an_ended_callback_the_router_no_longer_knows_is_told_nothing():
    router, statuses = setup("c1")
    router.cancel("c1", 1.0)
    assert statuses.update("c1", 2.0) is None


def test_visitors_and_callbacks_are_found_both_ways():
    router, statuses = setup("c1", "c2")
    assert statuses.visitor_of("c2") == "v2"
    assert statuses.callback_of("v1") == "c1"
    statuses.track(record("phone-only", visitor_id=None))
    assert statuses.visitor_of("phone-only") is None
    assert len(statuses) == 3


def test_forgetting_an_older_callback_keeps_the_visitors_newer_one():
    router, statuses = setup("c1")
    router.add_callback(CallbackRequest(id="c1b", queue="sales"), 5.0)
    statuses.track(record("c1b", visitor_id="v1"))  # the same customer asks again
    statuses.forget("c1")
    assert statuses.callback_of("v1") == "c1b"


def test_queue_updates_yield_only_the_customers_whose_place_changed():
    router, statuses = setup("c1", "c2", "c3")
    assert {visitor for visitor, _ in statuses.queue_updates("sales", 10.0)} == {"v1", "v2", "v3"}
    assert list(statuses.queue_updates("sales", 11.0)) == []
    router.cancel("c1", 12.0)
    statuses.forget("c1")
    moved = {visitor: message["callback"]["position"] for visitor, message in statuses.queue_updates("sales", 13.0)}
    assert moved == {"v2": 1, "v3": 2}
