"""Webhook subscriptions and their deliveries: claim, log each attempt, replay.

Deliveries are queued by :func:`desktop.repository.outbox.emit`. Any process may send them:
:meth:`Webhooks.claim_webhook_deliveries` takes due rows with a lease (a conditional UPDATE,
atomic on SQLite and PostgreSQL alike: two processes never hold one row), so a process that
dies mid-send only delays its rows until the lease runs out. A row is due only when no
earlier row of the same subscription and ``order_key`` (the callback) is still pending: one
callback's events reach a receiver in order, each after the one before succeeded.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from desktop.repository._store import (
    ADMIN_AUDIT,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_EVENTS,
    WEBHOOK_SUBSCRIPTIONS,
    Store,
)
from desktop.repository.errors import NotFound
from desktop.repository.outbox import DELIVERED, FAILED, PENDING

__all__ = ["Webhooks", "subscription_json"]

_S, _D, _E, _A = WEBHOOK_SUBSCRIPTIONS, WEBHOOK_DELIVERIES, WEBHOOK_EVENTS, WEBHOOK_ATTEMPTS


def subscription_json(row: Any) -> dict[str, Any]:
    """A subscription as the admin API shows it: never its secret (``previous_until``: until when
    the secret before the last rotation still signs too)."""
    return {"id": row.id, "url": row.url, "events": list(row.events), "description": row.description,
            "created_at": row.created_at, "disabled_at": row.disabled_at, "previous_until": row.previous_until}


def _audit(conn: Connection, *, now: float, actor: str | None, action: str, subscription_id: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """The admin audit's row of a change an admin made (``actor``; none for the system's own)."""
    if actor is not None:
        conn.execute(ADMIN_AUDIT.insert().values(at=now, actor=actor, action=action,
                                                 target=f"webhook:{subscription_id}", before=before, after=after))


class Webhooks(Store):
    async def add_webhook(self, *, url: str, events: list[str], description: str = "",
                          now: float | None = None, actor: str | None = None) -> tuple[dict[str, Any], str]:
        """Store a subscription; (it, its secret). The secret is shown to the admin once (and
        never audited). With ``actor``, audited in the same transaction."""
        now = time.time() if now is None else now
        secret = "whsec_" + secrets.token_urlsafe(32)
        values = dict(id=f"wh_{uuid.uuid4().hex[:20]}", url=url, events=sorted(set(events)), secret=secret,
                      description=description, created_at=now, disabled_at=None)

        def insert(conn: Connection) -> dict[str, Any]:
            made = subscription_json(conn.execute(_S.insert().values(values).returning(_S)).one())
            _audit(conn, now=now, actor=actor, action="webhook.add", subscription_id=made["id"], before=None,
                   after=made)
            return made

        return await self._db.write(insert), secret

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """Every subscription, removed ones included (their log stays), oldest first."""
        def read(conn: Connection) -> list[dict[str, Any]]:
            return [subscription_json(r) for r in conn.execute(select(_S).order_by(_S.c.created_at, _S.c.id))]
        return await self._db.read(read)

    async def disable_webhook(self, subscription_id: str, *, now: float | None = None,
                              actor: str | None = None) -> dict[str, Any]:
        """Queue nothing more for it and stop sending what is pending. Raises NotFound."""
        now = time.time() if now is None else now

        def change(conn: Connection) -> dict[str, Any]:
            old = conn.execute(select(_S).where(_S.c.id == subscription_id).with_for_update()).first()
            if old is None:
                raise NotFound(f"No webhook {subscription_id!r}")
            row = conn.execute(update(_S).where(_S.c.id == subscription_id)
                               .values(disabled_at=func.coalesce(_S.c.disabled_at, now)).returning(_S)).one()
            _audit(conn, now=now, actor=actor, action="webhook.remove", subscription_id=subscription_id,
                   before=subscription_json(old), after=subscription_json(row))
            return subscription_json(row)

        return await self._db.write(change)

    async def rotate_webhook_secret(self, subscription_id: str, *, overlap: float, now: float | None = None,
                                    actor: str | None = None) -> tuple[dict[str, Any], str]:
        """A new secret (returned, shown once); the old one keeps signing beside it for
        ``overlap`` seconds. Audited without either. Raises NotFound."""
        now = time.time() if now is None else now
        secret = "whsec_" + secrets.token_urlsafe(32)

        def change(conn: Connection) -> dict[str, Any]:
            old = conn.execute(select(_S).where(_S.c.id == subscription_id).with_for_update()).first()
            if old is None:
                raise NotFound(f"No webhook {subscription_id!r}")
            row = conn.execute(update(_S).where(_S.c.id == subscription_id).values(
                secret=secret, previous_secret=old.secret, previous_until=now + overlap).returning(_S)).one()
            _audit(conn, now=now, actor=actor, action="webhook.rotate", subscription_id=subscription_id,
                   before=subscription_json(old), after=subscription_json(row))
            return subscription_json(row)

        return await self._db.write(change), secret

    async def claim_webhook_deliveries(self, *, now: float, lease: float, limit: int = 20) -> list[dict[str, Any]]:
        """Due deliveries, each now leased to the caller for ``lease`` seconds.

        Each comes with its subscription's url and secret and its event (type, time, data),
        ready to send; the caller must then :meth:`finish_webhook_attempt` every one.
        """
        return await self._db.write(_claim, now, lease, limit)

    async def finish_webhook_attempt(self, delivery_id: int, *, attempt: int, at: float, duration: float,
                                     status_code: int | None, error: str | None,
                                     next_at: float | None) -> None:
        """Log one attempt. A 2xx delivers it; otherwise it is tried again at ``next_at``,
        or given up (``failed``) when ``next_at`` is None."""
        ok = status_code is not None and 200 <= status_code < 300

        def write(conn: Connection) -> None:
            conn.execute(_A.insert().values(delivery_id=delivery_id, attempt=attempt, at=at, duration=duration,
                                            status_code=status_code, error=error))
            if ok or next_at is None:
                values: dict[str, Any] = dict(state=DELIVERED if ok else FAILED, finished_at=at)
            else:
                values = dict(next_at=next_at)
            conn.execute(update(_D).where(_D.c.id == delivery_id).values(attempts=attempt, lease_until=None, **values))

        await self._db.write(write)

    async def next_webhook_due(self) -> float | None:
        """When the earliest pending delivery is due (the sender sleeps until then), or None."""
        return await self._db.read(lambda conn: conn.execute(
            select(_D.c.next_at).where(_D.c.state == PENDING).order_by(_D.c.next_at).limit(1)).scalar())

    async def webhook_deliveries(self, subscription_id: str, *, limit: int = 50,
                                 before: int | None = None) -> list[dict[str, Any]]:
        """The delivery log of a subscription, newest first, each with its attempts."""
        return await self._db.read(_log, subscription_id, limit, before)

    async def replay_webhook_delivery(self, delivery_id: int, *, now: float | None = None,
                                      actor: str | None = None) -> dict[str, Any]:
        """Send a delivery's event again: a new delivery of the same event (same event id,
        so a receiver that dedupes ignores it if it had it), queued after its key's others."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> dict[str, Any]:
            row = conn.execute(select(_D).where(_D.c.id == delivery_id)).first()
            if row is None:
                raise NotFound(f"No webhook delivery {delivery_id}")
            new = conn.execute(_D.insert().values(
                subscription_id=row.subscription_id, event_id=row.event_id, order_key=row.order_key,
                state=PENDING, attempts=0, created_at=now, next_at=now).returning(_D)).one()
            _audit(conn, now=now, actor=actor, action="webhook.replay", subscription_id=row.subscription_id,
                   before=None, after={"delivery_id": new.id, "replays": row.id, "event_id": row.event_id})
            return _delivery_json(new, [])

        return await self._db.write(write)


def _claim(conn: Connection, now: float, lease: float, limit: int) -> list[dict[str, Any]]:
    earlier = aliased(_D)
    due = (select(_D.c.id).join(_S, _S.c.id == _D.c.subscription_id)
           .where(_D.c.state == PENDING, _D.c.next_at <= now, _S.c.disabled_at.is_(None),
                  (_D.c.lease_until.is_(None)) | (_D.c.lease_until < now),
                  ~exists().where(and_(earlier.c.subscription_id == _D.c.subscription_id,
                                       earlier.c.order_key == _D.c.order_key,
                                       earlier.c.state == PENDING, earlier.c.id < _D.c.id)))
           .order_by(_D.c.id).limit(limit))
    claimed = []
    for delivery_id in conn.execute(due).scalars().all():
        # Conditional: on PostgreSQL another process may have leased it since the SELECT.
        taken = conn.execute(update(_D).where(
            _D.c.id == delivery_id, _D.c.state == PENDING,
            (_D.c.lease_until.is_(None)) | (_D.c.lease_until < now)).values(lease_until=now + lease)).rowcount
        if taken:
            claimed.append(delivery_id)
    if not claimed:
        return []
    rows = conn.execute(
        select(_D.c.id, _D.c.attempts, _D.c.subscription_id, _S.c.url, _S.c.secret,
               case((_S.c.previous_until > now, _S.c.previous_secret), else_=None).label("previous_secret"),
               _E.c.id.label("event_id"), _E.c.type, _E.c.at, _E.c.data)
        .join(_S, _S.c.id == _D.c.subscription_id).join(_E, _E.c.id == _D.c.event_id)
        .where(_D.c.id.in_(claimed)).order_by(_D.c.id))
    return [dict(row._mapping) for row in rows]


def _delivery_json(row: Any, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": row.id, "subscription_id": row.subscription_id, "event_id": row.event_id,
            "state": row.state, "attempts": row.attempts, "created_at": row.created_at,
            "next_at": row.next_at if row.state == PENDING else None, "finished_at": row.finished_at,
            "log": attempts}


def _log(conn: Connection, subscription_id: str, limit: int, before: int | None) -> list[dict[str, Any]]:
    if conn.execute(select(_S.c.id).where(_S.c.id == subscription_id)).first() is None:
        raise NotFound(f"No webhook {subscription_id!r}")
    statement = (select(_D, _E.c.type).join(_E, _E.c.id == _D.c.event_id)
                 .where(_D.c.subscription_id == subscription_id).order_by(_D.c.id.desc()).limit(limit))
    if before is not None:
        statement = statement.where(_D.c.id < before)
    rows = conn.execute(statement).all()
    attempts: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if attempts:
        for a in conn.execute(select(_A).where(_A.c.delivery_id.in_(list(attempts))).order_by(_A.c.id)):
            attempts[a.delivery_id].append({"attempt": a.attempt, "at": a.at, "status_code": a.status_code,
                                            "error": a.error, "duration": a.duration})
    return [{**_delivery_json(row, attempts[row.id]), "type": row.type} for row in rows]
