"""The router's decisions, made durable: ``record_routing`` and offer bookkeeping.

The routing service feeds the pure router, writes the events it returns with
:meth:`RoutingLog.record_routing` and announces them only after that returned,
so a new leader rebuilds from ``open_callbacks``/``open_offers`` and loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.repository import _rows
from desktop.repository._store import AGENT_STATES, AGENTS, CALLBACKS, CONTACT_EVENTS, OFFERS, Store
from desktop.repository.errors import NotFound, RepositoryError
from desktop.repository.outbox import emit
from desktop.repository.records import CallbackRecord, ContactEventRecord, OfferRecord
from desktop.routing.events import (
    TERMINAL_CALLBACK_STATES,
    AgentState,
    AgentStateChanged,
    CallbackConnected,
    CallbackEnded,
    CallbackQueued,
    CallbackScheduled,
    CallbackState,
    OfferEnded,
    OfferMade,
    OfferOutcome,
    QueueChanged,
    RoutingEvent,
)

__all__ = ["RoutingLog"]

_QUEUED = CallbackState.QUEUED.value
_OFFERED = CallbackState.OFFERED.value


# The router's hot path: statements are built once, so each execution skips
# SQLAlchemy's construction and cache-key work (about 30 µs instead of 200 µs a
# statement on SQLite). Bound parameters are named after the events' fields.
_c = CALLBACKS.c
_OWNERS = select(_c.id, _c.customer_id, _c.visitor_id, _c.channel).where(
    _c.id.in_(bindparam("callback_ids", expanding=True))
)
_SET_QUEUED = update(CALLBACKS).where(_c.id == bindparam("callback_id")).values(
    state=_QUEUED, enqueued_at=func.coalesce(_c.enqueued_at, bindparam("at"))
)
_SET_SCHEDULED = update(CALLBACKS).where(_c.id == bindparam("callback_id")).values(
    state=CallbackState.SCHEDULED.value, scheduled_at=bindparam("scheduled_at")
)
_SET_OFFERED = update(CALLBACKS).where(_c.id == bindparam("callback_id")).values(
    state=_OFFERED, offered_at=bindparam("at")
)
# A callback queued and offered in the same batch (an agent was free as it arrived: the
# offer's usual path) is one UPDATE, not two.
_SET_QUEUED_OFFERED = update(CALLBACKS).where(_c.id == bindparam("callback_id")).values(
    state=_OFFERED, enqueued_at=func.coalesce(_c.enqueued_at, bindparam("queued_at")),
    offered_at=bindparam("at"),
)
_BACK_TO_QUEUED = update(CALLBACKS).where(
    _c.id == bindparam("callback_id"), _c.state == _OFFERED
).values(state=_QUEUED)
_SET_CONNECTED = update(CALLBACKS).where(_c.id == bindparam("callback_id")).values(
    state=CallbackState.CONNECTED.value, answered_at=bindparam("at"),
    agent_id=bindparam("agent_id"),
)
_SET_ENDED = update(CALLBACKS).where(_c.id == bindparam("callback_id")).values(
    state=bindparam("state"), ended_at=bindparam("at")
)
_ADD_OFFER = insert(OFFERS).values(
    id=bindparam("offer_id"), callback_id=bindparam("callback_id"),
    agent_id=bindparam("agent_id"), offered_at=bindparam("at"),
    expires_at=bindparam("expires_at"),
)
_END_OFFER = update(OFFERS).where(OFFERS.c.id == bindparam("offer_id")).values(
    outcome=bindparam("outcome"), ended_at=bindparam("at")
)
_SET_AGENT_STATE = update(AGENTS).where(AGENTS.c.id == bindparam("agent_id")).values(
    state=bindparam("state"), state_reason=bindparam("reason"), state_since=bindparam("at")
)
_UNSTAFFED_STATES = [AgentState.AWAY.value, AgentState.OFFLINE.value]
# ``presence``: the change is between staffed and away/offline (what staffed time is read from),
# decided against the state stored before this change, in the same statement.
_LOG_AGENT_STATE = insert(AGENT_STATES).from_select(
    ["agent_id", "state", "reason", "at", "presence"],
    select(
        AGENTS.c.id, bindparam("state"), bindparam("reason"), bindparam("at"),
        AGENTS.c.state.in_(_UNSTAFFED_STATES) != bindparam("unstaffed"),
    ).where(AGENTS.c.id == bindparam("agent_id")),
)
_ADD_ENTRIES = insert(CONTACT_EVENTS).returning(CONTACT_EVENTS, sort_by_parameter_order=True)


class RoutingLog(Store):
    async def record_routing(self, events: Sequence[RoutingEvent]) -> list[ContactEventRecord]:
        """Apply a batch of router events in ONE transaction; return the new timeline entries.

        In order, per event:

        - ``CallbackQueued``: state ``queued``; ``enqueued_at`` is set the first
          time only (a requeue after a declined offer keeps the original wait).
        - ``CallbackScheduled``: state ``scheduled``, ``scheduled_at``.
        - ``OfferMade``: a pending offer row (with its agent); the callback is
          ``offered`` at ``offered_at``. ``callbacks.agent_id`` waits for a connect.
        - ``OfferEnded``: the offer's outcome and ``ended_at``; unless accepted,
          a callback still ``offered`` goes back to ``queued`` (events later in
          the batch, e.g. ``CallbackEnded``, say where it really went).
        - ``CallbackConnected``: state ``connected``, ``answered_at``, ``agent_id``.
        - ``CallbackEnded``: the terminal state and ``ended_at``.
        - ``AgentStateChanged``: the agent's state, reason and since, and a row
          of their state history (``agent_states``, what occupancy is read from).
        - ``QueueChanged``: nothing stored.

        Timeline kinds appended (on the callback's channel, with the agent
        where known): ``callback_queued``, ``callback_scheduled``,
        ``callback_offered``, ``offer_declined`` / ``offer_timed_out`` /
        ``offer_withdrawn`` (an accepted offer is followed by
        ``callback_connected``), ``callback_completed`` / ``callback_cancelled``
        / ``callback_abandoned`` (data ``{"reason"}`` when the event gives one: an inbound
        caller who hung up, or whose line dropped).

        Raises, storing nothing: ``ValueError`` for a ``CallbackEnded`` whose
        state is not terminal (before any I/O), :class:`NotFound` if an event
        names a callback that was never created, :class:`RepositoryError` if
        the database refuses the batch (an unknown agent, an offer id used
        twice). Costs one SELECT for the batch, one or two statements an event
        (a ``CallbackQueued`` followed at once by its ``OfferMade``: two for both)
        and one INSERT for all timeline entries, all prepared once.
        """
        for event in events:
            if isinstance(event, CallbackEnded) and event.state not in TERMINAL_CALLBACK_STATES:
                raise ValueError(f"CallbackEnded with the non-terminal state {event.state!r}")
        try:
            return await self._db.write(_record_routing, list(events))
        except IntegrityError as error:
            raise RepositoryError(f"The routing batch was refused: {error.orig}") from error

    async def open_offers(self) -> list[OfferRecord]:
        """Every pending offer (no outcome yet), oldest first."""
        return await self._db.read(_open_offers)

    async def open_offer_for_callback(self, callback_id: str) -> OfferRecord | None:
        """The callback's pending offer, if any (the router allows at most one)."""
        where = (OFFERS.c.callback_id == callback_id, OFFERS.c.outcome.is_(None))
        return await self._db.read(_newest_offer, where)

    async def open_offer_for_agent(self, agent_id: str) -> OfferRecord | None:
        """The pending offer the agent holds, if any (a reserved agent holds one)."""
        where = (OFFERS.c.agent_id == agent_id, OFFERS.c.outcome.is_(None))
        return await self._db.read(_newest_offer, where)

    async def current_contact_for_agent(self, agent_id: str) -> CallbackRecord | None:
        """The callback the agent is on: connected, or ended and awaiting their wrap-up.

        An ended callback counts only while the agent's state is ``wrap_up``
        and no disposition is stored, so a wrap-up that timed out does not
        come back on the next login. Newest answer first.
        """
        return await self._db.read(_current_contact, agent_id)

    async def withdraw_open_offers(self, now: float) -> list[OfferRecord]:
        """End every pending offer as ``withdrawn`` at ``now``; return them, ended.

        For a new leader, before it rebuilds: the agents holding those offers
        are to be told, and callbacks left ``offered`` go back to ``queued``
        (no timeline entries: nothing happened the customer would care about).
        """
        return await self._db.write(_withdraw_open_offers, now)


def _record_routing(conn: Connection, events: list[RoutingEvent]) -> list[ContactEventRecord]:
    callback_ids = {event.callback_id for event in events if hasattr(event, "callback_id")}
    owners: dict[str, Any] = {}
    if callback_ids:
        rows = conn.execute(_OWNERS, {"callback_ids": sorted(callback_ids)})
        owners = {row.id: row for row in rows}
        if missing := callback_ids - owners.keys():
            raise NotFound(f"No callback with id(s) {', '.join(sorted(missing))}")
    timeline: list[dict[str, Any]] = []
    queued_then_offered = {
        index for index, (event, after) in enumerate(zip(events, events[1:]))
        if isinstance(event, CallbackQueued) and isinstance(after, OfferMade)
        and after.callback_id == event.callback_id
    }
    for index, event in enumerate(events):
        if index in queued_then_offered:  # written with the offer that follows it
            entry: _Entry | None = ("callback_queued", None, {"queue": event.queue})  # type: ignore[union-attr]
        elif index - 1 in queued_then_offered:
            entry = _apply(conn, event, queued_at=events[index - 1].at)
        else:
            entry = _apply(conn, event)
        if entry is not None:
            kind, agent_id, data = entry
            owner = owners[event.callback_id]  # type: ignore[union-attr]
            timeline.append(dict(
                customer_id=owner.customer_id, visitor_id=owner.visitor_id, callback_id=owner.id,
                agent_id=agent_id, kind=kind, channel=owner.channel, at=event.at, data=data,
            ))
            _emit_webhook(conn, event, owner.customer_id)
    if not timeline:
        return []
    return [_rows.contact_event(row) for row in conn.execute(_ADD_ENTRIES, timeline)]


def _open_offers(conn: Connection) -> list[OfferRecord]:
    rows = conn.execute(
        select(OFFERS).where(OFFERS.c.outcome.is_(None)).order_by(OFFERS.c.offered_at, OFFERS.c.id)
    )
    return [_rows.offer(row) for row in rows]


def _newest_offer(conn: Connection, where: tuple[Any, ...]) -> OfferRecord | None:
    row = conn.execute(
        select(OFFERS).where(*where).order_by(OFFERS.c.offered_at.desc(), OFFERS.c.id.desc())
        .limit(1)
    ).first()
    return _rows.offer(row) if row is not None else None


def _current_contact(conn: Connection, agent_id: str) -> CallbackRecord | None:
    c = CALLBACKS.c
    wrapping_up = and_(
        c.state.in_(sorted(state.value for state in TERMINAL_CALLBACK_STATES)),
        c.disposition.is_(None),
        AGENTS.c.state == AgentState.WRAP_UP.value,
    )
    row = conn.execute(
        select(CALLBACKS).join(AGENTS, AGENTS.c.id == c.agent_id)
        .where(c.agent_id == agent_id, or_(c.state == CallbackState.CONNECTED.value, wrapping_up))
        .order_by(c.answered_at.desc(), c.id.desc()).limit(1)
    ).first()
    return _rows.callback(row) if row is not None else None


def _withdraw_open_offers(conn: Connection, now: float) -> list[OfferRecord]:
    rows = conn.execute(
        update(OFFERS).where(OFFERS.c.outcome.is_(None))
        .values(outcome=OfferOutcome.WITHDRAWN.value, ended_at=now).returning(OFFERS)
    )
    offers = sorted((_rows.offer(row) for row in rows), key=lambda o: (o.offered_at, o.id))
    conn.execute(update(CALLBACKS).where(CALLBACKS.c.state == _OFFERED).values(state=_QUEUED))
    return offers


_Entry = tuple[str, str | None, dict[str, Any]]


def _emit_webhook(conn: Connection, event: RoutingEvent, customer_id: str) -> None:
    """The outbox rows of a connected or ended contact, in the batch's own transaction."""
    if isinstance(event, CallbackConnected):
        emit(conn, "callback.connected", {"callback_id": event.callback_id, "customer_id": customer_id,
                                          "agent_id": event.agent_id},
             at=event.at, customer_id=customer_id, callback_id=event.callback_id)
    elif isinstance(event, CallbackEnded):
        emit(conn, "callback.ended", {"callback_id": event.callback_id, "customer_id": customer_id,
                                      "state": CallbackState(event.state).value, "agent_id": event.agent_id},
             at=event.at, customer_id=customer_id, callback_id=event.callback_id)


def _apply(conn: Connection, event: RoutingEvent, *, queued_at: float | None = None) -> _Entry | None:
    """Store ``event``'s effect; return the timeline entry it makes (kind, agent, data).
    ``queued_at``: an ``OfferMade`` also stores the ``CallbackQueued`` just before it, at that time."""
    match event:
        case CallbackQueued(callback_id=callback_id, queue=queue, at=at):
            conn.execute(_SET_QUEUED, {"callback_id": callback_id, "at": at})
            return "callback_queued", None, {"queue": queue}
        case CallbackScheduled(callback_id=callback_id, queue=queue, scheduled_at=scheduled_at):
            conn.execute(_SET_SCHEDULED, {"callback_id": callback_id, "scheduled_at": scheduled_at})
            return "callback_scheduled", None, {"queue": queue, "scheduled_at": scheduled_at}
        case OfferMade():
            conn.execute(_ADD_OFFER, {
                "offer_id": event.offer_id, "callback_id": event.callback_id,
                "agent_id": event.agent_id, "at": event.at, "expires_at": event.expires_at,
            })
            if queued_at is None:
                conn.execute(_SET_OFFERED, {"callback_id": event.callback_id, "at": event.at})
            else:
                conn.execute(_SET_QUEUED_OFFERED, {"callback_id": event.callback_id, "at": event.at,
                                                   "queued_at": queued_at})
            return "callback_offered", event.agent_id, {
                "offer_id": event.offer_id, "expires_at": event.expires_at
            }
        case OfferEnded():
            outcome = OfferOutcome(event.outcome)
            conn.execute(_END_OFFER, {
                "offer_id": event.offer_id, "outcome": outcome.value, "at": event.at
            })
            if outcome is OfferOutcome.ACCEPTED:
                return None  # CallbackConnected follows and says so
            # Only a callback still waiting on this offer goes back; one already
            # ended earlier in the batch stays ended.
            conn.execute(_BACK_TO_QUEUED, {"callback_id": event.callback_id})
            return f"offer_{outcome.value}", event.agent_id, {"offer_id": event.offer_id}
        case CallbackConnected():
            conn.execute(_SET_CONNECTED, {
                "callback_id": event.callback_id, "at": event.at, "agent_id": event.agent_id
            })
            return "callback_connected", event.agent_id, {"offer_id": event.offer_id}
        case CallbackEnded():
            state = CallbackState(event.state)
            conn.execute(_SET_ENDED, {
                "callback_id": event.callback_id, "state": state.value, "at": event.at
            })
            return f"callback_{state.value}", event.agent_id, {"reason": event.reason} if event.reason else {}
        case AgentStateChanged():
            values = {"agent_id": event.agent_id, "state": AgentState(event.state).value,
                      "reason": event.reason, "at": event.at}
            conn.execute(_LOG_AGENT_STATE, {**values, "unstaffed": values["state"] in _UNSTAFFED_STATES})
            conn.execute(_SET_AGENT_STATE, values)
            return None
        case QueueChanged():
            return None
    raise TypeError(f"Not a routing event: {event!r}")
