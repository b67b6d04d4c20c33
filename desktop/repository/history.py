"""The contact centre's history, summed by the database: per queue or agent and local period.

The caller (``desktop.analytics.history``) says how instants map to local
periods: the range ``[start, end)``, the zone's offsets over it as
``(from, offset_seconds)`` segments, and the period (``hour``, ``day``,
``week``, or ``None`` for the range as one). The database computes each row's
local time as ``at + offset`` with a ``CASE`` over the segments (no time-zone
support needed, so SQLite and PostgreSQL agree) and groups by the period's
start as a local naive epoch. Sums only: the figures (ratios, means) are the
caller's, from these sums.

What is summed is defined once, in :func:`_queue_columns`, and mirrors
``desktop.analytics.history.tally`` (a test holds them together).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Integer, and_, case, cast, delete, func, literal, select
from sqlalchemy.engine import Connection

from desktop.repository import models
from desktop.repository._store import AGENT_STATES, AGENTS, CALLBACKS, CUSTOMERS, OFFERS, ORDERS, PRODUCTS, Store

__all__ = ["History", "HistoryQuery", "SumsRow", "StateRow", "SATISFACTION_COLUMNS", "disposition_counts", "period_of",
           "satisfaction_statement", "raw_satisfaction_sums", "staffed_seconds", "sums_rows"]

_GAVE_UP = ("abandoned", "cancelled")
_CLOSED = "closed"  # phoned while the queue was closed: never entered it (not offered)
_ENDED_UNANSWERED = ("abandoned", "cancelled", "completed")
#: ``slot``: the rollups' 15 UTC minutes (``desktop.repository.history_rollups``).
_PERIOD_SECONDS = {"slot": 900, "hour": 3600, "day": 86400}
AGENT_CONTACT_COLUMNS = ("answered", "handled", "talk_seconds", "hold_seconds", "wrap_up_seconds")
OFFER_COLUMNS = ("offers", "accepted", "declined", "missed", "withdrawn")
SATISFACTION_COLUMNS = ("contacts", "summaries", "rated", "rating_sum", "reopened")


@dataclasses.dataclass(frozen=True, slots=True)
class HistoryQuery:
    """What to sum: the range, the zone's offsets over it and the period (see the module)."""

    start: float
    end: float
    segments: tuple[tuple[float, int], ...]
    #: ``hour``, ``day``, ``week``, or ``None``: the whole range as one period.
    period: str | None
    #: Queue -> service-level target in seconds.
    targets: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: Seconds: a callback given up sooner is a short abandon.
    short_abandon: float = 10.0
    #: Seconds after its time a scheduled callback may be answered and still be kept.
    schedule_grace: float = 300.0
    #: The rollups' settings fingerprint (``history_rollups.fingerprint``): closed periods are
    #: read from rollups made under it, if any; ``None``: every row is read raw.
    fingerprint: str | None = None
    #: The zone (the fingerprint's) whose local midnights ``start`` and ``end`` are: day
    #: rollups may serve (never for hours), and week rollups for whole local weeks.
    local_days: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SumsRow:
    """One group's sums: ``key`` is a queue name or an agent id; ``period`` the local naive epoch
    of the period's start (``None`` for the whole range)."""

    key: str | None
    period: int | None
    sums: dict[str, float]


@dataclasses.dataclass(frozen=True, slots=True)
class StateRow:
    agent_id: str
    state: str
    at: float


class History(Store):
    async def load_history(self, **rows: list[dict[str, Any]]) -> None:
        """Insert generated history in one transaction: ``customers``, ``products``, ``orders``,
        ``callbacks``, ``offers``, ``agent_states`` (lists of column dicts, in that order).

        For trusted, generated data only (the demo, benches): nothing is checked
        beyond what the schema enforces, and no timeline entry is written.
        """
        unknown = rows.keys() - _LOADABLE.keys()
        if unknown:
            raise TypeError(f"Cannot load {', '.join(sorted(unknown))}")
        await self._db.write(_load, rows)

    async def agent_staffed_seconds(self, start: float, end: float) -> dict[str, float]:
        """Seconds each agent was staffed (signed in, not away) in ``[start, end)``, summed by
        the database from the presence changes: the whole range as one period."""
        return await self._db.read(staffed_seconds, start, end)

    async def agent_presence(self, start: float, end: float) -> list[StateRow]:
        """When each agent was staffed in ``[start, end)``: their state at ``start`` and every
        change between staffed (shown as ``available``) and ``away`` or ``offline``, by agent
        then time (the rows marked ``presence``, through a partial index). Changes among
        staffed states (an offer, a call, a wrap-up) are left out: handling time comes from
        the callbacks, and there are several of those a contact."""
        return await self._db.read(_presence_changes, start, end)


_LOADABLE = {"customers": CUSTOMERS, "products": PRODUCTS, "orders": ORDERS, "callbacks": CALLBACKS,
             "offers": OFFERS, "agent_states": AGENT_STATES}


def _load(conn: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    # These rows may fall in periods already rolled up: the next pass rebuilds them.
    conn.execute(delete(models.HistoryRollup.__table__))
    conn.execute(delete(models.HistoryRollupMark.__table__))
    if rows.get("agent_states"):
        rows = {**rows, "agent_states": with_presence([dict(row) for row in rows["agent_states"]])}
    for name, table in _LOADABLE.items():
        if rows.get(name):
            conn.execute(table.insert(), rows[name])


def _floor(conn: Connection, expression: Any) -> Any:
    # SQLite has no floor() without its math extension; a cast truncates, which is the
    # floor for the positive epochs here. PostgreSQL's cast would round.
    if conn.dialect.name == "sqlite":
        return cast(expression, Integer)
    return cast(func.floor(expression), Integer)


def period_of(conn: Connection, query: HistoryQuery, at: Any) -> Any:
    """The local naive epoch of the start of ``at``'s period (``desktop.analytics.history.period_key``)."""
    if query.period is None:
        return literal(None)
    segments = query.segments
    offset: Any = literal(segments[0][1])
    if len(segments) > 1:
        offset = case(*((at < literal(float(start)), literal(previous))
                        for (start, _), (_, previous) in zip(segments[1:], segments)),
                      else_=literal(segments[-1][1]))
    local = at + offset
    if query.period in _PERIOD_SECONDS:
        width = _PERIOD_SECONDS[query.period]
        return _floor(conn, local / float(width)) * width
    if query.period != "week":
        raise ValueError(f"Unknown period {query.period!r}")
    days = _floor(conn, local / 86400.0)
    # Weeks start on Monday; 1970-01-05 (day 4) was one.
    return (_floor(conn, (days - 4) / 7.0) * 7 + 4) * 86400


def _sum_if(condition: Any, value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _queue_columns(query: HistoryQuery) -> list[Any]:
    c = CALLBACKS.c
    wait = c.answered_at - c.enqueued_at
    answered = c.answered_at.is_not(None)
    handled = and_(answered, c.ended_at.is_not(None))
    target: Any = literal(None)
    if query.targets:
        target = case(*((c.queue == queue, literal(float(seconds))) for queue, seconds in query.targets.items()),
                      else_=None)
    gave_up = and_(c.answered_at.is_(None), c.state.in_(_GAVE_UP), c.ended_at.is_not(None))
    short = literal(float(query.short_abandon))
    scheduled = c.scheduled_at.is_not(None)
    on_time = c.scheduled_at + float(query.schedule_grace)
    return [
        _sum_if(c.state != _CLOSED).label("offered"),
        func.count(c.answered_at).label("answered"),
        _sum_if(wait <= target).label("answered_within_target"),
        _sum_if(and_(gave_up, c.ended_at - c.enqueued_at >= short)).label("abandoned"),
        _sum_if(and_(gave_up, c.ended_at - c.enqueued_at < short)).label("short_abandoned"),
        _sum_if(answered, wait).label("wait_seconds"),
        _sum_if(handled).label("handled"),
        _sum_if(handled, c.ended_at - c.answered_at).label("talk_seconds"),
        _sum_if(handled, c.held_seconds).label("hold_seconds"),
        _sum_if(and_(handled, c.wrapped_up_at > c.ended_at), c.wrapped_up_at - c.ended_at).label("wrap_up_seconds"),
        _sum_if(and_(scheduled, answered, c.answered_at <= on_time)).label("scheduled_kept"),
        _sum_if(and_(scheduled, answered, c.answered_at > on_time)).label("scheduled_missed_late"),
        _sum_if(and_(scheduled, c.answered_at.is_(None), c.state.in_(_ENDED_UNANSWERED))).label("scheduled_missed_unanswered"),
        _sum_if(c.channel == "browser").label("browser"),
        _sum_if(c.channel == "phone").label("phone"),
        _sum_if(and_(c.channel == "phone_inbound", c.state != _CLOSED)).label("phone_inbound"),
        _sum_if(c.state == _CLOSED).label("closed"),
    ]


def sums_rows(result: Any, *, key: str) -> list[SumsRow]:
    rows = []
    for row in result:
        sums = {name: float(value or 0) for name, value in row._mapping.items()
                if name not in (key, "period", "detail")}
        if "scheduled_missed_late" in sums:
            sums["scheduled_missed"] = sums.pop("scheduled_missed_late") + sums.pop("scheduled_missed_unanswered")
        period = row._mapping["period"]
        rows.append(SumsRow(row._mapping[key], int(period) if period is not None else None, sums))
    return rows


def queue_statement(conn: Connection, query: HistoryQuery) -> Any:
    c = CALLBACKS.c
    period = period_of(conn, query, c.enqueued_at).label("period")
    return (
        select(c.queue.label("key"), period, literal(None).label("detail"), *_queue_columns(query))
        .where(c.enqueued_at >= query.start, c.enqueued_at < query.end)
        .group_by(c.queue, period)
    )


def raw_queue_sums(conn: Connection, query: HistoryQuery) -> list[SumsRow]:
    return sums_rows(conn.execute(queue_statement(conn, query)), key="key")


def agent_contact_statement(conn: Connection, query: HistoryQuery) -> Any:
    c = CALLBACKS.c
    period = period_of(conn, query, c.answered_at).label("period")
    handled = c.ended_at.is_not(None)
    return (
        select(
            c.agent_id.label("key"), period, literal(None).label("detail"),
            func.count().label("answered"),
            _sum_if(handled).label("handled"),
            _sum_if(handled, c.ended_at - c.answered_at).label("talk_seconds"),
            _sum_if(handled, c.held_seconds).label("hold_seconds"),
            _sum_if(and_(handled, c.wrapped_up_at > c.ended_at), c.wrapped_up_at - c.ended_at).label("wrap_up_seconds"),
        )
        .where(c.answered_at >= query.start, c.answered_at < query.end, c.agent_id.is_not(None))
        .group_by(c.agent_id, period)
    )


def raw_agent_contact_sums(conn: Connection, query: HistoryQuery) -> list[SumsRow]:
    return sums_rows(conn.execute(agent_contact_statement(conn, query)), key="key")


def agent_offer_statement(conn: Connection, query: HistoryQuery) -> Any:
    o = OFFERS.c
    period = period_of(conn, query, o.offered_at).label("period")
    return (
        select(
            o.agent_id.label("key"), period, literal(None).label("detail"),
            func.count().label("offers"),
            _sum_if(o.outcome == "accepted").label("accepted"),
            _sum_if(o.outcome == "declined").label("declined"),
            _sum_if(o.outcome == "timed_out").label("missed"),
            _sum_if(o.outcome == "withdrawn").label("withdrawn"),
        )
        .where(o.offered_at >= query.start, o.offered_at < query.end)
        .group_by(o.agent_id, period)
    )


def raw_agent_offer_sums(conn: Connection, query: HistoryQuery) -> list[SumsRow]:
    return sums_rows(conn.execute(agent_offer_statement(conn, query)), key="key")


def _disposition_filter(query: HistoryQuery) -> Any:
    c = CALLBACKS.c
    return and_(c.enqueued_at >= query.start, c.enqueued_at < query.end,
                c.disposition.is_not(None), c.disposition != "")


def disposition_statement(conn: Connection, query: HistoryQuery) -> Any:
    """Per queue, disposition and period: ``contacts`` (what the rollups keep)."""
    c = CALLBACKS.c
    period = period_of(conn, query, c.enqueued_at).label("period")
    return (select(c.queue.label("key"), period, c.disposition.label("detail"), func.count().label("contacts"))
            .where(_disposition_filter(query)).group_by(c.queue, c.disposition, period))


def disposition_counts(conn: Connection, query: HistoryQuery) -> list[tuple[str, str, int]]:
    c = CALLBACKS.c
    count = func.count().label("count")
    statement = (
        select(c.queue, c.disposition, count)
        .where(_disposition_filter(query))
        .group_by(c.queue, c.disposition)
        .order_by(count.desc(), c.queue, c.disposition)
    )
    return [(row.queue, row.disposition, int(row.count)) for row in conn.execute(statement)]


def satisfaction_statement(start: float, end: float) -> Any:
    """Per queue (``key``) and agent (``detail``), of the contacts wrapped up in ``[start, end)``:
    ``contacts``, ``summaries`` (given one), ``rated``, ``rating_sum``, ``reopened`` (not solved)."""
    c = CALLBACKS.c
    return (
        select(c.queue.label("key"), c.agent_id.label("detail"), func.count().label("contacts"),
               _sum_if(c.summary.is_not(None)).label("summaries"), _sum_if(c.rating.is_not(None)).label("rated"),
               func.coalesce(func.sum(c.rating), 0).label("rating_sum"),
               _sum_if(c.reopened_at.is_not(None)).label("reopened"))
        .where(c.wrapped_up_at >= start, c.wrapped_up_at < end, c.agent_id.is_not(None))
        .group_by(c.queue, c.agent_id)
    )


def raw_satisfaction_sums(conn: Connection, start: float, end: float) -> list[dict[str, Any]]:
    """:func:`satisfaction_statement`'s rows as ``{queue, agent_id, contacts, ...}`` (integers)."""
    return [{"queue": row.key, "agent_id": row.detail, **{name: int(row._mapping[name]) for name in SATISFACTION_COLUMNS}}
            for row in conn.execute(satisfaction_statement(start, end))]


_UNSTAFFED = ("away", "offline")


def _presence_changes(conn: Connection, start: float, end: float) -> list[StateRow]:
    s = AGENT_STATES.c
    # The state each agent was in at ``start``: their last presence change before it (one
    # indexed look-up an account), then their presence changes in the range.
    last = (
        select(s.id).where(s.agent_id == AGENTS.c.id, s.presence, s.at < start)
        .order_by(s.at.desc(), s.id.desc()).limit(1).scalar_subquery()
    )
    opening_ids = [row[0] for row in conn.execute(select(last.label("id")).select_from(AGENTS))
                   if row[0] is not None]
    opening = select(s.agent_id, s.state, s.at, s.id).where(s.id.in_(opening_ids))
    within = select(s.agent_id, s.state, s.at, s.id).where(s.presence, s.at >= start, s.at < end)
    union = opening.union_all(within).subquery()
    rows = conn.execute(select(union.c.agent_id, union.c.state, union.c.at)
                        .order_by(union.c.agent_id, union.c.at, union.c.id))
    return [StateRow(agent_id, _presence(state), float(at)) for agent_id, state, at in rows]


def staffed_seconds(conn: Connection, start: float, end: float) -> dict[str, float]:
    s = AGENT_STATES.c
    last = (
        select(s.id).where(s.agent_id == AGENTS.c.id, s.presence, s.at < start)
        .order_by(s.at.desc(), s.id.desc()).limit(1).scalar_subquery()
    )
    opening_ids = [row[0] for row in conn.execute(select(last.label("id")).select_from(AGENTS))
                   if row[0] is not None]
    # The state held at ``start`` counts from ``start``; each state lasts until the agent's next change.
    opening = select(s.agent_id, s.state, literal(float(start)).label("at"), s.id).where(s.id.in_(opening_ids))
    within = select(s.agent_id, s.state, s.at, s.id).where(s.presence, s.at >= start, s.at < end)
    changes = opening.union_all(within).subquery()
    until = func.lead(changes.c.at).over(partition_by=changes.c.agent_id, order_by=(changes.c.at, changes.c.id))
    spans = select(changes.c.agent_id, changes.c.state, changes.c.at, until.label("until")).subquery()
    finish = func.coalesce(spans.c.until, float(end))
    statement = (
        select(spans.c.agent_id, func.sum(finish - spans.c.at).label("seconds"))
        .where(spans.c.state.not_in(_UNSTAFFED)).group_by(spans.c.agent_id)
    )
    return {agent_id: float(seconds or 0.0) for agent_id, seconds in conn.execute(statement)}


def _presence(state: str) -> str:
    return state if state in _UNSTAFFED else "available"


def with_presence(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``agent_states`` rows with ``presence`` set as the router's log sets it (each agent
    starts offline); for :meth:`History.load_history`."""
    previous: dict[str, bool] = {}
    for row in sorted(rows, key=lambda r: (r["agent_id"], r["at"])):
        unstaffed = row["state"] in _UNSTAFFED
        row.setdefault("presence", previous.get(row["agent_id"], True) != unstaffed)
        previous[row["agent_id"]] = unstaffed
    return rows
