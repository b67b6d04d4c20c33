"""The customer snapshot the rules read, built from the repository (a minimal first version).

The desk's full builder (cart, page, trail, scores, history: branch i11-desk) replaces this
module whole, with the same signature; this one reads the profile and the orders, enough for
the planner's "test a customer" panel.
"""

from __future__ import annotations

import datetime
from typing import Any

from desktop.rules.snapshot import WEEKDAYS, Snapshot

__all__ = ["customer_snapshot"]

DAY = 86400.0
NOT_SPENT = ("cancelled", "refunded")


async def customer_snapshot(repo, customer_id: str | None, *, now: float,
                            contact: dict[str, Any] | None = None) -> Snapshot | None:
    """The snapshot of ``customer_id`` at ``now`` (None for an unknown customer)."""
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
    when = {"hour": float(moment.hour), "weekday": WEEKDAYS[moment.weekday()]}
    if customer_id is None:
        return Snapshot(**when)
    customer = await repo.resolve_customer(customer_id)
    if customer is None:
        return None
    orders = [o for o in await repo.list_orders(customer_id=customer.id, limit=200) if o.status not in NOT_SPENT]

    def spend(days: float) -> float:
        return sum(o.total_cents for o in orders if o.placed_at >= now - days * DAY) / 100

    last = max((o.placed_at for o in orders), default=None)
    owned = tuple(dict.fromkeys(str(item.get("sku")) for o in orders for item in o.items if item.get("sku")))
    name = customer.name or ""
    return Snapshot(customer_id=customer.id, name=name, first_name=name.split(" ")[0] if name else "",
                    tier=customer.tier, spend_30d=spend(30), spend_90d=spend(90), spend_365d=spend(365),
                    orders=float(len(orders)), owned=owned,
                    days_since_last_order=-1.0 if last is None else float(int((now - last) // DAY)), **when)
