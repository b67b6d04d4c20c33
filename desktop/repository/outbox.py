"""The webhook outbox: what happened, written in the transaction of the change itself.

``emit(conn, type, data, ...)`` is called by the query functions that make the change
(a callback stored, a contact connected, a customer merged...), so an event exists if and
only if its change committed: nothing is lost between the commit and a send, and nothing
is sent for a change rolled back. One delivery row per active subscription that wants the
type is queued with it; the sender (``desktop/webhooks/sender.py``) takes them from there.

Event types, and what their ``data`` holds (ids, states and times; the customer's own
fields only in ``customer.created``, redacted if they are erased):

- ``callback.requested``: callback_id, customer_id, queue, channel, scheduled_at
- ``callback.connected``: callback_id, customer_id, agent_id
- ``callback.ended``: callback_id, customer_id, state (completed, abandoned, ...), agent_id
- ``callback.wrapped_up``: callback_id, customer_id, agent_id, disposition, timed_out
- ``customer.created``: customer_id, name, email, phone, site
- ``customer.merged``: customer_id (the one merged), into (the one kept)
- ``customer.erased``: customer_ids
- ``suggestion.accepted``: callback_id, customer_id, agent_id, action_id, version, product
- ``recording.ready``: callback_id, customer_id, seconds, url (staff only)
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from desktop.repository._store import WEBHOOK_DELIVERIES, WEBHOOK_EVENTS, WEBHOOK_SUBSCRIPTIONS

__all__ = ["EVENT_TYPES", "PENDING", "DELIVERED", "FAILED", "emit", "redact_customers"]

EVENT_TYPES = (
    "callback.requested", "callback.connected", "callback.ended", "callback.wrapped_up",
    "customer.created", "customer.merged", "customer.erased", "suggestion.accepted", "recording.ready",
)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

_ACTIVE = select(WEBHOOK_SUBSCRIPTIONS.c.id, WEBHOOK_SUBSCRIPTIONS.c.events).where(
    WEBHOOK_SUBSCRIPTIONS.c.disabled_at.is_(None))


def emit(conn: Connection, type: str, data: dict[str, Any], *, at: float | None = None,
         customer_id: str | None = None, callback_id: str | None = None) -> str | None:
    """Queue event ``type`` for every subscription that wants it; its id, or None if none does.

    Nothing is stored when nobody listens: the router's hot path pays one small SELECT.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    wanted = [row.id for row in conn.execute(_ACTIVE) if type in row.events or "*" in row.events]
    if not wanted:
        return None
    at = time.time() if at is None else at
    event_id = f"evt_{uuid.uuid4().hex}"
    conn.execute(WEBHOOK_EVENTS.insert().values(
        id=event_id, type=type, at=at, data=data, subject_customer=customer_id, subject_callback=callback_id))
    key = callback_id or customer_id or event_id
    conn.execute(WEBHOOK_DELIVERIES.insert(), [
        dict(subscription_id=sub, event_id=event_id, order_key=key, state=PENDING, attempts=0,
             created_at=at, next_at=at) for sub in wanted])
    return event_id


def redact_customers(conn: Connection, customer_ids: list[str], callback_ids: list[str]) -> int:
    """Strip personal data from every stored event about these customers or callbacks.

    The events stay (their deliveries, pending ones included, still go out, in order) but
    their data keeps only ids and types: ``{"redacted": true, "callback_id"?, ...}``.
    """
    count = 0
    events = WEBHOOK_EVENTS
    clauses = []
    if customer_ids:
        clauses.append(events.c.subject_customer.in_(customer_ids))
    if callback_ids:
        clauses.append(events.c.subject_callback.in_(callback_ids))
    if not clauses:
        return 0
    for row in conn.execute(select(events.c.id, events.c.data, events.c.subject_callback).where(or_(*clauses))):
        kept = {"redacted": True}
        if row.subject_callback:
            kept["callback_id"] = row.subject_callback
        conn.execute(events.update().where(events.c.id == row.id).values(
            data=kept, subject_customer=None))
        count += 1
    return count
