"""A customer's whole timeline: keyset pages, outside contacts, the summary, retention.

The timeline of a customer is every ``contact_events`` row of its group (the
customer and those merged into it), newest first by ``(at, id)``. Pages are
cut with a keyset cursor (``"<at>_<id>"`` of the last row shown), so page 200
costs what page 1 does: one range scan of ``ix_contact_events_customer_id_at_id``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from desktop.repository import _rows
from desktop.repository import timeline_queries as queries
from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, CUSTOMERS, VISITORS, Store
from desktop.repository.errors import NotFound
from desktop.repository.identities import MAX_MERGE_DEPTH, canonical_id
from desktop.repository.records import (
    CallbackRecord,
    ContactEventRecord,
    CustomerRecord,
    TimelinePage,
    VisitorRecord,
)
from desktop.repository.timeline_queries import OUTSIDE_KINDS, SUMMARY_KINDS

__all__ = ["Timeline", "CardReads", "OUTSIDE_KINDS", "OUTSIDE_CHANNELS", "SUMMARY_KINDS", "encode_cursor",
           "decode_cursor"]

#: The channel each outside kind is filed under.
OUTSIDE_CHANNELS = {"note": "desk", "email": "email", "inbound_call": "phone", "chat": "chat",
                    "store_visit": "store", "meeting": "in_person"}
MAX_PAGE = 200
DAY = 86400.0

# The contact card's reads (every offer): built once, so each skips construction and cache keys.
_CALLBACK = select(CALLBACKS).where(CALLBACKS.c.id == bindparam("callback_id"))
_VISITOR = select(VISITORS).where(VISITORS.c.id == bindparam("visitor_id"))
_TRAIL = (select(CONTACT_EVENTS)
          .where(CONTACT_EVENTS.c.visitor_id == bindparam("visitor_id"), CONTACT_EVENTS.c.kind == "page_view")
          .order_by(CONTACT_EVENTS.c.at.desc(), CONTACT_EVENTS.c.id.desc()).limit(bindparam("limit")))


@dataclasses.dataclass(frozen=True, slots=True)
class CardReads:
    """What an agent's contact card is made from (:meth:`Timeline.card_reads`)."""

    callback: CallbackRecord
    #: The whole person's record: the head of the group the callback's customer is part of.
    customer: CustomerRecord
    visitor: VisitorRecord | None
    #: The visitor's page views, newest first.
    trail: list[ContactEventRecord]
    #: The group's timeline entries of the kinds asked for, newest first.
    history: list[ContactEventRecord]


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
        return await self._db.read_fast(
            _page, customer_id, limit, after,
            list(kinds) if kinds else None, list(channels) if channels else None,
        )

    async def card_reads(self, callback_id: str, *, trail: int, history: int,
                         kinds: Iterable[str]) -> CardReads | None:
        """Everything a contact card shows of a callback, in ONE call (one connection, no
        transaction: each statement reads the latest commit): the callback, its customer's
        head record, its visitor and their last ``trail`` page views (none without a visitor),
        and the newest ``history`` entries of ``kinds`` on the group's timeline (at most
        :data:`MAX_PAGE`). None if the callback is gone; :class:`NotFound` if its customer is
        (as :meth:`customer_timeline`).

        Five statements on the usual path; the card read them as six in five calls (the head was
        looked up twice), each call's own pool and driver work costing more than its query.
        """
        return await self._db.read_fast(_card_reads, callback_id, trail, max(1, min(MAX_PAGE, history)),
                                        list(kinds))

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
        ``timeline: {items, next_cursor}``: opening a customer is then four
        statements in one read (``Database.read_fast``). JSON-ready. Raises
        :class:`NotFound` for an unknown customer.
        """
        return await self._db.read_fast(_summary, customer_id, time.time() if now is None else now,
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
    _, group, _, _ = _group_and_spend(conn, customer_id, None)
    return _group_page(conn, group, limit, after, kinds, channels)


def _card_reads(conn: Connection, callback_id: str, trail: int, history: int,
                kinds: list[str]) -> CardReads | None:
    row = conn.execute(_CALLBACK, {"callback_id": callback_id}).first()
    if row is None:
        return None
    callback = _rows.callback(row)
    customer, group, _, _ = _group_and_spend(conn, callback.customer_id, None)
    visitor, views = None, []
    if callback.visitor_id:
        found = conn.execute(_VISITOR, {"visitor_id": callback.visitor_id}).first()
        visitor = _rows.visitor(found) if found is not None else None
        views = [_rows.contact_event(r) for r in conn.execute(
            _TRAIL, {"visitor_id": callback.visitor_id, "limit": trail})]
    page = _group_page(conn, group, history, None, kinds or None, None)
    return CardReads(callback=callback, customer=customer, visitor=visitor, trail=views, history=page.events)


def _group_page(conn: Connection, group: list[str], limit: int,
                after: tuple[float, int] | None, kinds: list[str] | None,
                channels: list[str] | None) -> TimelinePage:
    params = {**queries.group_params(group), "limit": limit + 1}
    if kinds:
        params["kinds"] = kinds
    if channels:
        params["channels"] = channels
    if after is not None:
        params["at"], params["event_id"] = after
    statement = queries.page(len(group) == 1, bool(kinds), bool(channels), after is not None)
    events = [_rows.contact_event(row) for row in conn.execute(statement, params)]
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
    # Four statements, built once (timeline_queries), whatever the size of the record:
    # each round trip through the driver costs more than the indexed query it carries.
    customer, group, spend, orders = _group_and_spend(conn, customer_id, now - 365 * DAY)
    single, params = len(group) == 1, queries.group_params(group)
    open_callbacks = conn.execute(queries.open_callbacks(single), params).all()
    identities = conn.execute(queries.identities(single), params).all()
    found: tuple[list, list] = ([], [])
    for row in conn.execute(queries.last_and_first_page(single, bool(timeline)),
                            {**params, "limit": timeline + 1}):
        values = dict(row._mapping)
        found[values.pop("part")].append(_rows.contact_event_values(values))
    last, page = found
    for events in found:  # a UNION keeps no order
        events.sort(key=lambda e: (e.at, e.id), reverse=True)
    follow_ups = [e for e in last if e.kind == "wrap_up"
                  and (e.data or {}).get("disposition") == "Follow-up needed"]
    summary: dict[str, Any] = {
        "customer": {"id": customer.id, "name": customer.name, "email": customer.email,
                     "phone": customer.phone, "tier": customer.tier,
                     "created_at": customer.created_at, "updated_at": customer.updated_at},
        "merged": group[1:],
        "identities": [
            {"id": i.id, "kind": i.kind, "value": i.value, "verified": bool(i.verified),
             "source": i.source, "created_at": i.created_at}
            for i in identities
        ],
        "spend_365d_cents": spend, "orders_365d": orders,
        "open_issues": [
            {"callback_id": r.id, "state": r.state, "queue": r.queue, "topic": r.topic,
             "created_at": r.created_at} for r in open_callbacks
        ] + [{"follow_up": e.id, "at": e.at, "note": (e.data or {}).get("note", "")} for e in follow_ups],
        "last_contacts": [event_json(e) for e in last],
    }
    if timeline:
        more = len(page) > timeline
        page = page[:timeline]
        summary["timeline"] = {
            "items": [event_json(e) for e in page],
            "next_cursor": encode_cursor(page[-1].at, page[-1].id) if more else None,
        }
    return summary


def _group_and_spend(conn: Connection, customer_id: str,
                     since: float | None) -> tuple[CustomerRecord, list[str], int, int]:
    """The head's record, its group (head first), and the group's order total and count since ``since``.

    One statement for a customer nobody was merged into: the head's row and its
    direct members', each with its own orders summed by correlated subqueries
    (left out, and 0, when ``since`` is None). Raises :class:`NotFound`.
    """
    with_orders = since is not None
    rows = conn.execute(queries.head_and_members(with_orders), {"head": customer_id, "since": since}).all()
    mine = next((r for r in rows if r.id == customer_id), None)
    if mine is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    if mine.merged_into is not None:  # a merged id: start again from its head
        head = canonical_id(conn, customer_id)
        assert head is not None
        return _group_and_spend(conn, head, since)
    group = [customer_id] + [r.id for r in rows if r.id != customer_id]
    total, orders = sum(int(r.spend) for r in rows), sum(int(r.orders) for r in rows)
    frontier = group[1:]
    for _ in range(MAX_MERGE_DEPTH):  # members merged into members: rare, one statement a level
        if not frontier:
            break
        more = conn.execute(queries.members(with_orders), {"group": frontier, "since": since}).all()
        frontier = [r.id for r in more]
        group += frontier
        total += sum(int(r.spend) for r in more)
        orders += sum(int(r.orders) for r in more)
    else:
        raise RuntimeError(f"Merge tree under customer {customer_id!r} is deeper than {MAX_MERGE_DEPTH}")
    fields = {key: getattr(mine, key) for key in CUSTOMERS.c.keys()}
    customer = CustomerRecord(**{**fields, "corrected": tuple(fields["corrected"] or ())})
    return customer, group, total, orders


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
