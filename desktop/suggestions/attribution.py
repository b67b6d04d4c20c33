"""Which orders an accepted suggestion earned: pure, interactions and orders in.

An order placed by the customer within ``window`` seconds after they accepted a
suggestion for a product, and holding that product, is attributed to that
suggestion: the line's value (price × quantity; the order's total if the line
has no price). Each line goes to one suggestion only, the latest accepted
before the order (the one that most plausibly made the sale); cancelled and
refunded orders earn nothing.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

__all__ = ["Attribution", "attribute", "NOT_SPENT"]

NOT_SPENT = frozenset({"cancelled", "refunded"})


class _Accepted(Protocol):
    id: int
    at: float
    customer_id: str
    action_id: str
    version: int
    queue: str
    tier: str
    product: str | None


class _Order(Protocol):
    id: str
    placed_at: float
    total_cents: int
    status: str
    items: Sequence[Mapping[str, Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class Attribution:
    order_id: str
    sku: str
    revenue_cents: int
    placed_at: float
    #: The accepted interaction it is attributed to.
    interaction_id: int
    action_id: str
    version: int
    queue: str
    tier: str


def _line_value(order: _Order, line: Mapping[str, Any]) -> int:
    price = line.get("price_cents")
    if isinstance(price, int) and not isinstance(price, bool):
        quantity = line.get("quantity", 1)
        return price * (quantity if isinstance(quantity, int) and quantity > 0 else 1)
    return int(order.total_cents)


def attribute(accepted: Iterable[_Accepted], orders: Iterable[tuple[str, _Order]], *,
              window: float) -> list[Attribution]:
    """Attribute each order line of ``orders`` ((customer, order) pairs) to at most one of ``accepted``.

    ``accepted`` are ``accepted`` interactions (others are ignored if they have no product);
    ``window``: seconds after the acceptance during which an order counts.
    """
    # (customer, sku) -> acceptances by time
    by_key: dict[tuple[str, str], list[_Accepted]] = defaultdict(list)
    for item in accepted:
        if item.product:
            by_key[(item.customer_id, item.product)].append(item)
    for items in by_key.values():
        items.sort(key=lambda i: (i.at, i.id))
    times = {key: [i.at for i in items] for key, items in by_key.items()}
    out: list[Attribution] = []
    for customer_id, order in orders:
        if order.status in NOT_SPENT:
            continue
        seen: set[str] = set()
        for line in order.items:
            sku = str(line.get("sku") or "")
            key = (customer_id, sku)
            if not sku or sku in seen or key not in by_key:
                continue
            # The latest acceptance strictly before the order, if within the window.
            index = bisect.bisect_left(times[key], order.placed_at) - 1
            if index < 0:
                continue
            chosen = by_key[key][index]
            if order.placed_at - chosen.at > window:
                continue
            seen.add(sku)
            out.append(Attribution(order.id, sku, _line_value(order, line), order.placed_at, chosen.id,
                                   chosen.action_id, chosen.version, chosen.queue, chosen.tier))
    return out
