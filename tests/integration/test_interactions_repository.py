"""The interaction history of suggestions on SQLite and PostgreSQL: once per contact and outcome,
the customer's group after a merge, the orders attribution reads, erasure."""

from __future__ import annotations

import pytest

from desktop.repository import Repository

T0 = 1_800_000_000.0


async def record(repo: Repository, customer_id: str, outcome: str, *, at: float, callback_id: str = "cb1",
                 action_id: str = "sleeve", version: int = 1, reason: str | None = None) -> bool:
    return await repo.record_interaction(customer_id=customer_id, callback_id=callback_id, agent_id="a1",
                                         action_id=action_id, version=version, outcome=outcome, at=at,
                                         queue="sales", tier="gold", product="sleeve-1", reason=reason)


async def test_each_outcome_once_per_contact_action_and_version(repo: Repository) -> None:
    nina = (await repo.create_customer(name="Nina", now=T0)).id
    assert await record(repo, nina, "shown", at=T0)
    assert not await record(repo, nina, "shown", at=T0 + 1)  # the card rendered twice
    assert await record(repo, nina, "shown", at=T0 + 2, version=2)  # a new version is another suggestion
    assert await record(repo, nina, "shown", at=T0 + 3, callback_id="cb2")
    assert await record(repo, nina, "declined", at=T0 + 4, reason="Not now")
    with pytest.raises(ValueError):
        await record(repo, nina, "clicked", at=T0 + 5)
    history = await repo.interaction_history(nina, since=T0 + 1)
    assert [(h.callback_id, h.version, h.outcome, h.reason) for h in history] == [
        ("cb1", 2, "shown", None), ("cb2", 1, "shown", None), ("cb1", 1, "declined", "Not now")]
    assert [h.at for h in await repo.interactions_between(T0, T0 + 3)] == [T0, T0 + 2]


async def test_history_and_orders_follow_the_customer_through_a_merge_and_erasure_removes_them(repo: Repository) -> None:
    nina = (await repo.create_customer(name="Nina", now=T0)).id
    other = (await repo.create_customer(name="Nina at work", now=T0)).id
    await record(repo, other, "accepted", at=T0)
    await repo.add_order(id="o1", customer_id=other, placed_at=T0 + 10, total_cents=3_900, currency="USD",
                         items=[{"sku": "sleeve-1", "quantity": 1, "price_cents": 3_900}], now=T0 + 10)
    await repo.add_order(id="o-late", customer_id=other, placed_at=T0 + 99, total_cents=1, currency="USD", now=T0 + 99)
    await repo.merge_customers(other, nina, actor="test", now=T0 + 20)
    assert [h.outcome for h in await repo.interaction_history(nina, since=T0)] == ["accepted"]
    orders = await repo.orders_of_customers([other], start=T0, end=T0 + 50)
    assert [(head, order.id) for head, order in orders] == [(nina, "o1")]
    # What a contact's suggestions read, in one go: the group's orders (newest first), scores, history.
    orders, score, history = await repo.suggestion_inputs(other, since=T0, orders=10)
    assert [o.id for o in orders] == ["o-late", "o1"] and score is None
    assert [h.outcome for h in history] == ["accepted"]

    await repo.erase_customer(nina, requested_by="test", now=T0 + 30)
    assert await repo.interactions_between(0, T0 + 100) == []


async def test_customer_snapshot_from_the_repository(repo: Repository) -> None:
    from desktop.contacts.snapshot import customer_snapshot

    nina = (await repo.create_customer(name="Nina Park", now=T0)).id
    await repo.add_order(id="o1", customer_id=nina, placed_at=T0 - 86400, total_cents=129_900, currency="USD",
                         items=[{"sku": "aurora-laptop-14", "quantity": 1, "price_cents": 129_900}], now=T0)
    snap = await customer_snapshot(repo, nina, now=T0, contact={"queue": "sales", "context": {"cart": ["swift-e-bike"]}})
    assert (snap.customer_id, snap.first_name, snap.queue) == (nina, "Nina", "sales")
    assert snap.spend_30d == 1299.0 and snap.orders == 1.0 and snap.owned == ("aurora-laptop-14",)
    assert snap.days_since_last_order == 1.0 and snap.cart_skus == ("swift-e-bike",)
    assert await customer_snapshot(repo, "nobody", now=T0) is None
    anonymous = await customer_snapshot(repo, None, now=T0)
    assert anonymous.customer_id == "" and anonymous.orders == 0.0
