"""The site's products and orders, and the value tier they give a customer.

A customer's tier is set from what their group spent over the last 365 days
(:data:`TIER_THRESHOLDS`, minor units summed across currencies) every time an
order of theirs is written.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository._store import CUSTOMERS, ORDERS, PRODUCTS, Store, upsert
from desktop.repository.errors import Conflict, NotFound
from desktop.repository.identities import canonical_id, group_ids
from desktop.repository.records import OrderRecord, ProductRecord

__all__ = ["Commerce", "TIER_THRESHOLDS", "tier_for", "ORDER_STATUSES", "write_product"]

#: Spend over 365 days (minor units) from which each tier starts, highest first.
TIER_THRESHOLDS = (("platinum", 1_000_000), ("gold", 200_000), ("silver", 50_000))
TIER_PERIOD = 365 * 86400.0
#: Orders in these states don't count towards the tier.
NOT_SPENT = ("cancelled", "refunded")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "refunded")


def tier_for(spend_cents: int) -> str:
    for tier, threshold in TIER_THRESHOLDS:
        if spend_cents >= threshold:
            return tier
    return "standard"


class Commerce(Store):
    async def put_product(self, *, sku: str, name: str, price_cents: int, currency: str,
                          category: str = "", now: float | None = None) -> ProductRecord:
        """Create or replace the product ``sku``."""
        now = time.time() if now is None else now
        return await self._db.write(write_product, dict(
            sku=sku, name=name, price_cents=price_cents, currency=currency, category=category), now)

    async def get_product(self, sku: str) -> ProductRecord | None:
        row = await self._db.read(lambda conn: conn.execute(
            select(PRODUCTS).where(PRODUCTS.c.sku == sku)).first())
        return ProductRecord(**row._mapping) if row is not None else None

    async def list_products(self, *, limit: int = 50, after: str | None = None) -> list[ProductRecord]:
        """Products by sku, at most ``limit``, those after the sku ``after``."""
        statement = select(PRODUCTS).order_by(PRODUCTS.c.sku).limit(limit)
        if after is not None:
            statement = statement.where(PRODUCTS.c.sku > after)
        rows = await self._db.read(lambda conn: conn.execute(statement).all())
        return [ProductRecord(**row._mapping) for row in rows]

    async def add_order(self, *, id: str, customer_id: str, placed_at: float, total_cents: int,
                        currency: str, status: str = "placed",
                        items: Sequence[Mapping[str, Any]] = (), now: float | None = None) -> OrderRecord:
        """Record an order and refresh the customer's tier.

        Raises :class:`NotFound` for an unknown customer, :class:`Conflict` for a taken id.
        """
        now = time.time() if now is None else now
        values = dict(id=id, customer_id=customer_id, placed_at=placed_at, total_cents=total_cents,
                      currency=currency, status=status, items=[dict(i) for i in items])
        try:
            return await self._db.write(insert_order, values, now)
        except IntegrityError:
            raise Conflict(f"An order with id {id!r} already exists") from None

    async def get_order(self, order_id: str) -> OrderRecord | None:
        row = await self._db.read(lambda conn: conn.execute(
            select(ORDERS).where(ORDERS.c.id == order_id)).first())
        return order_record(row) if row is not None else None

    async def list_orders(self, *, customer_id: str | None = None, limit: int = 50,
                          after: str | None = None) -> list[OrderRecord]:
        """Orders by id (of one customer's group if given), at most ``limit``, after id ``after``."""
        return await self._db.read(_list_orders, customer_id, limit, after)

    async def customer_orders(self, customer_id: str, *, since: float | None = None,
                              limit: int = 200) -> list[OrderRecord]:
        """The orders of the customer's group, newest first, placed at or after ``since``.

        Raises :class:`NotFound` for an unknown customer.
        """
        return await self._db.read(_customer_orders, customer_id, since, limit)

    async def refresh_tier(self, customer_id: str, *, now: float | None = None) -> str:
        """Recompute the group's tier from its orders; return it."""
        now = time.time() if now is None else now
        return await self._db.write(refresh_tier, customer_id, now)


def order_record(row: Any) -> OrderRecord:
    m = dict(row._mapping)
    m["items"] = list(m["items"] or [])
    return OrderRecord(**m)


def write_product(conn: Connection, values: dict[str, Any], now: float) -> ProductRecord:
    statement = upsert(conn, PRODUCTS).values(**values, created_at=now, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["sku"],
        set_={key: statement.excluded[key] for key in (*values, "updated_at") if key != "sku"},
    ).returning(PRODUCTS)
    return ProductRecord(**conn.execute(statement).one()._mapping)


def insert_order(conn: Connection, values: dict[str, Any], now: float,
                 *, refresh: bool = True) -> OrderRecord:
    head = canonical_id(conn, values["customer_id"])
    if head is None:
        raise NotFound(f"No customer with id {values['customer_id']!r}")
    row = conn.execute(ORDERS.insert().values(**values, created_at=now).returning(ORDERS)).one()
    if refresh:
        refresh_tier(conn, head, now)
    return order_record(row)


def refresh_tier(conn: Connection, customer_id: str, now: float) -> str:
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    o = ORDERS.c
    spend = conn.execute(
        select(func.coalesce(func.sum(o.total_cents), 0)).where(
            o.customer_id.in_(group_ids(conn, head)), o.placed_at >= now - TIER_PERIOD,
            o.status.notin_(NOT_SPENT))
    ).scalar_one()
    tier = tier_for(int(spend))
    conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == head).values(tier=tier))
    return tier


def _list_orders(conn: Connection, customer_id: str | None, limit: int,
                 after: str | None) -> list[OrderRecord]:
    statement = select(ORDERS).order_by(ORDERS.c.id).limit(limit)
    if customer_id is not None:
        head = canonical_id(conn, customer_id)
        if head is None:
            raise NotFound(f"No customer with id {customer_id!r}")
        statement = statement.where(ORDERS.c.customer_id.in_(group_ids(conn, head)))
    if after is not None:
        statement = statement.where(ORDERS.c.id > after)
    return [order_record(row) for row in conn.execute(statement)]


def _customer_orders(conn: Connection, customer_id: str, since: float | None, limit: int) -> list[OrderRecord]:
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    statement = (select(ORDERS).where(ORDERS.c.customer_id.in_(group_ids(conn, head)))
                 .order_by(ORDERS.c.placed_at.desc(), ORDERS.c.id).limit(limit))
    if since is not None:
        statement = statement.where(ORDERS.c.placed_at >= since)
    return [order_record(row) for row in conn.execute(statement)]
