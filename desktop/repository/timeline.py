"""A customer's whole timeline: keyset pages, outside contacts, the summary, retention.

The timeline of a customer is every ``contact_events`` row of its group (the
customer and those merged into it), newest first by ``(at, id)``. Pages are
cut with a keyset cursor (``"<at>_<id>"`` of the last row shown), so page 200
costs what page 1 does: one range scan of ``ix_contact_events_customer_id_at_id``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.engine import Connection

from desktop.repository import _rows
from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, ORDERS, Store
from desktop.repository.errors import NotFound
from desktop.repository.identities import _group_identities, canonical_id, group_ids, head_customer
from desktop.repository.records import TimelinePage
from desktop.routing.events import TERMINAL_CALLBACK_STATES

__all__ = ["Timeline", "OUTSIDE_KINDS", "OUTSIDE_CHANNELS", "SUMMARY_KINDS", "encode_cursor",
           "decode_cursor"]

#: What an agent or the API may log as having happened elsewhere.
OUTSIDE_KINDS = ("note", "email", "inbound_call", "chat", "store_visit", "meeting")
#: The channel each outside kind is filed under.
OUTSIDE_CHANNELS = {"note": "desk", "email": "email", "inbound_call": "phone", "chat": "chat",
                    "store_visit": "store", "meeting": "in_person"}
#: Kinds shown as "last contacts" in a summary (page views are the trail).
SUMMARY_KINDS = (
    "callback_requested", "callback_connected", "callback_completed", "callback_cancelled",
    "callback_abandoned", "wrap_up", "call", *OUTSIDE_KINDS,
)
MAX_PAGE = 200
DAY = 86400.0


def encode_cursor(at: float, event_id: int) -> str:
    return f"{at!r}_{event_id}"


def decode_cursor(cursor: str) -> tuple[float, int]:
    """``(at, id)`` from a cursor; ``ValueError`` for anything else."""
    at_text, sep, id_text = cursor.rpartition("_")
    if not sep or len(cursor) > 64:
        raise ValueError(f"{cursor!r} is not a timeline cursor")
    at, event_id = float(at_text), int(id_text)
    if at != at or at in (float("inf"), float("-inf")):
        raise ValueError(f"{cursor!r} is not a timeline cursor")
    return at, event_id


class Timeline(Store):
    async def customer_timeline(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        kinds: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
    ) -> TimelinePage:
        """One page of the customer's group timeline, newest first.

        ``limit`` is clamped to 1..200; ``cursor`` is a previous page's
        ``next_cursor`` (``ValueError`` if malformed); ``kinds``/``channels``
        keep only those. Raises :class:`NotFound` for an unknown customer.
        """
        after = decode_cursor(cursor) if cursor else None
        limit = max(1, min(MAX_PAGE, limit))
        return await self._db.read(
            _page, customer_id, limit, after,
            list(kinds) if kinds else None, list(channels) if channels else None,
        )

    async def log_contact(
        self,
        customer_id: str,
        *,
        kind: str,
        at: float,
        agent_id: str | None = None,
        channel: str | None = None,
        data: Mapping[str, Any] | None = None,
    ):
        """Append a contact that happened elsewhere (``OUTSIDE_KINDS``) to the head's timeline.

        ``channel`` defaults to the kind's (``OUTSIDE_CHANNELS``). Raises
        ``ValueError`` for another kind, :class:`NotFound` for an unknown customer.
        """
        if kind not in OUTSIDE_KINDS:
            raise ValueError(f"Unknown contact kind {kind!r}; expected one of {', '.join(OUTSIDE_KINDS)}")
        return await self._db.write(_log, customer_id, kind, channel or OUTSIDE_CHANNELS[kind],
                                    at, agent_id, dict(data or {}))

    async def customer_summary(self, customer_id: str, *, now: float | None = None,
                               timeline: int = 0) -> dict[str, Any]:
        """What an agent sees first: the customer, identities, tier, spend, open and last contacts.

        With ``timeline=N`` (1..200) the first N timeline entries come too, as
        ``timeline: {items, next_cursor}``, in the same transaction: opening a
        customer is then one round of queries. JSON-ready. Raises
        :class:`NotFound` for an unknown customer.
        """
        return await self._db.read(_summary, customer_id, time.time() if now is None else now,
                                   max(0, min(MAX_PAGE, timeline)))

    async def delete_browsing_before(self, cutoff: float, *, batch: int = 5000) -> int:
        """Retention: delete page views older than ``cutoff`` (epoch s); return how many."""
        total = 0
        while True:
            deleted = await self._db.write(_delete_page_views, cutoff, batch)
            total += deleted
            if deleted < batch:
                return total


def _page(conn: Connection, customer_id: str, limit: int, after: tuple[float, int] | None,
          kinds: list[str] | None, channels: list[str] | None) -> TimelinePage:
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    return _group_page(conn, head, group_ids(conn, head), limit, after, kinds, channels)


def _group_page(conn: Connection, head: str, group: list[str], limit: int,
                after: tuple[float, int] | None, kinds: list[str] | None,
                channels: list[str] | None) -> TimelinePage:
    ce = CONTACT_EVENTS.c
    statement = select(CONTACT_EVENTS).where(
        ce.customer_id == head if len(group) == 1 else ce.customer_id.in_(group)
    )
    if kinds:
        statement = statement.where(ce.kind.in_(kinds))
    if channels:
        statement = statement.where(ce.channel.in_(channels))
    if after is not None:
        at, event_id = after
        # A row-value comparison, not "at < x OR (at = x AND id < y)": both engines
        # turn it into one index range (SQLite scanned the whole customer for the OR).
        statement = statement.where(tuple_(ce.at, ce.id) < tuple_(literal(at), literal(event_id)))
    statement = statement.order_by(ce.at.desc(), ce.id.desc()).limit(limit + 1)
    events = [_rows.contact_event(row) for row in conn.execute(statement)]
    more = len(events) > limit
    events = events[:limit]
    return TimelinePage(events=events,
                        next_cursor=encode_cursor(events[-1].at, events[-1].id) if more else None)


def _log(conn: Connection, customer_id: str, kind: str, channel: str, at: float,
         agent_id: str | None, data: dict[str, Any]):
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    row = conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=head, agent_id=agent_id, kind=kind, channel=channel, at=at, data=data,
    ).returning(CONTACT_EVENTS)).one()
    return _rows.contact_event(row)


def _summary(conn: Connection, customer_id: str, now: float, timeline: int = 0) -> dict[str, Any]:
    customer = head_customer(conn, customer_id)
    if customer is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    head = customer.id
    group = group_ids(conn, head)
    cb = CALLBACKS.c
    open_callbacks = conn.execute(
        select(cb.id, cb.state, cb.queue, cb.topic, cb.created_at)
        .where(cb.customer_id.in_(group), cb.state.notin_([str(s) for s in TERMINAL_CALLBACK_STATES]))
        .order_by(cb.created_at.desc()).limit(10)
    ).all()
    last = _group_page(conn, head, group, 5, None, list(SUMMARY_KINDS), None).events
    o = ORDERS.c
    spend, orders = conn.execute(
        select(func.coalesce(func.sum(o.total_cents), 0), func.count())
        .where(o.customer_id.in_(group), o.placed_at >= now - 365 * DAY)
    ).one()
    follow_ups = [e for e in last if e.kind == "wrap_up"
                  and (e.data or {}).get("disposition") == "Follow-up needed"]
    summary: dict[str, Any] = {
        "customer": {"id": customer.id, "name": customer.name, "email": customer.email,
                     "phone": customer.phone, "tier": customer.tier,
                     "created_at": customer.created_at, "updated_at": customer.updated_at},
        "merged": [cid for cid in group if cid != head],
        "identities": [
            {"id": i.id, "kind": i.kind, "value": i.value, "verified": i.verified,
             "source": i.source, "created_at": i.created_at}
            for i in _group_identities(conn, group)
        ],
        "spend_365d_cents": int(spend), "orders_365d": int(orders),
        "open_issues": [
            {"callback_id": r.id, "state": r.state, "queue": r.queue, "topic": r.topic,
             "created_at": r.created_at} for r in open_callbacks
        ] + [{"follow_up": e.id, "at": e.at, "note": (e.data or {}).get("note", "")} for e in follow_ups],
        "last_contacts": [event_json(e) for e in last],
    }
    if timeline:
        page = _group_page(conn, head, group, timeline, None, None, None)
        summary["timeline"] = {"items": [event_json(e) for e in page.events],
                               "next_cursor": page.next_cursor}
    return summary


def event_json(event) -> dict[str, Any]:
    return {"id": event.id, "customer_id": event.customer_id, "kind": event.kind,
            "channel": event.channel, "at": event.at, "agent_id": event.agent_id,
            "visitor_id": event.visitor_id, "callback_id": event.callback_id,
            "data": event.data or {}}


def _delete_page_views(conn: Connection, cutoff: float, batch: int) -> int:
    ce = CONTACT_EVENTS.c
    ids = select(ce.id).where(ce.kind == "page_view", ce.at < cutoff).limit(batch).scalar_subquery()
    return conn.execute(CONTACT_EVENTS.delete().where(ce.id.in_(ids))).rowcount


__all__ += ["event_json"]
