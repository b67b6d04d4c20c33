"""The right to erasure, in the database: a person's rows go, anonymous counts stay.

For the customer's whole group (merged customers included): timeline entries,
identities, visitors, merge audit rows and the customers themselves are
deleted; callbacks are kept for the queue statistics but stripped of every
personal field and moved to a fresh empty customer, as are orders (revenue
counts). Tables added by other features are handled by convention: any row
with a ``customer_id``, ``visitor_id`` or ``callback_id`` column naming the
person is deleted. What was removed is logged in ``erasures`` as counts only.

On SQLite the connection hook turns ``secure_delete`` on, so deleted rows are
overwritten in the file, not just unlinked; the caller checkpoints the WAL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import MetaData, or_, select, update
from sqlalchemy.engine import Connection

from desktop.repository._store import (
    CALLBACKS,
    CONTACT_EVENTS,
    CUSTOMERS,
    ERASED_CUSTOMERS,
    ERASURES,
    IDENTITIES,
    MERGES,
    ORDERS,
    VISITORS,
    Store,
    upsert,
)
from desktop.repository.errors import NotFound
from desktop.repository.outbox import emit, redact_customers
from desktop.repository.identities import USER_ID, canonical_id, group_ids
from desktop.repository.records import ErasureResult
from desktop.repository.revocations import add_tombstones, revoke_visitors

__all__ = ["Erasure"]

_OWN_TABLES = {t.name for t in (CALLBACKS, CONTACT_EVENTS, CUSTOMERS, ERASURES, IDENTITIES,
                                MERGES, ORDERS, VISITORS)} | {"offers", "agents", "queues",
                                                              "products", "api_keys", "alembic_version",
                                                              # revocations outlive the person
                                                              "revoked_visitors", "erased_users",
                                                              "erased_customers",
                                                              # redacted, not deleted (outbox.py)
                                                              "webhook_events", "webhook_deliveries",
                                                              "webhook_attempts", "webhook_subscriptions"}


class Erasure(Store):
    async def erase_customer(self, customer_id: str, *, requested_by: str, now: float | None = None,
                             tombstone: Callable[[str], str] | None = None) -> ErasureResult:
        """Erase the person ``customer_id`` belongs to, in one transaction.

        Their visitors' tokens are revoked, and each verified user id of theirs
        leaves a tombstone ``tombstone(user_id)`` (the site's HMAC of it) so that
        ``identify`` can't recreate them; without ``tombstone`` none is kept.
        Raises :class:`NotFound` for an unknown customer. The result's ids and
        identifiers are for scrubbing files and Redis; store none of them.
        """
        now = time.time() if now is None else now
        return await self._db.write(_erase, customer_id, requested_by, now, tombstone)


def _erase(conn: Connection, customer_id: str, requested_by: str, now: float,
           tombstone: Callable[[str], str] | None) -> ErasureResult:
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    group = group_ids(conn, head)
    visitors = list(conn.execute(select(VISITORS.c.id).where(VISITORS.c.customer_id.in_(group))).scalars())
    callbacks = conn.execute(
        select(CALLBACKS.c.id, CALLBACKS.c.name, CALLBACKS.c.phone).where(CALLBACKS.c.customer_id.in_(group))
    ).all()
    callback_ids = [row.id for row in callbacks]
    identifiers: set[str] = set()
    for row in conn.execute(select(CUSTOMERS.c.name, CUSTOMERS.c.email, CUSTOMERS.c.phone)
                            .where(CUSTOMERS.c.id.in_(group))):
        identifiers.update(v for v in row if v)
    identifiers.update(v for row in callbacks for v in (row.name, row.phone) if v)
    identifiers.update(conn.execute(select(IDENTITIES.c.value).where(
        IDENTITIES.c.customer_id.in_(group))).scalars())

    counts: dict[str, int] = {"customers": len(group), "visitors": len(visitors),
                              "callbacks": len(callback_ids)}
    counts["other_rows"] = _erase_feature_rows(conn, group, visitors, callback_ids)
    revoke_visitors(conn, visitors, "erasure", now)
    if tombstone is not None:
        users = conn.execute(select(IDENTITIES.c.value).where(
            IDENTITIES.c.customer_id.in_(group), IDENTITIES.c.kind == USER_ID,
            IDENTITIES.c.verified.is_(True))).scalars()
        keys = [tombstone(user) for user in users]
        add_tombstones(conn, keys, requested_by, now)
        counts["tombstones"] = len(keys)

    anonymous = uuid.uuid4().hex
    conn.execute(CUSTOMERS.insert().values(id=anonymous, tier="standard", created_at=now, updated_at=now))
    counts["contact_events"] = conn.execute(CONTACT_EVENTS.delete().where(or_(
        CONTACT_EVENTS.c.customer_id.in_(group), CONTACT_EVENTS.c.visitor_id.in_(visitors),
        CONTACT_EVENTS.c.callback_id.in_(callback_ids),
    ))).rowcount
    conn.execute(update(CALLBACKS).where(CALLBACKS.c.customer_id.in_(group)).values(
        customer_id=anonymous, visitor_id=None, name="", topic="", message="", phone=None,
        note=None, command_id=None, consent=None, summary=None,
    ))
    counts["orders"] = conn.execute(update(ORDERS).where(ORDERS.c.customer_id.in_(group))
                                    .values(customer_id=anonymous)).rowcount
    counts["identities"] = conn.execute(IDENTITIES.delete().where(
        IDENTITIES.c.customer_id.in_(group))).rowcount
    counts["merges"] = conn.execute(MERGES.delete().where(or_(
        MERGES.c.source_id.in_(group), MERGES.c.target_id.in_(group)))).rowcount
    conn.execute(VISITORS.delete().where(VISITORS.c.customer_id.in_(group)))
    conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id.in_(group)).values(merged_into=None))
    conn.execute(CUSTOMERS.delete().where(CUSTOMERS.c.id.in_(group)))
    counts["webhook_events"] = redact_customers(conn, group, callback_ids)
    conn.execute(ERASURES.insert().values(at=now, requested_by=requested_by, counts=counts))
    conn.execute(upsert(conn, ERASED_CUSTOMERS).values(
        [{"customer_id": c, "erased_at": now} for c in group]).on_conflict_do_nothing(index_elements=["customer_id"]))
    # After the redaction: this one names the erased ids, so the receiver can forget them too.
    emit(conn, "customer.erased", {"customer_ids": sorted(group)}, at=now, customer_id=head)
    return ErasureResult(counts=counts, customer_ids=tuple(group), visitor_ids=tuple(visitors),
                         callback_ids=tuple(callback_ids),
                         identifiers=tuple(sorted(i for i in identifiers if len(i) >= 3)))


def _erase_feature_rows(conn: Connection, group: list[str], visitors: list[str],
                        callbacks: list[str]) -> int:
    """Delete rows of other features' tables that name the person (by column convention)."""
    metadata = MetaData()
    metadata.reflect(conn)
    wanted = {"customer_id": group, "visitor_id": visitors, "callback_id": callbacks}
    deleted = 0
    # Children before parents: reflect's sorted_tables is parents first.
    for table in reversed(metadata.sorted_tables):
        if table.name in _OWN_TABLES:
            continue
        clauses = [table.c[name].in_(ids) for name, ids in wanted.items() if name in table.c and ids]
        if clauses:
            deleted += conn.execute(table.delete().where(or_(*clauses))).rowcount
    return deleted
