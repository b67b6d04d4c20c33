"""The change feed: customers in the order they were last written (``changed_since``).

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
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from desktop.repository import _rows
from desktop.repository._store import CUSTOMERS, Store
from desktop.repository.records import CustomerRecord

__all__ = ["Changes", "decode_cursor", "encode_cursor", "customers_changed_since"]

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


class Changes(Store):
    async def customers_changed_since(self, after: int, *, limit: int = 50,
                                      site: str | None = None) -> list[CustomerRecord]:
        """Customers written after change number ``after`` (0: all), oldest change first."""
        rows = await self._db.read(customers_changed_since, after, limit, site)
        return [_rows.customer(row) for row in rows]
