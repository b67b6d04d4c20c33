"""The change feeds (``changed_since``): customers in the order they were last written, and
the contacts' timeline entries in the order they were added.

Every insert or update of a customer takes the next number of the ``change_counter`` row
into ``customers.change_seq`` (a trigger, migration 0860, so no write path can forget; on
PostgreSQL a deferred one, run at commit after every row lock is held, so it cannot
deadlock). The counter's row lock is held until commit, so commits that changed customers
are serialised on PostgreSQL and numbers become visible in increasing order: a reader who
has seen number n will never later find a row below n appear. A plain sequence would not
do: a transaction that took 7 may commit after one that took 8, and a reader at 8 would
miss 7 for ever.

The cursor handed to API clients is opaque (``c1.<n>``); a customer written again moves to
the end with a new number, so a poller sees its latest state once per change. Deleted
(erased) customers leave the feed; ``customer.erased`` webhooks tell of them.

Timeline entries are never updated: their feed is by id on SQLite (one writer at a time,
ids handed out under its lock) and by ``(xid, id)`` on PostgreSQL, only rows of
transactions older than every one still running (migration 0910 says why). Their cursor is
``e1.<xid>.<id>``; an erased customer's entries leave it with them.
"""

from __future__ import annotations

from sqlalchemy import literal_column, select, text, tuple_
from sqlalchemy.engine import Connection

from desktop.repository import _rows
from desktop.repository._store import CONTACT_EVENTS, CUSTOMERS, Store
from desktop.repository.records import ContactEventRecord, CustomerRecord

__all__ = ["Changes", "EventCursor", "decode_cursor", "encode_cursor", "customers_changed_since",
           "events_added_since"]

_PREFIX = "c1."


def encode_cursor(seq: int) -> str:
    return f"{_PREFIX}{seq}"


def decode_cursor(cursor: str) -> int:
    """The number inside a cursor; ``ValueError`` if it is not one of ours."""
    if cursor == "0":  # from the beginning
        return 0
    if not cursor.startswith(_PREFIX) or not cursor[len(_PREFIX):].isdigit() or len(cursor) > 24:
        raise ValueError(f"changed_since must be 0 or a next_cursor this API returned, not {cursor!r}")
    return int(cursor[len(_PREFIX):])


def customers_changed_since(conn: Connection, after: int, limit: int, site: str | None) -> list:
    """Customer rows (merged ones included: ``merged_into`` says so) with ``change_seq > after``."""
    statement = (select(CUSTOMERS).where(CUSTOMERS.c.change_seq > after)
                 .order_by(CUSTOMERS.c.change_seq).limit(limit))
    if site is not None:
        statement = statement.where(CUSTOMERS.c.site == site)
    return conn.execute(statement).all()


_EVENT_PREFIX = "e1."


class EventCursor(tuple):
    """``(xid, id)``: the last timeline entry a reader of the feed has seen."""

    def __new__(cls, xid: int, id_: int) -> "EventCursor":
        return super().__new__(cls, (xid, id_))

    def __str__(self) -> str:
        return f"{_EVENT_PREFIX}{self[0]}.{self[1]}"

    @classmethod
    def parse(cls, cursor: str) -> "EventCursor":
        """``0`` (from the beginning) or a cursor the feed gave; ``ValueError`` otherwise."""
        if cursor == "0":
            return cls(0, 0)
        parts = cursor[len(_EVENT_PREFIX):].split(".") if cursor.startswith(_EVENT_PREFIX) else []
        if len(cursor) > 48 or len(parts) != 2 or not all(part.isdigit() for part in parts):
            raise ValueError(f"changed_since must be 0 or a next_cursor this API returned, not {cursor[:60]!r}")
        return cls(int(parts[0]), int(parts[1]))


def events_added_since(conn: Connection, after: EventCursor, limit: int,
                       site: str | None) -> list[tuple[object, EventCursor]]:
    """Timeline rows of customers added after ``after``, oldest first, each with its cursor."""
    e = CONTACT_EVENTS.c
    postgres = conn.dialect.name == "postgresql"
    xid = literal_column("contact_events.xid::text") if postgres else literal_column("0")
    statement = select(CONTACT_EVENTS, xid.label("xid")).where(e.customer_id.is_not(None))
    if postgres:
        # Only transactions older than every running one: none of them can still add a row before these.
        statement = (statement.where(text("contact_events.xid < pg_snapshot_xmin(pg_current_snapshot())"))
                     .where(tuple_(literal_column("contact_events.xid"), e.id)
                            > tuple_(text("CAST(:after_xid AS xid8)").bindparams(after_xid=str(after[0])), after[1]))
                     .order_by(literal_column("contact_events.xid"), e.id))
    else:
        statement = statement.where(e.id > after[1]).order_by(e.id)
    if site is not None:
        statement = statement.join(CUSTOMERS, CUSTOMERS.c.id == e.customer_id).where(CUSTOMERS.c.site == site)
    return [(row, EventCursor(int(row.xid), int(row.id))) for row in conn.execute(statement.limit(limit))]


class Changes(Store):
    async def customers_changed_since(self, after: int, *, limit: int = 50,
                                      site: str | None = None) -> list[CustomerRecord]:
        """Customers written after change number ``after`` (0: all), oldest change first."""
        rows = await self._db.read(customers_changed_since, after, limit, site)
        return [_rows.customer(row) for row in rows]

    async def events_added_since(self, after: EventCursor, *, limit: int = 50,
                                 site: str | None = None) -> list[tuple[ContactEventRecord, EventCursor]]:
        """Customers' timeline entries added after ``after``, oldest first, each with its cursor."""
        rows = await self._db.read_fast(events_added_since, after, limit, site)
        return [(_rows.contact_event_values({k: v for k, v in row._mapping.items() if k != "xid"}), cursor)
                for row, cursor in rows]
