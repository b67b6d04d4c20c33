"""Agents (with their passwords and states) and queues."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import AGENTS, QUEUES, Store, upsert
from desktop.repository.errors import DuplicateUser, NotFound
from desktop.repository.records import SSO_MARKER, AgentRecord, QueueRecord, check_role
from desktop.routing.events import AgentState

__all__ = ["Agents"]


class Agents(Store):
    """Accounts of the people who take and watch contacts, and the queues they serve."""

    async def add_agent(
        self,
        username: str,
        password: str,
        *,
        display_name: str,
        role: str = "agent",
        skills: Iterable[str] = (),
        now: float | None = None,
    ) -> AgentRecord:
        """Create an account, offline, and return it.

        ``role`` is one of ``records.ROLES`` (else ``ValueError``); ``now``
        (epoch seconds) defaults to the wall clock. Hashing the password takes
        tens of milliseconds, off the event loop. Raises :class:`DuplicateUser`
        if the username is taken.
        """
        if not username:
            raise ValueError("A username must not be empty")
        check_role(role)
        now = time.time() if now is None else now
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        values = dict(
            id=uuid.uuid4().hex, username=username, display_name=display_name,
            password_hash=password_hash, role=role, skills=list(skills),
            state=AgentState.OFFLINE.value, state_reason="", state_since=now, created_at=now,
        )
        try:
            return await self._db.write(_insert_agent, values)
        except IntegrityError:
            raise DuplicateUser(f"The username {username!r} is already taken") from None

    async def authenticate(self, username: str, password: str) -> AgentRecord | None:
        """Return the agent if ``password`` is theirs and the account is enabled, else ``None``.

        An unknown username costs the same argon2 verification as a known one
        (against a dummy hash made on first need), so timing does not tell
        which usernames exist. A hash made with older parameters is replaced.
        """
        row = await self._db.read(_agent_row, AGENTS.c.username == username)
        stored = row.password_hash if row is not None else await self._dummy()
        if not await asyncio.to_thread(self._verify, stored, password) or row is None:
            return None
        if row.disabled_at is not None:  # checked after the hash: timing tells nothing either
            return None
        if self._hasher.check_needs_rehash(stored):
            await self.set_password(row.id, password)
        return _rows.agent(row)

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        row = await self._db.read(_agent_row, AGENTS.c.id == agent_id)
        return _rows.agent(row) if row is not None else None

    async def get_agent_by_username(self, username: str) -> AgentRecord | None:
        row = await self._db.read(_agent_row, AGENTS.c.username == username)
        return _rows.agent(row) if row is not None else None

    async def list_agents(self) -> list[AgentRecord]:
        """Every account, by username."""
        return await self._db.read(_list_agents)

    async def set_agent_state(
        self, agent_id: str, state: AgentState | str, reason: str, since: float
    ) -> None:
        """Store an agent's state (normally done by ``record_routing``).

        Raises ``ValueError`` for an unknown state, :class:`NotFound` for an unknown agent.
        """
        values = dict(state=AgentState(state).value, state_reason=reason, state_since=since)
        await self._db.write(_update_agent, agent_id, values)

    async def set_password(self, agent_id: str, password: str) -> None:
        """Replace an agent's password. Raises :class:`NotFound` for an unknown agent."""
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        await self._db.write(_update_agent, agent_id, {"password_hash": password_hash})

    async def set_agent_locale(self, agent_id: str, locale: str | None) -> None:
        """The language of an agent's staff pages (None: their browser's). :class:`NotFound`
        for an unknown agent; the tag is checked by the caller (desktop/web/locales.py)."""
        await self._db.write(_update_agent, agent_id, {"locale": locale})

    async def sign_in_by_sso(self, username: str, subject: str, *, display_name: str, role: str,
                             skills: Iterable[str], now: float | None = None) -> AgentRecord:
        """The account of a person the company's identity provider vouched for, made on their
        first sign-in, and given the name, role and skills its claims carry at each one.

        ``subject`` is the provider's stable id for the person (issuer and ``sub``). Such an
        account has no password (its hash is a marker no password verifies against). A local
        account of the same username is never taken over: :class:`DuplicateUser`.
        """
        check_role(role)
        now = time.time() if now is None else now
        return await self._db.write(_sso_agent, username, SSO_MARKER + subject, dict(
            display_name=display_name, role=role, skills=list(skills)), now)

    async def upsert_queue(
        self,
        name: str,
        *,
        title: str,
        skills: Iterable[str],
        service_level_target: float,
        sort_order: int = 0,
    ) -> QueueRecord:
        """Create the queue ``name`` or replace its settings; return it.

        ``service_level_target`` is in seconds.
        """
        values = dict(
            name=name, title=title, skills=list(skills),
            service_level_target=float(service_level_target), sort_order=sort_order,
        )
        return await self._db.write(_upsert_queue, values)

    async def list_queues(self) -> list[QueueRecord]:
        """Every queue, by ``sort_order`` then name (one statement: no transaction around it)."""
        return await self._db.read_fast(_list_queues)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self._hasher.hash, uuid.uuid4().hex)
        return self._dummy_hash

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False




def _sso_agent(conn: Connection, username: str, marker: str, profile: dict[str, Any], now: float) -> AgentRecord:
    row = conn.execute(select(AGENTS).where(AGENTS.c.username == username)).first()
    if row is None:
        return _insert_agent(conn, dict(id=uuid.uuid4().hex, username=username, password_hash=marker,
                                        state=AgentState.OFFLINE.value, state_reason="", state_since=now,
                                        created_at=now, **profile))
    if row.password_hash != marker:
        raise DuplicateUser(f"The username {username!r} belongs to another account")
    conn.execute(update(AGENTS).where(AGENTS.c.id == row.id).values(profile))
    return _rows.agent(conn.execute(select(AGENTS).where(AGENTS.c.id == row.id)).one())


def _insert_agent(conn: Connection, values: dict[str, Any]) -> AgentRecord:
    return _rows.agent(conn.execute(AGENTS.insert().values(values).returning(AGENTS)).one())


def _agent_row(conn: Connection, where: Any) -> Row[Any] | None:
    return conn.execute(select(AGENTS).where(where)).first()


def _list_agents(conn: Connection) -> list[AgentRecord]:
    return [_rows.agent(row) for row in conn.execute(select(AGENTS).order_by(AGENTS.c.username))]


def _update_agent(conn: Connection, agent_id: str, values: dict[str, Any]) -> None:
    result = conn.execute(update(AGENTS).where(AGENTS.c.id == agent_id).values(values))
    if result.rowcount == 0:
        raise NotFound(f"No agent with id {agent_id!r}")


def _upsert_queue(conn: Connection, values: dict[str, Any]) -> QueueRecord:
    statement = upsert(conn, QUEUES).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[QUEUES.c.name],
        set_={key: statement.excluded[key] for key in values if key != "name"},
    )
    return _rows.queue(conn.execute(statement.returning(QUEUES)).one())


def _list_queues(conn: Connection) -> list[QueueRecord]:
    rows = conn.execute(select(QUEUES).order_by(QUEUES.c.sort_order, QUEUES.c.name))
    return [_rows.queue(row) for row in rows]
