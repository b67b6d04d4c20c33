"""After the contact: the customer's rating, "not solved" and the summary's e-mail claim
(desktop/aftercall has the rules; this is storage only; the reports read the satisfaction sums
from desktop/repository/history_rollups.py).

Timeline entries added here: ``contact_rated`` (data ``{"rating"}``) and ``not_solved``
(data ``{"follow_up": <the new request's id>}``) on the contact they are about; the new
request's own ``callback_requested`` carries ``follow_up_of``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, Store, first
from desktop.repository.callbacks import insert_callback
from desktop.repository.history_rollups import add_to_satisfaction
from desktop.repository.records import CallbackRecord
from desktop.routing.events import CallbackState

__all__ = ["AfterCall"]


class AfterCall(Store):
    async def after_call_for_visitor(self, visitor_id: str, *, since: float) -> CallbackRecord | None:
        """The visitor's newest contact wrapped up with a summary at or after ``since`` and not
        reopened: what the widget shows after the contact (None if there is none)."""
        c = CALLBACKS.c
        statement = (
            select(CALLBACKS).where(c.visitor_id == visitor_id, c.summary.is_not(None),
                                    c.wrapped_up_at >= since, c.reopened_at.is_(None))
            .order_by(c.wrapped_up_at.desc(), c.id.desc()).limit(1)
        )
        row = await self._db.read(first, statement)
        return _rows.callback(row) if row is not None else None

    async def rate_contact(self, callback_id: str, rating: int, *, now: float) -> CallbackRecord:
        """Store the customer's rating (a later one replaces it) and note it on the timeline."""
        return await self._db.write(_rate, callback_id, rating, now)

    async def reopen_contact(self, callback_id: str, values: dict[str, Any], *,
                             now: float) -> CallbackRecord | None:
        """"Not solved": mark the contact reopened and create the follow-up request ``values``
        (as :meth:`~desktop.repository.callbacks.Callbacks.create_callback` stores them) in one
        transaction; None when it was reopened already (by this or another process).
        Raises :class:`~desktop.repository.errors.NumberWaiting` (nothing stored) for a phone
        request whose number has another request waiting."""
        try:
            return await self._db.write(_reopen, callback_id, values, now)
        except IntegrityError:
            await self.raise_if_number_waiting({**values, "state": CallbackState.QUEUED.value})
            raise

    async def claim_summary_mail(self, callback_id: str, *, now: float) -> bool:
        """True once per contact: the process that gets it sends the summary's e-mail."""
        c = CALLBACKS.c
        row = await self._db.write(first, update(CALLBACKS).where(
            c.id == callback_id, c.summary_mailed_at.is_(None)).values(summary_mailed_at=now).returning(c.id))
        return row is not None


def _rate(conn: Connection, callback_id: str, rating: int, now: float) -> CallbackRecord:
    earlier = conn.execute(select(CALLBACKS.c.rating).where(CALLBACKS.c.id == callback_id).with_for_update()).scalar()
    row = conn.execute(update(CALLBACKS).where(CALLBACKS.c.id == callback_id)
                       .values(rating=rating, rated_at=now).returning(CALLBACKS)).one()
    add_to_satisfaction(conn, wrapped_up_at=row.wrapped_up_at, queue=row.queue, agent_id=row.agent_id,
                        rated=int(earlier is None), rating_sum=rating - (earlier or 0))
    conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=row.customer_id, visitor_id=row.visitor_id, callback_id=callback_id,
        agent_id=row.agent_id, kind="contact_rated", channel=row.channel, at=now, data={"rating": rating}))
    return _rows.callback(row)


def _reopen(conn: Connection, callback_id: str, values: dict[str, Any], now: float) -> CallbackRecord | None:
    c = CALLBACKS.c
    old = conn.execute(update(CALLBACKS).where(c.id == callback_id, c.reopened_at.is_(None))
                       .values(reopened_at=now, reopened_as=values["id"]).returning(CALLBACKS)).first()
    if old is None:
        return None
    add_to_satisfaction(conn, wrapped_up_at=old.wrapped_up_at, queue=old.queue, agent_id=old.agent_id, reopened=1)
    created = insert_callback(conn, {**values, "state": CallbackState.QUEUED.value, "created_at": now,
                                     "enqueued_at": now, "scheduled_at": None, "follow_up_of": callback_id})
    conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=old.customer_id, visitor_id=old.visitor_id, callback_id=callback_id,
        agent_id=old.agent_id, kind="not_solved", channel=old.channel, at=now, data={"follow_up": created.id}))
    return created
