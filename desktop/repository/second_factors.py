"""Second factors at rest: a staff account's TOTP secret (sealed) and its recovery codes (digests).

The repository never sees a secret or a code in clear: ``desktop/auth/totp.py`` seals the one
and digests the other. What it guarantees is the single use, across processes: a time step is
accepted only when it is later than the last one (``use_totp_step``, one conditional UPDATE),
a recovery code only while unused (``use_recovery_code``, the same). Turning the factor on or
off, and an admin's reset, are written with their ``admin_audit`` row in one transaction.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection

from desktop.repository import _rows
from desktop.repository._store import AGENTS, STAFF_RECOVERY_CODES, STAFF_TOTP, Store, upsert
from desktop.repository.admin import record_audit, user_json
from desktop.repository.errors import NotFound

__all__ = ["SecondFactor", "SecondFactors"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactor:
    """An account's TOTP row as the sign-in needs it (the secrets still sealed)."""

    agent_id: str
    #: The confirmed secret, sealed; None while only an enrolment is pending.
    secret: str | None
    pending: str | None
    enrolled_at: float | None
    last_step: int | None
    #: Recovery codes not used yet.
    recovery_left: int

    @property
    def enrolled(self) -> bool:
        return self.secret is not None


class SecondFactors(Store):
    async def second_factor(self, agent_id: str) -> SecondFactor | None:
        """The account's row, or None when it never started an enrolment."""
        return await self._db.read(_second_factor, agent_id)

    async def second_factors_enrolled(self) -> dict[str, float]:
        """Every account with a confirmed second factor: agent id → when it was enrolled."""
        def read(conn: Connection) -> dict[str, float]:
            rows = conn.execute(select(STAFF_TOTP.c.agent_id, STAFF_TOTP.c.enrolled_at)
                                .where(STAFF_TOTP.c.secret.is_not(None)))
            return {row.agent_id: row.enrolled_at for row in rows}

        return await self._db.read(read)

    async def set_pending_totp(self, agent_id: str, pending: str, *, now: float | None = None) -> None:
        """Keep a (sealed) secret shown for enrolment until a code confirms it; replaces an
        earlier pending one, never a confirmed secret."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> None:
            statement = upsert(conn, STAFF_TOTP).values(agent_id=agent_id, pending=pending, updated_at=now)
            conn.execute(statement.on_conflict_do_update(
                index_elements=[STAFF_TOTP.c.agent_id], set_={"pending": pending, "updated_at": now}))

        await self._db.write(write)

    async def confirm_totp(self, agent_id: str, *, pending: str, step: int, digests: Iterable[str],
                           actor: str, now: float | None = None) -> bool:
        """Make the pending secret the account's (its code of ``step`` counts as used), replace the
        recovery codes by ``digests`` and audit it. False when ``pending`` is no longer the one
        pending (another tab started again) or a factor is already confirmed."""
        now = time.time() if now is None else now
        digests = list(digests)

        def write(conn: Connection) -> bool:
            done = conn.execute(update(STAFF_TOTP).where(
                STAFF_TOTP.c.agent_id == agent_id, STAFF_TOTP.c.pending == pending, STAFF_TOTP.c.secret.is_(None))
                .values(secret=pending, pending=None, enrolled_at=now, last_step=step, updated_at=now))
            if done.rowcount != 1:
                return False
            _replace_codes(conn, agent_id, digests, now)
            agent = _agent(conn, agent_id)
            record_audit(conn, now, actor, "user.second_factor_on", f"user:{agent_id}",
                         {**agent, "second_factor": False}, {**agent, "second_factor": True})
            return True

        return await self._db.write(write)

    async def use_totp_step(self, agent_id: str, step: int) -> bool:
        """Accept the code of ``step`` once: True only if it is later than every step accepted
        before (two processes given the same code: one True, one False)."""
        result = await self._db.write(lambda conn: conn.execute(update(STAFF_TOTP).where(
            STAFF_TOTP.c.agent_id == agent_id, STAFF_TOTP.c.secret.is_not(None),
            or_(STAFF_TOTP.c.last_step.is_(None), STAFF_TOTP.c.last_step < step)).values(last_step=step)))
        return result.rowcount == 1

    async def use_recovery_code(self, agent_id: str, digest: str, *, now: float | None = None) -> bool:
        """Spend one recovery code: True the first time, False for an unknown or used one."""
        now = time.time() if now is None else now
        result = await self._db.write(lambda conn: conn.execute(update(STAFF_RECOVERY_CODES).where(
            STAFF_RECOVERY_CODES.c.agent_id == agent_id, STAFF_RECOVERY_CODES.c.digest == digest,
            STAFF_RECOVERY_CODES.c.used_at.is_(None)).values(used_at=now)))
        return result.rowcount == 1

    async def replace_recovery_codes(self, agent_id: str, digests: Iterable[str], *,
                                     now: float | None = None) -> None:
        """New recovery codes for an enrolled account; the old ones stop working."""
        now = time.time() if now is None else now
        digests = list(digests)
        await self._db.write(lambda conn: _replace_codes(conn, agent_id, digests, now))

    async def remove_second_factor(self, agent_id: str, *, actor: str, action: str,
                                   now: float | None = None) -> bool:
        """Delete the account's factor and recovery codes (``action``: ``user.second_factor_off``
        by the member, ``user.second_factor_reset`` by an admin) and audit it when there was a
        confirmed one; True if there was. :class:`NotFound` for an unknown account."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> bool:
            agent = _agent(conn, agent_id)
            had = conn.execute(select(STAFF_TOTP.c.secret).where(STAFF_TOTP.c.agent_id == agent_id)).first()
            conn.execute(delete(STAFF_RECOVERY_CODES).where(STAFF_RECOVERY_CODES.c.agent_id == agent_id))
            conn.execute(delete(STAFF_TOTP).where(STAFF_TOTP.c.agent_id == agent_id))
            enrolled = had is not None and had.secret is not None
            if enrolled:
                record_audit(conn, now, actor, action, f"user:{agent_id}",
                             {**agent, "second_factor": True}, {**agent, "second_factor": False})
            return enrolled

        return await self._db.write(write)


def _second_factor(conn: Connection, agent_id: str) -> SecondFactor | None:
    row = conn.execute(select(STAFF_TOTP).where(STAFF_TOTP.c.agent_id == agent_id)).first()
    if row is None:
        return None
    left = conn.execute(select(func.count()).select_from(STAFF_RECOVERY_CODES).where(
        STAFF_RECOVERY_CODES.c.agent_id == agent_id, STAFF_RECOVERY_CODES.c.used_at.is_(None))).scalar_one()
    return SecondFactor(agent_id=agent_id, secret=row.secret, pending=row.pending, enrolled_at=row.enrolled_at,
                        last_step=row.last_step, recovery_left=left)


def _replace_codes(conn: Connection, agent_id: str, digests: list[str], now: float) -> None:
    conn.execute(delete(STAFF_RECOVERY_CODES).where(STAFF_RECOVERY_CODES.c.agent_id == agent_id))
    if digests:
        conn.execute(STAFF_RECOVERY_CODES.insert(), [
            {"agent_id": agent_id, "digest": digest, "created_at": now} for digest in digests])


def _agent(conn: Connection, agent_id: str) -> dict:
    row = conn.execute(select(AGENTS).where(AGENTS.c.id == agent_id)).first()
    if row is None:
        raise NotFound(f"No user with id {agent_id!r}")
    return user_json(_rows.agent(row))
