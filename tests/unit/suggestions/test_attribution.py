"""Attribution: an order of the product within the window after an acceptance earns it."""

from __future__ import annotations

from types import SimpleNamespace

from desktop.suggestions.attribution import attribute

DAY = 86400.0
WINDOW = 14 * DAY


def accepted(id: int, at: float, *, customer="c1", product="bag", action="a1", version=1,
             queue="sales", tier="gold") -> SimpleNamespace:
    return SimpleNamespace(id=id, at=at, customer_id=customer, action_id=action, version=version,
                           queue=queue, tier=tier, product=product)


def order(id: str, at: float, *lines, status="placed", total=10_000) -> SimpleNamespace:
    return SimpleNamespace(id=id, placed_at=at, total_cents=total, status=status, items=list(lines))


def line(sku: str, price: int | None = 4_900, quantity: int = 1) -> dict:
    return {"sku": sku, "price_cents": price, "quantity": quantity} if price is not None else {"sku": sku}


def test_an_order_of_the_product_within_the_window_is_attributed_at_the_line_value() -> None:
    found = attribute([accepted(1, 100.0)], [("c1", order("o1", 100.0 + 3 * DAY, line("bag", 4_900, 2), line("mouse")))],
                      window=WINDOW)
    assert [(a.order_id, a.sku, a.revenue_cents, a.interaction_id, a.queue, a.tier) for a in found] == [
        ("o1", "bag", 9_800, 1, "sales", "gold")]


def test_nothing_outside_the_window_before_the_acceptance_or_of_another_product_or_customer() -> None:
    acceptance = [accepted(1, 100.0)]
    orders = [
        ("c1", order("late", 100.0 + WINDOW + 1, line("bag"))),
        ("c1", order("before", 50.0, line("bag"))),
        ("c1", order("other-product", 200.0, line("mouse"))),
        ("c2", order("other-customer", 200.0, line("bag"))),
        ("c1", order("cancelled", 200.0, line("bag"), status="cancelled")),
        ("c1", order("refunded", 200.0, line("bag"), status="refunded")),
    ]
    assert attribute(acceptance, orders, window=WINDOW) == []


def test_the_window_edge_counts() -> None:
    found = attribute([accepted(1, 100.0)], [("c1", order("edge", 100.0 + WINDOW, line("bag")))], window=WINDOW)
    assert [a.order_id for a in found] == ["edge"]


def test_a_line_goes_to_the_latest_acceptance_before_the_order_only_once() -> None:
    acceptances = [accepted(1, 100.0, action="old"), accepted(2, 200.0, action="new", version=3)]
    found = attribute(acceptances, [("c1", order("o1", 300.0, line("bag"), line("bag")))], window=WINDOW)
    assert [(a.action_id, a.version) for a in found] == [("new", 3)]


def test_a_line_without_a_price_earns_the_order_total() -> None:
    found = attribute([accepted(1, 0.0)], [("c1", order("o1", 10.0, line("bag", None), total=12_345))], window=WINDOW)
    assert found[0].revenue_cents == 12_345


def test_acceptances_without_a_product_earn_nothing() -> None:
    assert attribute([accepted(1, 0.0, product=None)], [("c1", order("o1", 10.0, line("bag")))], window=WINDOW) == []
