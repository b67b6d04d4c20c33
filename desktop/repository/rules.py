"""The planner's catalogue: draft actions, published versions, and the audit of every change.

Drafts are edited one action at a time; :meth:`Rules.publish_rules` copies all of them into
a new, numbered, immutable version (what processes compile and match). Every write adds an
audit row — who, when, what, the action before and after — in the same transaction, so the
log can't miss a change. Actions are stored as the JSON of ``desktop.rules.Action`` and
decoded through its schema on every read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.engine import Connection

from desktop.repository import models
from desktop.repository._store import Store, first
from desktop.repository.errors import Conflict, NotFound
from desktop.rules.actions import Action, CatalogueSettings

__all__ = ["Rules", "RuleVersionRecord", "RuleAuditRecord"]

ACTIONS: Table = models.RuleAction.__table__  # type: ignore[assignment]
VERSIONS: Table = models.RuleVersion.__table__  # type: ignore[assignment]
AUDIT: Table = models.RuleAudit.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class RuleVersionRecord:
    version: int
    published_at: float
    published_by: str
    note: str
    count: int
    actions: tuple[Action, ...] = ()  # filled by rule_version / latest_rule_version only
    settings: CatalogueSettings = CatalogueSettings()


@dataclass(frozen=True, slots=True)
class RuleAuditRecord:
    id: int
    at: float
    by: str
    what: str
    action_id: str | None
    version: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _action(data: dict[str, Any]) -> Action:
    return msgspec.convert(data, Action)


def _data(action: Action) -> dict[str, Any]:
    return msgspec.to_builtins(action)


class Rules(Store):
    async def rule_actions(self) -> list[Action]:
        """The drafts, in catalogue order."""
        rows = await self._db.read(lambda conn: conn.execute(
            select(ACTIONS.c.data).order_by(ACTIONS.c.position, ACTIONS.c.id)).all())
        return [_action(row.data) for row in rows]

    async def rule_action(self, action_id: str) -> Action:
        """One draft; raises :class:`NotFound`."""
        row = await self._db.read(lambda conn: first(conn, select(ACTIONS.c.data).where(ACTIONS.c.id == action_id)))
        if row is None:
            raise NotFound(f"no action {action_id!r}")
        return _action(row.data)

    async def save_rule_action(self, action: Action, *, by: str, create: bool | None = None,
                               now: float | None = None) -> Action:
        """Write a draft (audited). ``create=True`` refuses an existing id (:class:`Conflict`),
        ``create=False`` a missing one (:class:`NotFound`); None accepts either."""
        return await self._db.write(_save, action, by, create, time.time() if now is None else now)

    async def delete_rule_action(self, action_id: str, *, by: str, now: float | None = None) -> None:
        """Remove a draft (audited); raises :class:`NotFound`."""
        await self._db.write(_delete, action_id, by, time.time() if now is None else now)

    async def import_rule_actions(self, actions: Iterable[Action], *, by: str, now: float | None = None) -> int:
        """Replace every draft with ``actions`` (one audit row with the counts); return how many."""
        return await self._db.write(_import, list(actions), by, time.time() if now is None else now)

    async def publish_rules(self, *, by: str, note: str = "", settings: CatalogueSettings | None = None,
                            now: float | None = None) -> int:
        """Copy the drafts into a new version (audited); return its number (1, 2, ...)."""
        return await self._db.write(_publish, by, note, settings or CatalogueSettings(),
                                    time.time() if now is None else now)

    async def rule_versions(self, *, limit: int = 100) -> list[RuleVersionRecord]:
        """Published versions, newest first, without their actions."""
        return await self._db.read(_versions, limit)

    async def rule_version(self, version: int) -> RuleVersionRecord:
        """One published version with its actions; raises :class:`NotFound`."""
        record = await self._db.read(_version, version)
        if record is None:
            raise NotFound(f"no published version {version}")
        return record

    async def latest_rule_version(self) -> RuleVersionRecord | None:
        """The newest published version with its actions, or None before the first publish."""
        return await self._db.read(_version, None)

    async def rule_audit(self, *, action_id: str | None = None, limit: int = 200) -> list[RuleAuditRecord]:
        """The audit log, newest first (of one action when ``action_id`` is given)."""
        return await self._db.read(_audit, action_id, limit)


def _audit_row(conn: Connection, *, at: float, by: str, what: str, action_id: str | None = None,
               version: int | None = None, before: dict | None = None, after: dict | None = None) -> None:
    conn.execute(AUDIT.insert().values(at=at, by=by, what=what, action_id=action_id, version=version,
                                       before=before, after=after))


def _save(conn: Connection, action: Action, by: str, create: bool | None, now: float) -> Action:
    row = first(conn, select(ACTIONS.c.data).where(ACTIONS.c.id == action.id))
    if row is not None and create is True:
        raise Conflict(f"an action {action.id!r} exists already")
    if row is None and create is False:
        raise NotFound(f"no action {action.id!r}")
    data = _data(action)
    if row is None:
        position = conn.execute(select(func.coalesce(func.max(ACTIONS.c.position), -1) + 1)).scalar_one()
        conn.execute(ACTIONS.insert().values(id=action.id, data=data, position=position, updated_at=now,
                                             updated_by=by))
        _audit_row(conn, at=now, by=by, what="create", action_id=action.id, after=data)
    else:
        conn.execute(update(ACTIONS).where(ACTIONS.c.id == action.id).values(data=data, updated_at=now,
                                                                              updated_by=by))
        _audit_row(conn, at=now, by=by, what="update", action_id=action.id, before=row.data, after=data)
    return action


def _delete(conn: Connection, action_id: str, by: str, now: float) -> None:
    row = first(conn, select(ACTIONS.c.data).where(ACTIONS.c.id == action_id))
    if row is None:
        raise NotFound(f"no action {action_id!r}")
    conn.execute(delete(ACTIONS).where(ACTIONS.c.id == action_id))
    _audit_row(conn, at=now, by=by, what="delete", action_id=action_id, before=row.data)


def _import(conn: Connection, actions: list[Action], by: str, now: float) -> int:
    ids = [a.id for a in actions]
    if len(set(ids)) != len(ids):
        raise Conflict("the imported catalogue names an action twice")
    before = conn.execute(select(func.count()).select_from(ACTIONS)).scalar_one()
    conn.execute(delete(ACTIONS))
    if actions:
        conn.execute(ACTIONS.insert(), [
            {"id": a.id, "data": _data(a), "position": n, "updated_at": now, "updated_by": by}
            for n, a in enumerate(actions)])
    _audit_row(conn, at=now, by=by, what="import", before={"actions": before},
               after={"actions": len(actions), "ids": ids[:200]})
    return len(actions)


def _publish(conn: Connection, by: str, note: str, settings: CatalogueSettings, now: float) -> int:
    rows = conn.execute(select(ACTIONS.c.data).order_by(ACTIONS.c.position, ACTIONS.c.id)).all()
    version = conn.execute(select(func.coalesce(func.max(VERSIONS.c.version), 0) + 1)).scalar_one()
    # Two publishers at once: the second insert of the same number fails its transaction
    # (primary key) rather than both getting it.
    conn.execute(VERSIONS.insert().values(version=version, published_at=now, published_by=by, note=note[:2000],
                                          actions=[row.data for row in rows],
                                          settings=msgspec.to_builtins(settings)))
    _audit_row(conn, at=now, by=by, what="publish", version=version,
               after={"actions": len(rows), "note": note[:2000]})
    return version


def _versions(conn: Connection, limit: int) -> list[RuleVersionRecord]:
    rows = conn.execute(select(VERSIONS).order_by(VERSIONS.c.version.desc()).limit(limit)).all()
    return [RuleVersionRecord(version=r.version, published_at=r.published_at, published_by=r.published_by,
                              note=r.note, count=len(r.actions)) for r in rows]


def _version(conn: Connection, version: int | None) -> RuleVersionRecord | None:
    query = select(VERSIONS)
    query = query.where(VERSIONS.c.version == version) if version is not None else \
        query.order_by(VERSIONS.c.version.desc()).limit(1)
    r = first(conn, query)
    if r is None:
        return None
    return RuleVersionRecord(version=r.version, published_at=r.published_at, published_by=r.published_by,
                             note=r.note, count=len(r.actions), actions=tuple(_action(a) for a in r.actions),
                             settings=msgspec.convert(r.settings, CatalogueSettings))


def _audit(conn: Connection, action_id: str | None, limit: int) -> list[RuleAuditRecord]:
    query = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
    if action_id is not None:
        query = query.where(AUDIT.c.action_id == action_id)
    return [RuleAuditRecord(id=r.id, at=r.at, by=r.by, what=r.what, action_id=r.action_id, version=r.version,
                            before=r.before, after=r.after) for r in conn.execute(query).all()]
