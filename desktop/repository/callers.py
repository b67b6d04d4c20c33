"""Who is phoning: an inbound caller's number looked up among the customers' identities.

A number held as a *verified* phone identity names its customer outright. Else
a number that only one customer (group) has, as its own phone or as an
unverified hint, is taken for them ("claimed": caller ID is what the network
says, not proof). A number several customers share, or nobody has, is an
unknown caller: a new customer is made with that number (source
``inbound_call``), so their next call finds this one's record.
"""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import select
from sqlalchemy.engine import Connection

from desktop.repository import _rows
from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, CUSTOMERS, IDENTITIES, Store
from desktop.repository.identities import head_customer, insert_customer, verified_holder
from desktop.repository.records import CallbackRecord, CustomerRecord, check_phone, check_tier
from desktop.routing.events import CallbackState, Channel

__all__ = ["Callers", "Caller", "CALLED_WHILE_CLOSED"]

CALLED_WHILE_CLOSED = "called_while_closed"  # on the caller's timeline: data: number, line, queue, caller, opens


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
