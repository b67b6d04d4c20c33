"""Customers, their visitors (browsers) and the timeline of every contact."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import (
    CALLBACKS,
    CONTACT_EVENTS,
    CUSTOMERS,
    VISITORS,
    Store,
    first,
)
from desktop.repository.errors import Conflict, NotFound
from desktop.repository.outbox import emit
from desktop.repository.records import (
    ContactEventRecord,
    CustomerRecord,
    VisitorRecord,
    check_phone,
    check_tier,
)

__all__ = ["Contacts", "PAGE_VIEW"]

#: The kind of timeline entry :meth:`Contacts.record_page_view` writes.
PAGE_VIEW = "page_view"


class Contacts(Store):
    """One customer, many visitors, one timeline."""

    async def touch_visitor(self, visitor_id: str, now: float) -> VisitorRecord:
        """Mark the visitor seen at ``now``; a new visitor gets a new anonymous customer.

        Call it whenever a visitor token shows up (page load, socket connect).
        Safe to race with itself: two first touches create one visitor.
        """
        try:
            return await self._db.write(_touch_visitor, visitor_id, now)
        except IntegrityError:
            # Another request created this visitor between our UPDATE and INSERT
            # (PostgreSQL; SQLite writes one at a time): the UPDATE finds it now.
            return await self._db.write(_touch_visitor, visitor_id, now)

    async def get_visitor(self, visitor_id: str) -> VisitorRecord | None:
        row = await self._db.read_fast(first, select(VISITORS).where(VISITORS.c.id == visitor_id))
        return _rows.visitor(row) if row is not None else None

    async def get_customer(self, customer_id: str) -> CustomerRecord | None:
        row = await self._db.read(first, select(CUSTOMERS).where(CUSTOMERS.c.id == customer_id))
        return _rows.customer(row) if row is not None else None

    async def get_customer_by_external_id(self, external_id: str) -> CustomerRecord | None:
        """The customer a site vouched for under its own id ``external_id``, if any."""
        statement = select(CUSTOMERS).where(CUSTOMERS.c.external_id == external_id)
        row = await self._db.read(first, statement)
        return _rows.customer(row) if row is not None else None

    async def update_customer(
        self,
        customer_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        external_id: str | None = None,
        tier: str | None = None,
        by_customer: bool = False,
        site_hint: bool = False,
        now: float | None = None,
    ) -> CustomerRecord:
        """Set the given fields (``None`` leaves a field as it is); return the customer.

        ``by_customer``: the customer's own correction ("My data"); the fields given
        are remembered in ``corrected``. ``site_hint``: what the site's ``identify``
        says; a field the customer corrected is left as the customer wrote it.

        ``phone`` must be E.164 and ``tier`` one of ``records.TIERS`` (else
        ``ValueError``); ``now`` (epoch seconds, for ``updated_at``) defaults to
        the wall clock. Raises :class:`NotFound` for an unknown customer and
        :class:`Conflict` if ``external_id`` belongs to another customer.
        """
        check_phone(phone)
        if tier is not None:
            check_tier(tier)
        given = dict(name=name, email=email, phone=phone, external_id=external_id, tier=tier)
        values: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
        values["updated_at"] = time.time() if now is None else now
        try:
            row = await self._db.write(_update_customer, customer_id, values, by_customer, site_hint)
        except IntegrityError:
            raise Conflict(f"The external id {external_id!r} belongs to another customer") from None
        if row is None:
            raise NotFound(f"No customer with id {customer_id!r}")
        return _rows.customer(row)

    async def set_visitor_context(
        self, visitor_id: str, context: Mapping[str, Any], now: float
    ) -> VisitorRecord:
        """Replace what the site said about this visitor (``setContext``) as a whole.

        ``context`` must be JSON-serialisable; its size is the caller's to limit.
        Raises :class:`NotFound` for an unknown visitor.
        """
        statement = (
            update(VISITORS).where(VISITORS.c.id == visitor_id)
            .values(context=dict(context), last_seen_at=now).returning(VISITORS)
        )
        row = await self._db.write(first, statement)
        if row is None:
            raise NotFound(f"No visitor with id {visitor_id!r}")
        return _rows.visitor(row)

    async def record_page_view(
        self, visitor_id: str, *, url: str, title: str, now: float, current: bool = True
    ) -> ContactEventRecord:
        """Note that the visitor is now on ``url``; return the new timeline entry.

        Updates the visitor's current page (unless ``current=False``: a page
        seen earlier, reported late) and appends a ``page_view`` entry at
        ``now`` (channel ``web``, data ``{"url", "title"}``). Raises
        :class:`NotFound` for an unknown visitor (call :meth:`touch_visitor` first).
        """
        return await self._db.write(_record_page_view, visitor_id, url, title, now, current)

    async def trail(self, visitor_id: str, *, limit: int = 50) -> list[ContactEventRecord]:
        """The visitor's page views, newest first, at most ``limit``."""
        ce = CONTACT_EVENTS.c
        statement = (
            select(CONTACT_EVENTS).where(ce.visitor_id == visitor_id, ce.kind == PAGE_VIEW)
            .order_by(ce.at.desc(), ce.id.desc()).limit(limit)
        )
        return await self._db.read_fast(_contact_events, statement)

    async def timeline(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        before_id: int | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[ContactEventRecord]:
        """The customer's timeline, newest first (by ``at``, then id), at most ``limit``.

        For the next page pass the last entry's id as ``before_id``: entries
        strictly older than it come back (none if that id does not exist).
        ``kinds`` keeps only those kinds.
        """
        ce = CONTACT_EVENTS.c
        statement = select(CONTACT_EVENTS).where(ce.customer_id == customer_id)
        if kinds is not None:
            statement = statement.where(ce.kind.in_(list(kinds)))
        if before_id is not None:
            anchor = select(ce.at).where(ce.id == before_id).scalar_subquery()
            statement = statement.where(
                or_(ce.at < anchor, and_(ce.at == anchor, ce.id < before_id))
            )
        statement = statement.order_by(ce.at.desc(), ce.id.desc()).limit(limit)
        return await self._db.read(_contact_events, statement)

    async def last_contact_event(
        self, customer_id: str, *, kind: str, callback_id: str
    ) -> ContactEventRecord | None:
        """The customer's newest ``kind`` entry about ``callback_id``, or None.

        Found through the customer's timeline index: pass the ``customer_id``
        the entry was written with (the callback's).
        """
        ce = CONTACT_EVENTS.c
        statement = (
            select(CONTACT_EVENTS)
            .where(ce.customer_id == customer_id, ce.kind == kind, ce.callback_id == callback_id)
            .order_by(ce.at.desc(), ce.id.desc()).limit(1)
        )
        found = await self._db.read(_contact_events, statement)
        return found[0] if found else None

    async def add_contact_event(
        self,
        *,
        customer_id: str,
        kind: str,
        channel: str,
        at: float,
        visitor_id: str | None = None,
        callback_id: str | None = None,
        agent_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> ContactEventRecord:
        """Append one entry to the customer's timeline and return it.

        ``data`` must be JSON-serialisable. Raises :class:`NotFound` for an
        unknown customer.
        """
        statement = CONTACT_EVENTS.insert().values(
            customer_id=customer_id, visitor_id=visitor_id, callback_id=callback_id,
            agent_id=agent_id, kind=kind, channel=channel, at=at, data=dict(data or {}),
        ).returning(CONTACT_EVENTS)

        def write(conn: Connection) -> Any:
            row = first(conn, statement)
            if kind == "call_recording":  # the mixed file is on disk: tell the receivers
                emit(conn, "recording.ready", {
                    "callback_id": callback_id, "customer_id": customer_id, "seconds": row.data.get("seconds"),
                    "url": row.data.get("url")}, at=at, customer_id=customer_id, callback_id=callback_id)
            return row

        try:
            return _rows.contact_event(await self._db.write(write))
        except IntegrityError:
            raise NotFound(f"No customer with id {customer_id!r}") from None

    async def customer_export(self, customer_id: str) -> dict[str, Any]:
        """Everything stored about a customer, as JSON-ready plain data.

        Keys: ``customer``, ``visitors``, ``callbacks``, ``contact_events``
        (each oldest first). Raises :class:`NotFound` for an unknown customer.
        """
        return await self._db.read(_customer_export, customer_id)


def _contact_events(conn: Connection, statement: Any) -> list[ContactEventRecord]:
    return [_rows.contact_event(row) for row in conn.execute(statement)]


def _touch_visitor(conn: Connection, visitor_id: str, now: float) -> VisitorRecord:
    row = conn.execute(
        update(VISITORS).where(VISITORS.c.id == visitor_id)
        .values(last_seen_at=now).returning(VISITORS)
    ).first()
    if row is None:
        customer_id = uuid.uuid4().hex
        conn.execute(CUSTOMERS.insert().values(
            id=customer_id, tier="standard", created_at=now, updated_at=now,
        ))
        row = conn.execute(VISITORS.insert().values(
            id=visitor_id, customer_id=customer_id, created_at=now, last_seen_at=now, context={},
        ).returning(VISITORS)).one()
    return _rows.visitor(row)


def _record_page_view(
    conn: Connection, visitor_id: str, url: str, title: str, now: float, current: bool
) -> ContactEventRecord:
    if current:
        customer_id = conn.execute(
            update(VISITORS).where(VISITORS.c.id == visitor_id)
            .values(current_url=url, current_title=title, last_seen_at=now)
            .returning(VISITORS.c.customer_id)
        ).scalar()
    else:
        customer_id = conn.execute(
            select(VISITORS.c.customer_id).where(VISITORS.c.id == visitor_id)
        ).scalar()
    if customer_id is None:
        raise NotFound(f"No visitor with id {visitor_id!r}")
    row = conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=customer_id, visitor_id=visitor_id, kind=PAGE_VIEW, channel="web",
        at=now, data={"url": url, "title": title},
    ).returning(CONTACT_EVENTS)).one()
    return _rows.contact_event(row)


def _customer_export(conn: Connection, customer_id: str) -> dict[str, Any]:
    customer = conn.execute(select(CUSTOMERS).where(CUSTOMERS.c.id == customer_id)).first()
    if customer is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    visitors = conn.execute(
        select(VISITORS).where(VISITORS.c.customer_id == customer_id)
        .order_by(VISITORS.c.created_at)
    )
    callbacks = conn.execute(
        select(CALLBACKS).where(CALLBACKS.c.customer_id == customer_id)
        .order_by(CALLBACKS.c.created_at)
    )
    events = conn.execute(
        select(CONTACT_EVENTS).where(CONTACT_EVENTS.c.customer_id == customer_id)
        .order_by(CONTACT_EVENTS.c.at, CONTACT_EVENTS.c.id)
    )
    return {
        "customer": dataclasses.asdict(_rows.customer(customer)),
        "visitors": [dataclasses.asdict(_rows.visitor(row)) for row in visitors],
        "callbacks": [_plain(dataclasses.asdict(_rows.callback(row))) for row in callbacks],
        "contact_events": [dataclasses.asdict(_rows.contact_event(row)) for row in events],
    }


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    # Enum members become their string values, so json.dumps and == "queued" both work.
    return {key: getattr(value, "value", value) for key, value in record.items()}


#: The fields a customer may correct in "My data".
CORRECTABLE = ("name", "email", "phone")


def _update_customer(conn: Connection, customer_id: str, values: dict[str, Any], by_customer: bool,
                     site_hint: bool) -> Any:
    if by_customer or site_hint:
        values = _with_corrections(conn, customer_id, values, by_customer, site_hint)
        if values is None:
            return None
    return first(conn, update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id)
                 .values(values).returning(CUSTOMERS))


def _with_corrections(conn: Connection, customer_id: str, values: dict[str, Any], by_customer: bool,
                      site_hint: bool) -> dict[str, Any] | None:
    """``values`` less what the customer corrected (a site's hint), or noting what they correct
    now (their own word); None for an unknown customer."""
    current = first(conn, select(CUSTOMERS.c.corrected).where(CUSTOMERS.c.id == customer_id))
    if current is None:
        return None
    corrected = list(current.corrected or [])
    if site_hint:  # the customer's own word wins over the site's profile
        values = {key: value for key, value in values.items() if key not in corrected}
    if by_customer:
        corrected += [key for key in CORRECTABLE if key in values and key not in corrected]
        values["corrected"] = corrected
    return values
