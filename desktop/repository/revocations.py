"""Who may not come back by an old key: revoked visitor tokens and erased users.

Visitor tokens are signed, not stored, and live up to a year; a visitor id in
``revoked_visitors`` makes every token naming it worthless (the site's
sign-out, ``otodesk.reset()``; an erasure; the site's server through the API).

An erased signed-in customer leaves a tombstone in ``erased_users``: the site's
own HMAC of their user id (the ``user_hash`` of ``identify``), never the id.
``identify`` with a tombstoned id links nothing and stores nothing, so the next
page load can't recreate the person; the site can list the tombstones
(``GET /api/v1/erasures``) and match them to its users with the same HMAC.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from desktop.repository._store import ERASED_CUSTOMERS, ERASED_USERS, REVOKED_VISITORS, VISITORS, Store, first, upsert
from desktop.repository.identities import canonical_id, group_ids

__all__ = ["Revocations", "revoke_visitors", "add_tombstones"]

_REVOKED = select(REVOKED_VISITORS.c.visitor_id).where(REVOKED_VISITORS.c.visitor_id == bindparam("visitor_id"))


class Revocations(Store):
    async def revoke_visitors(self, visitor_ids: Iterable[str], *, reason: str,
                              now: float | None = None) -> int:
        """Revoke every token of these visitors (idempotent); how many ids were given."""
        ids = list(dict.fromkeys(visitor_ids))
        now = time.time() if now is None else now
        await self._db.write(revoke_visitors, ids, reason, now)
        return len(ids)

    async def revoke_customer_visitors(self, customer_id: str, *, reason: str,
                                       now: float | None = None) -> list[str]:
        """Sign the person ``customer_id`` belongs to out of every browser; the visitor ids.

        Raises nothing for an unknown customer (no ids).
        """
        now = time.time() if now is None else now

        def revoke(conn: Connection) -> list[str]:
            head = canonical_id(conn, customer_id)
            if head is None:
                return []
            ids = list(conn.execute(select(VISITORS.c.id).where(
                VISITORS.c.customer_id.in_(group_ids(conn, head)))).scalars())
            revoke_visitors(conn, ids, reason, now)
            return ids

        return await self._db.write(revoke)

    async def owners_of_visitors(self, visitor_ids: Iterable[str]) -> list[str]:
        """The customer ids these visitors (browsers) belong to, where they still exist."""
        ids = list(visitor_ids)
        return await self._db.read(lambda conn: list(conn.execute(
            select(VISITORS.c.customer_id).where(VISITORS.c.id.in_(ids))).scalars().unique()))

    async def keep_erasure_lists(self, *, erased_customers: dict[str, float], revoked_visitors: list[dict],
                                 erased_users: list[dict]) -> None:
        """Add these rows to the lists that outlive a person (``otodesk restore`` carries them
        over from the database it replaces); rows already there stay as they are."""
        def keep(conn: Connection) -> None:
            for table, rows, key in (
                    (ERASED_CUSTOMERS, [{"customer_id": c, "erased_at": at} for c, at in erased_customers.items()],
                     "customer_id"),
                    (REVOKED_VISITORS, revoked_visitors, "visitor_id"),
                    (ERASED_USERS, erased_users, "user_key")):
                if rows:
                    conn.execute(upsert(conn, table).values(rows).on_conflict_do_nothing(index_elements=[key]))

        await self._db.write(keep)

    async def visitor_revoked(self, visitor_id: str) -> bool:
        """Asked before every message of a customer's socket: one statement, built once."""
        return await self._db.read_fast(first, _REVOKED, {"visitor_id": visitor_id}) is not None

    async def user_erased(self, user_key: str) -> bool:
        """Whether ``user_key`` (the site's ``user_hash`` of a user id) was erased."""
        return await self._db.read(first, select(ERASED_USERS.c.user_key).where(
            ERASED_USERS.c.user_key == user_key.lower())) is not None

    async def list_erased_users(self, *, since: float = 0.0, limit: int = 500) -> list[tuple[str, float]]:
        """``(user_key, erased_at)`` erased after ``since`` (epoch s), oldest first."""
        rows = await self._db.read(lambda conn: conn.execute(
            select(ERASED_USERS.c.user_key, ERASED_USERS.c.erased_at)
            .where(ERASED_USERS.c.erased_at > since)
            .order_by(ERASED_USERS.c.erased_at, ERASED_USERS.c.user_key).limit(limit)).all())
        return [(row.user_key, row.erased_at) for row in rows]

    async def lift_tombstone(self, user_key: str) -> bool:
        """Let this user id be linked again (they came back and signed up anew); whether it was there."""
        return await self._db.write(lambda conn: conn.execute(ERASED_USERS.delete().where(
            ERASED_USERS.c.user_key == user_key.lower())).rowcount > 0)


def revoke_visitors(conn: Connection, visitor_ids: list[str], reason: str, now: float) -> None:
    if visitor_ids:
        conn.execute(upsert(conn, REVOKED_VISITORS).values(
            [{"visitor_id": v, "revoked_at": now, "reason": reason} for v in visitor_ids],
        ).on_conflict_do_nothing(index_elements=["visitor_id"]))


def add_tombstones(conn: Connection, user_keys: Iterable[str], requested_by: str, now: float) -> None:
    rows = [{"user_key": key.lower(), "erased_at": now, "requested_by": requested_by}
            for key in dict.fromkeys(user_keys)]
    if rows:
        conn.execute(upsert(conn, ERASED_USERS).values(rows).on_conflict_do_nothing(
            index_elements=["user_key"]))
