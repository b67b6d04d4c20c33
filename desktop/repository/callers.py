"""Who is phoning: an inbound caller's number looked up among the customers' identities.

A number held as a *verified* phone identity names its customer outright. Else
a number that only one customer (group) has, as its own phone or as an
unverified hint, is taken for them ("claimed": caller ID is what the network
says, not proof). A number several customers share, or nobody has, is an
unknown caller: a new customer is made with that number (source
``inbound_call``), so their next call finds this one's record.

A caller waiting on the line may choose to be called back instead
(:meth:`Callers.call_back_instead`): their callback becomes a phone callback in place.
"""

from __future__ import annotations

import dataclasses
import time

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, CUSTOMERS, IDENTITIES, Store
from desktop.repository.errors import NotFound
from desktop.repository.identities import head_customer, insert_customer, verified_holder
from desktop.repository.records import CallbackRecord, CustomerRecord, check_phone, check_tier
from desktop.routing.events import CallbackState, Channel

__all__ = ["Callers", "Caller", "CALLED_WHILE_CLOSED", "CALLBACK_CHOSEN"]

CALLED_WHILE_CLOSED = "called_while_closed"  # on the caller's timeline: data: number, line, queue, caller, opens
#: On the caller's timeline: they pressed 1 while waiting. data: number, line, queue, waited_s.
CALLBACK_CHOSEN = "callback_chosen"
_WAITING = (CallbackState.QUEUED.value, CallbackState.SCHEDULED.value)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    customer: CustomerRecord
    #: "verified" (a verified identity), "claimed" (the one customer with that number),
    #: "ambiguous" (several have it: a new record), "new" (nobody had it) or "withheld" (no number).
    match: str

    @property
    def known(self) -> bool:
        return self.match in ("verified", "claimed")


class Callers(Store):
    async def caller(self, phone: str | None, *, now: float | None = None) -> Caller:
        """The customer phoning from ``phone`` (E.164, or None when withheld), made if unknown."""
        check_phone(phone)
        return await self._db.write(_caller, phone, time.time() if now is None else now)

    async def closed_call(self, *, id: str, customer_id: str, queue: str, phone: str | None, line: str,
                          caller: str, tier: str, opens: float | None, now: float) -> CallbackRecord:
        """A call from ``phone`` to ``line`` while ``queue`` was closed (it next opens at ``opens``,
        None: no opening planned): a callback ``closed`` at ``now`` (``enqueued_at`` is when it
        reached the queue; it was never offered) and a ``called_while_closed`` timeline entry
        (data ``number``, ``line``, ``queue``, ``caller``: how the number matched, ``opens``), in
        one transaction. ``ValueError`` for a phone not in E.164 or an unknown tier."""
        check_phone(phone)
        check_tier(tier)
        values = dict(id=id, customer_id=customer_id, visitor_id=None, queue=queue, channel=Channel.PHONE_INBOUND.value,
                      phone=phone, tier=tier, state=CallbackState.CLOSED.value, created_at=now, enqueued_at=now,
                      ended_at=now)
        event = dict(customer_id=customer_id, callback_id=id, kind=CALLED_WHILE_CLOSED, channel="phone", at=now,
                     data={"number": phone, "line": line, "queue": queue, "caller": caller, "opens": opens})
        return await self._db.write(_closed_call, values, event)


    async def call_back_instead(self, callback_id: str, *, phone: str, consent: dict[str, Any],
                                data: dict[str, Any], now: float) -> CallbackRecord:
        """The waiting inbound caller of ``callback_id`` chose to be called back on ``phone``
        (E.164): the callback becomes channel ``phone`` in place (its id, ``enqueued_at`` and
        state kept: its place in line), with ``consent``, and a ``callback_chosen`` entry
        (``data``) joins the timeline, in one transaction. :class:`NotFound` unless it is a
        waiting ``phone_inbound`` callback; :class:`NumberWaiting` if ``phone`` has a phone
        callback waiting already (the unique index); ``ValueError`` for a phone not in E.164."""
        check_phone(phone)
        if phone is None:
            raise ValueError("a callback needs a phone number")
        try:
            return await self._db.write(_call_back_instead, callback_id, phone, consent, data, now)
        except IntegrityError:
            await self.raise_if_number_waiting({"id": callback_id, "channel": Channel.PHONE.value, "phone": phone,
                                                "state": CallbackState.QUEUED.value})
            raise


def _call_back_instead(conn: Connection, callback_id: str, phone: str, consent: dict, data: dict,
                       now: float) -> CallbackRecord:
    c = CALLBACKS.c
    row = conn.execute(update(CALLBACKS).where(
        c.id == callback_id, c.channel == Channel.PHONE_INBOUND.value, c.state.in_(_WAITING)).values(
        channel=Channel.PHONE.value, phone=phone, consent=consent).returning(CALLBACKS)).one_or_none()
    if row is None:
        raise NotFound(f"No inbound caller waiting on callback {callback_id!r}")
    conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=row.customer_id, callback_id=callback_id, kind=CALLBACK_CHOSEN, channel="phone", at=now,
        data=data))
    return _rows.callback(row)


def _caller(conn: Connection, phone: str | None, now: float) -> Caller:
    if phone is None:
        return Caller(customer=insert_customer(conn, None, None, None, None, "inbound_call", now), match="withheld")
    holder = verified_holder(conn, "phone", phone)
    if holder is not None:
        return Caller(customer=head_customer(conn, holder), match="verified")
    ids = set(conn.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.phone == phone)).scalars())
    ids |= set(conn.execute(select(IDENTITIES.c.customer_id).where(
        IDENTITIES.c.kind == "phone", IDENTITIES.c.value == phone)).scalars())
    heads = {head.id: head for head in (head_customer(conn, i) for i in ids) if head is not None}
    if len(heads) == 1:
        return Caller(customer=next(iter(heads.values())), match="claimed")
    customer = insert_customer(conn, None, None, phone, None, "inbound_call", now)
    return Caller(customer=customer, match="ambiguous" if heads else "new")


def _closed_call(conn: Connection, values: dict, event: dict) -> CallbackRecord:
    row = conn.execute(CALLBACKS.insert().values(values).returning(CALLBACKS)).one()
    conn.execute(CONTACT_EVENTS.insert().values(event))
    return _rows.callback(row)
