"""Callbacks as requested by customers and closed by agents.

Their life in between (queued, offered, connected, ended) is written by
``record_routing`` from the router's events; see :mod:`.routing_log`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import CALLBACKS, CONTACT_EVENTS, CUSTOMERS, Store, first
from desktop.repository.errors import DuplicateCallback, NotFound, NumberWaiting
from desktop.repository.outbox import emit
from desktop.repository.records import (
    CallbackRecord,
    ContactEventRecord,
    check_phone,
    check_tier,
)
from desktop.routing.events import TERMINAL_CALLBACK_STATES, CallbackState, Channel

__all__ = ["Callbacks", "EDITABLE_CALLBACK_FIELDS"]

#: What :meth:`Callbacks.set_callback_fields` may change; states and times are the router's.
EDITABLE_CALLBACK_FIELDS = frozenset({"name", "topic", "message", "phone", "disposition", "note"})

_TERMINAL = sorted(state.value for state in TERMINAL_CALLBACK_STATES)
# Asked by every call_me and page view: built once.
_ACTIVE_FOR_VISITOR = (
    select(CALLBACKS).where(CALLBACKS.c.visitor_id == bindparam("visitor_id"), CALLBACKS.c.state.not_in(_TERMINAL))
    .order_by(CALLBACKS.c.created_at.desc(), CALLBACKS.c.id.desc()).limit(1)
)


class Callbacks(Store):
    async def create_callback(
        self,
        *,
        id: str,
        visitor_id: str | None,
        customer_id: str,
        queue: str,
        name: str,
        topic: str,
        message: str,
        channel: Channel | str,
        phone: str | None,
        tier: str,
        scheduled_at: float | None,
        now: float,
        command_id: str | None = None,
        consent: dict[str, Any] | None = None,
        locale: str | None = None,
        follow_up_of: str | None = None,
        name_customer: str | None = None,
    ) -> CallbackRecord:
        """Store a customer's "call me" and return it; tell the router only after.

        The callback is ``scheduled`` if ``scheduled_at`` is after ``now``,
        else ``queued`` with ``enqueued_at = now``. A ``callback_requested``
        entry joins the customer's timeline.

        ``consent`` (a phone callback's: what the customer agreed to, when, from where) is
        stored with it and shown on the ``callback_requested`` entry.

        Idempotent by ``(visitor_id, command_id)``: a retried command returns
        the callback stored the first time, unchanged, whatever else it carries.

        Raises ``ValueError`` for a bad channel, tier or phone (a ``phone``
        callback needs an E.164 number), :class:`DuplicateCallback` if ``id``
        is taken by another command, :class:`NumberWaiting` if a waiting phone
        request for ``phone`` exists (the database's unique index: the check before
        the insert may race), :class:`NotFound` for an unknown customer or visitor. ``locale``: the widget's language (the after-call e-mail's);
        ``follow_up_of``: the earlier contact this request follows up ("not solved").

        ``name_customer``: a customer id (the head of the requester's record, which has no name
        yet) given ``name``, and ``phone`` when there is one, in the same transaction (also when
        the insert fails, as a separate write: the request was made all the same).
        """
        channel = Channel(channel)
        check_tier(tier)
        check_phone(phone)
        if channel is Channel.PHONE and phone is None:
            raise ValueError("A phone callback needs a phone number")
        queued = scheduled_at is None or scheduled_at <= now
        values = dict(
            id=id, customer_id=customer_id, visitor_id=visitor_id, queue=queue, name=name,
            topic=topic, message=message, channel=channel.value, phone=phone, tier=tier,
            scheduled_at=scheduled_at,
            state=(CallbackState.QUEUED if queued else CallbackState.SCHEDULED).value,
            created_at=now, enqueued_at=now if queued else None, command_id=command_id,
            consent=consent,
            locale=locale, follow_up_of=follow_up_of,
        )
        naming = None
        if name_customer is not None:
            naming = {"name": name, "updated_at": now, **({"phone": phone} if phone is not None else {})}
        try:
            return await self._db.write(_name_and_insert, values, name_customer, naming)
        except IntegrityError:
            # A retried command (the unique index found its first callback), the id or a
            # reference is bad: look, in a fresh transaction, which one it was.
            if name_customer is not None:
                await self._db.write(_name_customer, name_customer, naming)
            existing, taken = await self._db.read(_why_not_created, values)
        if existing is not None:
            return existing
        await self.raise_if_number_waiting(values)
        if taken:
            raise DuplicateCallback(f"A callback with id {id!r} already exists")
        raise NotFound(f"No customer {customer_id!r} or no visitor {visitor_id!r}")

    async def raise_if_number_waiting(self, values: dict[str, Any]) -> None:
        """After an insert of ``values`` failed: :class:`NumberWaiting` if the reason is another
        waiting phone request for its number (the unique index ``uq_callbacks_waiting_phone``)."""
        waiting = (CallbackState.SCHEDULED.value, CallbackState.QUEUED.value, CallbackState.OFFERED.value)
        if values.get("channel") != Channel.PHONE.value or values.get("state") not in waiting or not values.get("phone"):
            return
        c = CALLBACKS.c
        row = await self._db.read(first, select(CALLBACKS).where(
            c.phone == values["phone"], c.channel == Channel.PHONE.value, c.state.in_(waiting), c.id != values["id"]))
        if row is not None:
            raise NumberWaiting(f"The number {values['phone']} already has a call request waiting",
                                _rows.callback(row))

    async def get_callback(self, callback_id: str) -> CallbackRecord | None:
        row = await self._db.read_fast(first, select(CALLBACKS).where(CALLBACKS.c.id == callback_id))
        return _rows.callback(row) if row is not None else None

    async def active_callback_for_visitor(self, visitor_id: str) -> CallbackRecord | None:
        """The visitor's newest callback that has not ended, if any."""
        row = await self._db.read_fast(first, _ACTIVE_FOR_VISITOR, {"visitor_id": visitor_id})
        return _rows.callback(row) if row is not None else None

    async def active_callback_for_phone(self, phone: str) -> CallbackRecord | None:
        """The newest callback to ``phone`` (E.164) that has not ended, whoever asked for it."""
        c = CALLBACKS.c
        statement = (
            select(CALLBACKS).where(c.phone == phone, c.state.not_in(_TERMINAL))
            .order_by(c.created_at.desc(), c.id.desc()).limit(1)
        )
        row = await self._db.read(first, statement)
        return _rows.callback(row) if row is not None else None

    async def open_callbacks(self) -> list[CallbackRecord]:
        """Every callback that has not ended, oldest first: what a new leader rebuilds from."""
        c = CALLBACKS.c
        statement = select(CALLBACKS).where(c.state.not_in(_TERMINAL)).order_by(c.created_at, c.id)
        return await self._db.read(_callbacks, statement)

    async def count_callbacks_for_phone(self, phone: str, *, since: float) -> int:
        """How many callbacks for ``phone`` (E.164) were created at or after ``since``."""
        c = CALLBACKS.c
        return await self._db.read(_count, c.phone == phone, c.created_at >= since)

    async def count_callbacks_for_visitor(self, visitor_id: str, *, since: float) -> int:
        """How many callbacks this visitor created at or after ``since``."""
        c = CALLBACKS.c
        return await self._db.read(_count, c.visitor_id == visitor_id, c.created_at >= since)

    async def set_callback_fields(self, callback_id: str, **fields: Any) -> CallbackRecord:
        """Change some of :data:`EDITABLE_CALLBACK_FIELDS`; return the callback.

        Raises ``TypeError`` for any other field, ``ValueError`` for a phone
        not in E.164, :class:`NotFound` for an unknown callback.
        """
        unknown = set(fields) - EDITABLE_CALLBACK_FIELDS
        if unknown:
            raise TypeError(f"Cannot set callback field(s) {', '.join(sorted(unknown))}")
        if "phone" in fields:
            check_phone(fields["phone"])
        where = CALLBACKS.c.id == callback_id
        statement = (
            update(CALLBACKS).where(where).values(fields).returning(CALLBACKS) if fields
            else select(CALLBACKS).where(where)
        )
        row = await self._db.write(first, statement)
        if row is None:
            raise NotFound(f"No callback with id {callback_id!r}")
        return _rows.callback(row)

    async def add_hold_time(self, callback_id: str, seconds: float) -> None:
        """Add ``seconds`` (> 0) the call spent on hold to the callback's ``held_seconds``.

        Unknown callbacks are ignored (an erased one has nothing to add to).
        """
        if seconds > 0:
            await self._db.write(_add_hold, callback_id, float(seconds))

    async def wrap_up(
        self, callback_id: str, *, agent_id: str, disposition: str, note: str, now: float,
        timed_out: bool = False, summary: str = "",
    ) -> ContactEventRecord:
        """Close the contact from the agent's side: store disposition and note.

        The first call also sets ``wrapped_up_at`` (the end of the wrap-up the
        reports count). Appends a ``wrap_up`` entry (data ``{"disposition", "note"}``, and
        ``"timed_out": true`` when saved after the wrap-up time ran out) to the
        customer's timeline and returns it. Whether ``agent_id`` may do this is
        the caller's check. ``summary``: what the agent wrote for the customer (kept on the
        callback and in the entry's data when given). Raises :class:`NotFound` for an unknown
        callback.
        """
        return await self._db.write(_wrap_up, callback_id, agent_id, disposition, note, now, timed_out,
                                    summary)


def _by_command(visitor_id: str | None, command_id: str) -> Any:
    c = CALLBACKS.c
    return select(CALLBACKS).where(c.visitor_id == visitor_id, c.command_id == command_id)


def insert_callback(conn: Connection, values: dict[str, Any], *, retry_raises: bool = False) -> CallbackRecord:
    """Insert a callback (all its columns in ``values``) and its ``callback_requested`` entry,
    in the caller's transaction (a retried command's callback comes back instead).

    ``retry_raises``: a visitor's retried command is not looked for first; the unique index on
    ``(visitor_id, command_id)`` refuses it (``IntegrityError``, the transaction lost) and the
    caller looks then: one statement less for every request that is not a retry."""
    if values["command_id"] is not None and not (retry_raises and values["visitor_id"] is not None):
        existing = conn.execute(_by_command(values["visitor_id"], values["command_id"])).first()
        if existing is not None:
            return _rows.callback(existing)
    row = conn.execute(CALLBACKS.insert().values(values).returning(CALLBACKS)).one()
    conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=values["customer_id"], visitor_id=values["visitor_id"],
        callback_id=values["id"], kind="callback_requested", channel=values["channel"],
        at=values["created_at"],
        data={"queue": values["queue"], "topic": values["topic"],
              "scheduled_at": values["scheduled_at"],
              **({"consent": values["consent"]} if values.get("consent") else {}),
              **({"follow_up_of": values["follow_up_of"]} if values.get("follow_up_of") else {})},
    ))
    emit(conn, "callback.requested", {
        "callback_id": values["id"], "customer_id": values["customer_id"], "queue": values["queue"],
        "channel": values["channel"], "scheduled_at": values["scheduled_at"]},
        at=values["created_at"], customer_id=values["customer_id"], callback_id=values["id"])
    return _rows.callback(row)


def _name_customer(conn: Connection, customer_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(values))


def _name_and_insert(conn: Connection, values: dict[str, Any], customer_id: str | None,
                     naming: dict[str, Any] | None) -> CallbackRecord:
    if customer_id is not None and naming is not None:
        _name_customer(conn, customer_id, naming)
    return insert_callback(conn, values, retry_raises=True)


def _why_not_created(
    conn: Connection, values: dict[str, Any]
) -> tuple[CallbackRecord | None, bool]:
    """(the callback stored for this command, whether the id is taken)."""
    if values["command_id"] is not None:
        existing = conn.execute(_by_command(values["visitor_id"], values["command_id"])).first()
        if existing is not None:
            return _rows.callback(existing), True
    taken = conn.execute(select(CALLBACKS.c.id).where(CALLBACKS.c.id == values["id"])).first()
    return None, taken is not None


def _callbacks(conn: Connection, statement: Any) -> list[CallbackRecord]:
    return [_rows.callback(row) for row in conn.execute(statement)]


def _count(conn: Connection, *where: Any) -> int:
    return conn.execute(select(func.count()).select_from(CALLBACKS).where(*where)).scalar_one()


def _add_hold(conn: Connection, callback_id: str, seconds: float) -> None:
    conn.execute(update(CALLBACKS).where(CALLBACKS.c.id == callback_id)
                 .values(held_seconds=CALLBACKS.c.held_seconds + seconds))


def _wrap_up(
    conn: Connection, callback_id: str, agent_id: str, disposition: str, note: str, now: float,
    timed_out: bool, summary: str,
) -> ContactEventRecord:
    owner = conn.execute(
        update(CALLBACKS).where(CALLBACKS.c.id == callback_id)
        # The first save ends the wrap-up (the reports' wrap-up time); a later correction doesn't move it.
        .values(disposition=disposition, note=note, summary=summary or None,
                wrapped_up_at=func.coalesce(CALLBACKS.c.wrapped_up_at, now))
        .returning(CALLBACKS.c.customer_id, CALLBACKS.c.visitor_id, CALLBACKS.c.channel)
    ).first()
    if owner is None:
        raise NotFound(f"No callback with id {callback_id!r}")
    row = conn.execute(CONTACT_EVENTS.insert().values(
        customer_id=owner.customer_id, visitor_id=owner.visitor_id, callback_id=callback_id,
        agent_id=agent_id, kind="wrap_up", channel=owner.channel, at=now,
        data={"disposition": disposition or None, "note": note, **({"timed_out": True} if timed_out else {}),
              **({"summary": summary} if summary else {})},
    ).returning(CONTACT_EVENTS)).one()
    emit(conn, "callback.wrapped_up", {
        "callback_id": callback_id, "customer_id": owner.customer_id, "agent_id": agent_id,
        "disposition": disposition or None, "timed_out": timed_out},
        at=now, customer_id=owner.customer_id, callback_id=callback_id)
    return _rows.contact_event(row)
