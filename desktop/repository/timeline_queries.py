"""The statements that open a customer, built once with bound parameters.

Building a SQLAlchemy ``select`` (coercing every column, a ``union``'s column
proxies) cost more than running it: about half of opening a customer went to
Python before the first byte left for the database. Each statement here is built
on first use for one *shape* (a group of one customer or more, which filters)
and reused, so each call only binds values; SQLAlchemy's compiled cache then
skips compiling too. The same statements run on SQLite and PostgreSQL.

Parameters: ``head`` (a group of one) or ``group`` (a list, ``single=False``);
``since`` (epoch s), ``limit``, ``kinds``, ``channels``, ``at`` and ``event_id``
(the keyset cursor).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (BigInteger, Float, Integer, bindparam, cast, func, literal, null, select, true,
                        tuple_, union_all)
from sqlalchemy.sql import Select

from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, CUSTOMERS, IDENTITIES, ORDERS, VISITORS
from desktop.routing.events import TERMINAL_CALLBACK_STATES

__all__ = ["OUTSIDE_KINDS", "SUMMARY_KINDS", "LAST_CONTACTS", "group_params", "head_and_members",
           "members", "open_callbacks", "identities", "last_and_first_page", "page"]

#: What an agent or the API may log as having happened elsewhere.
OUTSIDE_KINDS = ("note", "email", "inbound_call", "chat", "store_visit", "meeting")
#: Kinds shown as "last contacts" in a summary (page views are the trail).
SUMMARY_KINDS = (
    "callback_requested", "callback_connected", "callback_completed", "callback_cancelled",
    "callback_abandoned", "wrap_up", "call", *OUTSIDE_KINDS,
)
LAST_CONTACTS = 5
OPEN_ISSUES = 10


def group_params(group: list[str]) -> dict[str, Any]:
    """The bound values naming ``group`` in a statement built with ``single=len(group) == 1``."""
    return {"head": group[0]} if len(group) == 1 else {"group": group}


def _member(column: Any, single: bool) -> Any:
    # "=" for the usual group of one: no expanding IN list to render on each call.
    return column == bindparam("head") if single else column.in_(bindparam("group", expanding=True))


def _orders_since(c: Any) -> tuple[Any, Any]:
    o = ORDERS.c
    recent = (o.customer_id == c.id, o.placed_at >= bindparam("since", type_=Float()))
    spend = select(func.coalesce(func.sum(o.total_cents), 0)).where(*recent).scalar_subquery()
    return spend.label("spend"), select(func.count()).where(*recent).scalar_subquery().label("orders")


@functools.cache
def head_and_members(with_orders: bool) -> Any:
    """The row of ``head`` and of those merged straight into it; with their orders since ``since``.

    A UNION of two index look-ups: SQLite scanned the whole table for ``id = ? OR merged_into = ?``.
    """
    c = CUSTOMERS.c
    extra = _orders_since(c) if with_orders else (literal(0).label("spend"), literal(0).label("orders"))
    return union_all(select(CUSTOMERS, *extra).where(c.id == bindparam("head")),
                     select(CUSTOMERS, *extra).where(c.merged_into == bindparam("head")))


@functools.cache
def members(with_orders: bool) -> Select:
    """The customers merged into any of ``group``; with their orders since ``since``."""
    c = CUSTOMERS.c
    extra = _orders_since(c) if with_orders else (literal(0).label("spend"), literal(0).label("orders"))
    return select(c.id, *extra).where(c.merged_into.in_(bindparam("group", expanding=True)))


@functools.cache
def open_callbacks(single: bool) -> Select:
    cb = CALLBACKS.c
    return (select(cb.id, cb.state, cb.queue, cb.topic, cb.created_at)
            .where(_member(cb.customer_id, single),
                   cb.state.notin_([str(s) for s in TERMINAL_CALLBACK_STATES]))
            .order_by(cb.created_at.desc()).limit(OPEN_ISSUES))


@functools.cache
def identities(single: bool) -> Select:
    """The group's stored identities (``part`` 0), then its browsers (``part`` 1)."""
    i, v = IDENTITIES.c, VISITORS.c
    stored = select(literal(0).label("part"), i.id, i.customer_id, i.kind, i.value, i.verified,
                    i.source, i.created_at).where(_member(i.customer_id, single))
    browsers = select(literal(1), cast(null(), i.id.type), v.customer_id, literal("visitor"), v.id,
                      true(), literal("browser"), v.created_at).where(_member(v.customer_id, single))
    both = union_all(stored, browsers).subquery()
    return select(both).order_by(both.c.part, both.c.created_at, both.c.id)


def _newest_first(statement: Select) -> Select:
    ce = CONTACT_EVENTS.c
    return statement.order_by(ce.at.desc(), ce.id.desc())


@functools.cache
def last_and_first_page(single: bool, with_page: bool) -> Any:
    """The last contacts (``part`` 0) and, ``with_page``, the first ``limit`` entries (``part`` 1).

    One statement: a UNION of two index range scans, each in its own subquery
    so each keeps its ORDER BY and LIMIT. The union's rows come in no order.
    """
    ce = CONTACT_EVENTS.c
    last = _newest_first(select(literal(0).label("part"), *CONTACT_EVENTS.c)
                         .where(_member(ce.customer_id, single), ce.kind.in_(SUMMARY_KINDS))
                         ).limit(LAST_CONTACTS).subquery()
    if not with_page:
        return select(last)
    first = _newest_first(select(literal(1).label("part"), *CONTACT_EVENTS.c)
                          .where(_member(ce.customer_id, single)))
    first = first.limit(bindparam("limit", type_=Integer())).subquery()
    return union_all(select(last), select(first))


@functools.cache
def page(single: bool, kinds: bool, channels: bool, after: bool) -> Select:
    """A page of ``limit`` entries, newest first, filtered and after the cursor as asked."""
    ce = CONTACT_EVENTS.c
    statement = select(CONTACT_EVENTS).where(_member(ce.customer_id, single))
    if kinds:
        statement = statement.where(ce.kind.in_(bindparam("kinds", expanding=True)))
    if channels:
        statement = statement.where(ce.channel.in_(bindparam("channels", expanding=True)))
    if after:
        # A row-value comparison, not "at < x OR (at = x AND id < y)": both engines
        # turn it into one index range (SQLite scanned the whole customer for the OR).
        statement = statement.where(tuple_(ce.at, ce.id) < tuple_(bindparam("at", type_=Float()),
                                                               bindparam("event_id", type_=BigInteger())))
    return _newest_first(statement).limit(bindparam("limit", type_=Integer()))
