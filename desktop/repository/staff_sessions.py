"""Staff sessions at rest: one row per desk sign-in, so sign-out is final in every process.

Only a SHA-256 of the session id is stored: the id is random (96 bits) and travels in a
signed cookie, so the hash is enough to look it up and a copy of the table signs nobody in.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from desktop.repository._store import STAFF_SESSIONS, Store

__all__ = ["StaffSessions"]


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class StaffSessions(Store):
    async def open_staff_session(self, session_id: str, agent_id: str, *, now: float,
                                 max_age: float) -> None:
        """Record a sign-in valid for ``max_age`` seconds from ``now``; forgets expired ones."""
        def write(conn: Connection) -> None:
            conn.execute(delete(STAFF_SESSIONS).where(or_(
                STAFF_SESSIONS.c.expires_at <= now, STAFF_SESSIONS.c.revoked_at.is_not(None)),
                STAFF_SESSIONS.c.agent_id == agent_id))
            conn.execute(STAFF_SESSIONS.insert().values(
                id=_hash(session_id), agent_id=agent_id, created_at=now, expires_at=now + max_age))

        await self._db.write(write)

    async def staff_session_agent(self, session_id: str, *, now: float) -> str | None:
        """The agent id of a live session (not revoked, not expired), else None."""
        row = await self._db.read(lambda conn: conn.execute(
            select(STAFF_SESSIONS.c.agent_id).where(
                STAFF_SESSIONS.c.id == _hash(session_id), STAFF_SESSIONS.c.revoked_at.is_(None),
                STAFF_SESSIONS.c.expires_at > now)).first())
        return row.agent_id if row is not None else None

    async def revoke_staff_session(self, session_id: str, *, now: float) -> None:
        """End one sign-in (idempotent)."""
        await self._db.write(lambda conn: conn.execute(
            update(STAFF_SESSIONS).where(STAFF_SESSIONS.c.id == _hash(session_id),
                                         STAFF_SESSIONS.c.revoked_at.is_(None))
            .values(revoked_at=now)))

    async def revoke_agent_sessions(self, agent_id: str, *, now: float) -> int:
        """End every sign-in of one account (a password change, a removed agent)."""
        result = await self._db.write(lambda conn: conn.execute(
            update(STAFF_SESSIONS).where(STAFF_SESSIONS.c.agent_id == agent_id,
                                         STAFF_SESSIONS.c.revoked_at.is_(None))
            .values(revoked_at=now)))
        return result.rowcount
