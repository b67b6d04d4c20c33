"""The console's settings at rest (``centre_settings``) and the first admin's one-time links.

A setting is saved with its ``admin_audit`` row in one transaction (before and after), as every
admin change (``desktop/repository/admin.py``). A setup link is stored as the SHA-256 of its
secret only; using it creates the admin and marks it used in one transaction, and only while
the link is unused, unexpired and the centre still has no admin: a second use finds nothing.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import AGENTS, CENTRE_SETTINGS, SETUP_LINKS, Store, upsert
from desktop.repository.admin import record_audit, user_json
from desktop.repository.errors import DuplicateUser
from desktop.repository.records import AgentRecord
from desktop.routing.events import AgentState

__all__ = ["CentreSettings", "SetupLinkRefused"]


class SetupLinkRefused(LookupError):
    """The link is unknown, expired, used already, or an admin exists by now."""


class CentreSettings(Store):
    async def centre_settings(self) -> dict[str, Any]:
        """Every stored setting, ``key -> value`` (a key never saved is absent)."""
        def read(conn: Connection) -> dict[str, Any]:
            return {row.key: row.value for row in conn.execute(select(CENTRE_SETTINGS))}

        return await self._db.read(read)

    async def admin_save_setting(self, key: str, value: Any, *, actor: str, default: Any,
                                 now: float | None = None) -> Any:
        """Store ``value`` under ``key`` and audit the change with what was in force before: the
        stored value, read in the same transaction, or ``default`` (the environment's) for a key
        never saved. Action ``settings.<key>``; returns that value before."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> Any:
            row = conn.execute(select(CENTRE_SETTINGS.c.value).where(CENTRE_SETTINGS.c.key == key)).first()
            before = row.value if row is not None else default
            statement = upsert(conn, CENTRE_SETTINGS).values(key=key, value=value, updated_at=now)
            conn.execute(statement.on_conflict_do_update(
                index_elements=[CENTRE_SETTINGS.c.key], set_={"value": value, "updated_at": now}))
            record_audit(conn, now, actor, f"settings.{key}", f"settings:{key}", {"value": before}, {"value": value})
            return before

        return await self._db.write(write)

    # -- the first admin ----------------------------------------------------------------

    async def has_admin(self) -> bool:
        """Whether any account, enabled or not, has the admin role."""
        def read(conn: Connection) -> bool:
            return conn.execute(select(func.count()).select_from(AGENTS)
                                .where(AGENTS.c.role == "admin")).scalar_one() > 0

        return await self._db.read(read)

    async def issue_setup_link(self, link_hash: str, *, expires_at: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        await self._db.write(lambda conn: conn.execute(SETUP_LINKS.insert().values(
            id=link_hash, issued_at=now, expires_at=expires_at, used_at=None)))

    async def setup_link_usable(self, link_hash: str, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now

        def read(conn: Connection) -> bool:
            row = conn.execute(select(SETUP_LINKS).where(SETUP_LINKS.c.id == link_hash)).first()
            admins = conn.execute(select(func.count()).select_from(AGENTS).where(AGENTS.c.role == "admin")).scalar_one()
            return row is not None and row.used_at is None and row.expires_at > now and not admins

        return await self._db.read(read)

    async def use_setup_link(self, link_hash: str, *, username: str, password: str, display_name: str,
                             now: float | None = None) -> AgentRecord:
        """Create the first admin with the link; :class:`SetupLinkRefused` when it can't be
        used (then nothing changes), :class:`DuplicateUser` when the username is taken."""
        now = time.time() if now is None else now
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        values = dict(id=uuid.uuid4().hex, username=username, display_name=display_name,
                      password_hash=password_hash, role="admin", skills=[],
                      state=AgentState.OFFLINE.value, state_reason="", state_since=now, created_at=now)

        def write(conn: Connection) -> AgentRecord:
            # The conditional update is the lock: of two uses at once, one updates the row.
            used = conn.execute(update(SETUP_LINKS).where(
                SETUP_LINKS.c.id == link_hash, SETUP_LINKS.c.used_at.is_(None), SETUP_LINKS.c.expires_at > now,
            ).values(used_at=now)).rowcount
            admins = conn.execute(select(func.count()).select_from(AGENTS).where(AGENTS.c.role == "admin")).scalar_one()
            if not used or admins:
                raise SetupLinkRefused("this set-up link is not valid any more")
            agent = _rows.agent(conn.execute(AGENTS.insert().values(values).returning(AGENTS)).one())
            record_audit(conn, now, "setup-link", "user.add", f"user:{agent.id}", None, user_json(agent))
            return agent

        try:
            return await self._db.write(write)
        except IntegrityError:
            raise DuplicateUser(f"The username {username!r} is already taken") from None
