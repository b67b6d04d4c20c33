"""Administration at rest: changes to accounts and queues, each with its audit row.

Every change an admin makes is written in one transaction with its ``admin_audit`` row
(who, when, what, the values before and after), so there is never a change without its
record nor a record of a change that did not happen. Passwords never reach the audit: a
reset is recorded as ``{"password": "reset"}``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import desc, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import ADMIN_AUDIT, AGENTS, CALLBACKS, QUEUES, STAFF_SESSIONS, Store, upsert
from desktop.repository.errors import DuplicateUser, NotFound
from desktop.repository.records import AgentRecord, QueueRecord, check_role
from desktop.routing.events import AgentState

__all__ = ["DEFAULT_QUEUE", "WAITING_STATES", "Administration", "AuditEntry", "LastQueue", "default_fallback",
           "queue_json", "record_audit", "user_json"]


class LastQueue(ValueError):
    """The only queue can't be deleted: "Call me" would have nowhere to go."""


def default_fallback(queues: Iterable[QueueRecord], deleted: str) -> str | None:
    """Where a deleted queue's customers go when the admin names no queue: ``general`` (the
    fresh install's default) if it is there, else the first other queue as the widget lists them."""
    others = sorted((q for q in queues if q.name != deleted), key=lambda q: (q.sort_order, q.name))
    names = [q.name for q in others]
    return DEFAULT_QUEUE["name"] if DEFAULT_QUEUE["name"] in names else (names[0] if names else None)

#: The queue a fresh install starts with, so "Call me" works before anyone configures one:
#: every agent can take it (no skills), always open, the usual 30 s answer target.
DEFAULT_QUEUE = {"name": "general", "title": "General", "skills": [], "service_level_target": 30.0,
                 "sort_order": 0, "offer_timeout": None, "wrapup_timeout": None, "hours": None,
                 "dispositions": None, "calling_hours": None, "languages": None, "topics": None,
                 "recording": None}

#: The callbacks a deleted queue hands to its fallback: everyone still waiting for an agent
#: (a connected or ended contact keeps the queue it was in, as history does).
WAITING_STATES = ("scheduled", "queued", "offered")


def user_json(agent: AgentRecord) -> dict[str, Any]:
    """What the admin console and the audit show of an account (never its password)."""
    return {"id": agent.id, "username": agent.username, "display_name": agent.display_name,
            "role": agent.role, "skills": list(agent.skills), "disabled": agent.disabled_at is not None,
            "disabled_at": agent.disabled_at, "state": str(agent.state), "created_at": agent.created_at,
            "locale": agent.locale}


def queue_json(queue: QueueRecord) -> dict[str, Any]:
    return {"name": queue.name, "title": queue.title, "skills": list(queue.skills),
            "service_level_target": queue.service_level_target, "sort_order": queue.sort_order,
            "offer_timeout": queue.offer_timeout, "wrapup_timeout": queue.wrapup_timeout,
            "hours": queue.hours, "calling_hours": queue.calling_hours,
            "dispositions": list(queue.dispositions) if queue.dispositions is not None else None,
            "languages": list(queue.languages), "topics": [dict(topic) for topic in queue.topics],
            "recording": queue.recording}


class AuditEntry(dict):
    """One ``admin_audit`` row as a dict: id, at, actor, action, target, before, after."""


class Administration(Store):
    async def admin_add_user(self, *, username: str, password: str, display_name: str, role: str,
                             skills: Iterable[str], actor: str, now: float | None = None,
                             locale: str | None = None) -> AgentRecord:
        """Create an account (offline, enabled) and its audit row. :class:`DuplicateUser` if taken."""
        if not username:
            raise ValueError("A username must not be empty")
        check_role(role)
        now = time.time() if now is None else now
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        values = dict(id=uuid.uuid4().hex, username=username, display_name=display_name,
                      password_hash=password_hash, role=role, skills=list(skills),
                      state=AgentState.OFFLINE.value, state_reason="", state_since=now, created_at=now,
                      locale=locale)

        def write(conn: Connection) -> AgentRecord:
            agent = _rows.agent(conn.execute(AGENTS.insert().values(values).returning(AGENTS)).one())
            record_audit(conn, now, actor, "user.add", f"user:{agent.id}", None, user_json(agent))
            return agent

        try:
            return await self._db.write(write)
        except IntegrityError:
            raise DuplicateUser(f"The username {username!r} is already taken") from None

    async def admin_change_user(self, agent_id: str, *, actor: str, action: str, now: float | None = None,
                                display_name: str | None = None, role: str | None = None,
                                skills: Iterable[str] | None = None, disabled: bool | None = None,
                                password: str | None = None, end_sessions: bool = False,
                                locale: str | None = None) -> tuple[AgentRecord, list[str]]:
        """Change an account (only what is not None) and audit it; returns the account after the
        change and the ids (hashes) of the sessions it ended: all of them when it is disabled,
        its password reset or ``end_sessions`` asked; ``locale`` "" clears its language (the
        browser's then). :class:`NotFound` for an unknown id."""
        now = time.time() if now is None else now
        values: dict[str, Any] = {}
        if display_name is not None:
            values["display_name"] = display_name
        if role is not None:
            values["role"] = check_role(role)
        if skills is not None:
            values["skills"] = sorted(set(skills))
        if disabled is not None:
            values["disabled_at"] = now if disabled else None
        if locale is not None:
            values["locale"] = locale or None
        if password is not None:
            values["password_hash"] = await asyncio.to_thread(self._hasher.hash, password)
        ending = end_sessions or bool(disabled) or password is not None

        def write(conn: Connection) -> tuple[AgentRecord, list[str]]:
            row = conn.execute(select(AGENTS).where(AGENTS.c.id == agent_id)).first()
            if row is None:
                raise NotFound(f"No user with id {agent_id!r}")
            before = _rows.agent(row)
            if disabled and before.disabled_at is not None:
                values.pop("disabled_at")  # already disabled: keep when it was
            if values:
                conn.execute(update(AGENTS).where(AGENTS.c.id == agent_id).values(values))
            after = _rows.agent(conn.execute(select(AGENTS).where(AGENTS.c.id == agent_id)).one())
            ended: list[str] = []
            if ending:
                ended = [r.id for r in conn.execute(
                    update(STAFF_SESSIONS).where(STAFF_SESSIONS.c.agent_id == agent_id,
                                                 STAFF_SESSIONS.c.revoked_at.is_(None),
                                                 STAFF_SESSIONS.c.expires_at > now)
                    .values(revoked_at=now).returning(STAFF_SESSIONS.c.id))]
            after_json = user_json(after)
            if password is not None:
                after_json["password"] = "reset"
            if ending:
                after_json["sessions_ended"] = len(ended)
            record_audit(conn, now, actor, action, f"user:{agent_id}", user_json(before), after_json)
            return after, ended

        return await self._db.write(write)

    async def admin_save_queue(self, values: dict[str, Any], *, actor: str,
                               now: float | None = None) -> tuple[QueueRecord | None, QueueRecord]:
        """Create or replace a queue (``values`` holds every column) and audit it; returns
        (before, after), before None for a new queue."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> tuple[QueueRecord | None, QueueRecord]:
            row = conn.execute(select(QUEUES).where(QUEUES.c.name == values["name"])).first()
            before = _rows.queue(row) if row is not None else None
            statement = upsert(conn, QUEUES).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=[QUEUES.c.name],
                set_={key: statement.excluded[key] for key in values if key != "name"})
            after = _rows.queue(conn.execute(statement.returning(QUEUES)).one())
            record_audit(conn, now, actor, "queue.add" if before is None else "queue.update",
                   f"queue:{after.name}", queue_json(before) if before else None, queue_json(after))
            return before, after

        return await self._db.write(write)

    async def admin_delete_queue(self, name: str, *, fallback: str | None, actor: str,
                                 now: float | None = None) -> tuple[QueueRecord, str, list[str]]:
        """Delete a queue and move its waiting callbacks (:data:`WAITING_STATES`) to ``fallback``
        (None: :func:`default_fallback`), with the audit row, in one transaction; returns (the
        queue as it was, the fallback, the ids moved). :class:`NotFound` for an unknown queue
        or fallback, :class:`LastQueue` for the only one, ``ValueError`` for itself as fallback."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> tuple[QueueRecord, str, list[str]]:
            queues = [_rows.queue(row) for row in conn.execute(select(QUEUES).with_for_update())]
            before = next((q for q in queues if q.name == name), None)
            if before is None:
                raise NotFound(f"No queue named {name!r}")
            if len(queues) == 1:
                raise LastQueue(f"{name!r} is the only queue: add another before deleting it, "
                                "or customers' requests would have nowhere to go")
            target = fallback or default_fallback(queues, name)
            if target == name:
                raise ValueError("a queue can't be its own fallback: choose another queue")
            if not any(q.name == target for q in queues):
                raise NotFound(f"No queue named {target!r} to move the waiting customers to")
            moved = _move_waiting(conn, name, target)
            conn.execute(QUEUES.delete().where(QUEUES.c.name == name))
            record_audit(conn, now, actor, "queue.delete", f"queue:{name}", queue_json(before),
                   {"fallback": target, "moved": len(moved), "callbacks": moved})
            return before, target, moved

        return await self._db.write(write)

    async def move_waiting_callbacks(self, from_queue: str, to_queue: str) -> list[str]:
        """Move what still waits in a deleted queue to ``to_queue`` (the leader's sweep for a
        request made in the moment of the deletion); returns the ids moved."""
        return await self._db.write(lambda conn: _move_waiting(conn, from_queue, to_queue))

    async def get_queue(self, name: str) -> QueueRecord | None:
        row = await self._db.read(lambda conn: conn.execute(select(QUEUES).where(QUEUES.c.name == name)).first())
        return _rows.queue(row) if row is not None else None

    async def ensure_default_queue(self) -> bool:
        """On a fresh install (no queue at all), create :data:`DEFAULT_QUEUE`; True if it did.
        Safe when several processes start at once (an existing name is left alone)."""
        def write(conn: Connection) -> bool:
            if conn.execute(select(func.count()).select_from(QUEUES)).scalar_one():
                return False
            statement = upsert(conn, QUEUES).values(DEFAULT_QUEUE).on_conflict_do_nothing(
                index_elements=[QUEUES.c.name])
            return conn.execute(statement).rowcount > 0

        return await self._db.write(write)

    async def admin_audit(self, *, limit: int = 100, target: str | None = None,
                          before_id: int | None = None) -> list[AuditEntry]:
        """The newest audit rows first (``before_id``: older than that row; ``target``: of one thing)."""
        def read(conn: Connection) -> list[AuditEntry]:
            query = select(ADMIN_AUDIT).order_by(desc(ADMIN_AUDIT.c.id)).limit(limit)
            if target is not None:
                query = query.where(ADMIN_AUDIT.c.target == target)
            if before_id is not None:
                query = query.where(ADMIN_AUDIT.c.id < before_id)
            return [AuditEntry(row._mapping) for row in conn.execute(query)]

        return await self._db.read(read)


def _move_waiting(conn: Connection, from_queue: str, to_queue: str) -> list[str]:
    return list(conn.execute(
        update(CALLBACKS).where(CALLBACKS.c.queue == from_queue, CALLBACKS.c.state.in_(WAITING_STATES))
        .values(queue=to_queue).returning(CALLBACKS.c.id)).scalars())


def record_audit(conn: Connection, now: float, actor: str, action: str, target: str,
                 before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    conn.execute(ADMIN_AUDIT.insert().values(at=now, actor=actor, action=action, target=target,
                                             before=before, after=after))
