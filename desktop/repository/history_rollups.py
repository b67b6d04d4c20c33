"""History rollups: the reports' sums kept for closed periods, so a report reads a few
thousand rows instead of every callback of its range several times.

**Three levels** in ``history_rollups``: ``slot`` rows sum 15 UTC minutes (every real
zone's offsets and changes fall on 15 minutes, so any local hour, day or week is a sum
of whole slots); ``day`` rows sum the slots of one local day of the centre's zone
(what day reports read: 90 days are 90 rows a queue or agent, not 8,640); ``week`` rows
sum the seven day rows of a local week from Monday, made once its last day is (what
week reports, comparisons and the agents' whole-range figures read for whole weeks: a
year is 52 rows an agent, not 365). The sums are exactly the raw queries' (``desktop.repository.history``,
grouped by slot instead of local period), so figures computed from them (service level,
ASA, AHT: ratios of sums) are the raw ones.

**Closed periods only.** A callback's sums change until it has ended and been wrapped
up. :func:`roll_up` advances a mark (``history_rollup_marks``) to the start of the
earliest slot that may still change: no later than ``now - settle`` (an hour) and held back by
the earliest callback not yet settled (still waiting or in a call, or not wrapped up
while its end is recent) or offer without an outcome. Rows stuck open for over
:data:`STALE` count as settled. A report reads day rows, then slot rows, up to the
mark and the raw rows after it (:func:`read_parts`), all bounded by the mark read
once, so a rollup committed meanwhile counts nothing twice.

**Idempotent.** Each chunk deletes and re-inserts its slots and days and moves the mark
in one transaction: a crash rolls back the whole chunk, a rerun redoes it. Rollups are
tied to the settings they depend on (queues' service-level targets, the short-abandon
threshold, the schedule grace, the time zone): a different :func:`fingerprint` rebuilds
them, and until then reports read the raw rows.

**Satisfaction is patched.** A contact may be rated, or said not solved, up to the
after-call window (a week) after its wrap-up, when its day is rolled up already: the
rating's transaction adds it to the day and week ``satisfaction`` rows (per queue and
agent, by the wrap-up) itself (:func:`add_to_satisfaction`), holding the mark's row so a
pass rolling that day up meanwhile waits for it (or it for the pass) and it is counted once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.engine import Connection

from desktop.repository import models
from desktop.repository._store import CALLBACKS, OFFERS, Store
from desktop.repository.history import (
    AGENT_CONTACT_COLUMNS,
    HistoryQuery,
    OFFER_COLUMNS,
    SumsRow,
    disposition_counts,
    period_of,
    sums_rows,
    SATISFACTION_COLUMNS,
    agent_contact_statement,
    agent_offer_statement,
    disposition_statement,
    queue_statement,
    raw_agent_contact_sums,
    raw_agent_offer_sums,
    raw_queue_sums,
    raw_satisfaction_sums,
    satisfaction_statement,
    staffed_seconds,
)

__all__ = ["HistorySums", "RollupSettings", "SLOT", "STALE", "fingerprint", "roll_up", "read_parts", "rolled_queue_sums",
           "rolled_agent_contact_sums", "rolled_agent_offer_sums", "rolled_dispositions", "rolled_staffed_seconds",
           "rolled_satisfaction_sums", "add_to_satisfaction", "forget"]

ROLLUPS = models.HistoryRollup.__table__
MARKS = models.HistoryRollupMark.__table__
SUMS = models.ROLLUP_SUMS
SLOT = 900
DAY = 86400
#: A callback or offer still open this long after it started is left as it is (a lost row).
STALE = 7 * DAY
_MARK = "history"
_VERSION = 4  # 2: satisfaction; 3: week rows; 4: phoned in, closed


def fingerprint(*, targets: Mapping[str, float], short_abandon: float, schedule_grace: float,
                time_zone: str) -> str:
    """What the rollups depend on, as one string: rollups under another are rebuilt."""
    text = json.dumps({"v": _VERSION, "targets": sorted((q, float(t)) for q, t in targets.items()),
                       "short": float(short_abandon), "grace": float(schedule_grace), "zone": time_zone})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _slot_floor(at: float) -> float:
    return float(math.floor(at / SLOT) * SLOT)


def _midnight_at_or_before(at: float, zone: ZoneInfo) -> float:
    day = dt.datetime.fromtimestamp(at, zone).date()
    midnight = dt.datetime.combine(day, dt.time(), zone).timestamp()
    return midnight if midnight <= at else dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), zone).timestamp()


def _next_midnight(midnight: float, zone: ZoneInfo) -> float:
    day = dt.datetime.fromtimestamp(midnight, zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), zone).timestamp()


# -- rolling up ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RollupSettings:
    targets: Mapping[str, float]
    short_abandon: float
    schedule_grace: float
    time_zone: str
    #: Seconds after which a period is closed at the earliest (open contacts hold it back
    #: anyway: this covers changes to a contact after it ended and was wrapped up).
    settle: float = 3600.0
    #: Seconds of slots one transaction rolls up.
    chunk: float = 7 * DAY

    @property
    def fingerprint(self) -> str:
        return fingerprint(targets=self.targets, short_abandon=self.short_abandon,
                           schedule_grace=self.schedule_grace, time_zone=self.time_zone)


def roll_up(conn: Connection, settings: RollupSettings, now: float) -> dict[str, float] | None:
    """Roll up one chunk (see the module); returns the mark after it, or ``None`` when there
    was nothing to do. Call until it returns ``None`` (each call its own transaction)."""
    zone = ZoneInfo(settings.time_zone)
    # Held to the end: a late rating (add_to_satisfaction) waits for this pass, or it for the rating.
    mark = conn.execute(select(MARKS).where(MARKS.c.name == _MARK).with_for_update()).first()
    if mark is None or mark.fingerprint != settings.fingerprint:
        conn.execute(delete(ROLLUPS))
        conn.execute(delete(MARKS))
        start = _slot_floor(_earliest(conn) or now - settings.settle)
        days_until = _midnight_at_or_before(start, zone)
        conn.execute(MARKS.insert().values(name=_MARK, fingerprint=settings.fingerprint, slots_until=days_until,
                                           days_until=days_until, updated_at=now))
        slots_from = days_until
    else:
        slots_from, days_until = float(mark.slots_until), float(mark.days_until)
    target = _closed_until(conn, slots_from, min(slots_from + settings.chunk, now - settings.settle),
                           now=now, settle=settings.settle)
    if target <= slots_from:
        return None
    query = HistoryQuery(start=slots_from, end=target, segments=((slots_from, 0),), period="slot",
                         targets=dict(settings.targets), short_abandon=settings.short_abandon,
                         schedule_grace=settings.schedule_grace)
    slots = (ROLLUPS.c.level == "slot") & (ROLLUPS.c.at >= slots_from) & (ROLLUPS.c.at < target)
    conn.execute(delete(ROLLUPS).where(slots))
    _insert(conn, "slot", "queue", queue_statement(conn, query))
    days_from = days_until
    while (following := _next_midnight(days_until, zone)) <= target:
        _roll_day(conn, dataclasses.replace(query, start=days_until, end=following, period=None))
        days_until = following
    _roll_weeks(conn, _DAY_KINDS, days_from, days_until, zone)
    conn.execute(update(MARKS).where(MARKS.c.name == _MARK).values(
        slots_until=target, days_until=days_until, updated_at=now))
    return {"slots_until": target, "days_until": days_until}


#: The kinds with day (and week) rows.
_DAY_KINDS = ("queue", "agent", "offer", "disposition", "staffed", "satisfaction")


def _monday_at_or_before(at: float, zone: ZoneInfo) -> float:
    day = dt.datetime.fromtimestamp(at, zone).date()
    return dt.datetime.combine(day - dt.timedelta(days=day.weekday()), dt.time(), zone).timestamp()


def _week_after(monday: float, zone: ZoneInfo) -> float:
    day = dt.datetime.fromtimestamp(monday, zone).date() + dt.timedelta(days=7)
    return dt.datetime.combine(day, dt.time(), zone).timestamp()


def _roll_weeks(conn: Connection, kinds: tuple[str, ...], before: float, after: float, zone: ZoneInfo) -> None:
    """Week rows of ``kinds`` for every local week whose last day was rolled up in ``[before, after)``."""
    r = ROLLUPS.c
    week = _monday_at_or_before(before, zone)
    while (following := _week_after(week, zone)) <= after:
        if following > before:
            conn.execute(delete(ROLLUPS).where(r.level == "week", r.kind.in_(kinds), r.at == week))
            source = (select(literal("week"), r.kind, literal(week), r.key, r.detail,
                             *(func.sum(r[name]) for name in SUMS))
                      .where(r.level == "day", r.kind.in_(kinds), r.at >= week, r.at < following)
                      .group_by(r.kind, r.key, r.detail))
            conn.execute(ROLLUPS.insert().from_select(["level", "kind", "at", "key", "detail", *SUMS], source))
        week = following


def _insert(conn: Connection, level: str, kind: str, statement: Any, at: float | None = None) -> None:
    inner = statement.subquery()
    names = [name for name in inner.c.keys() if name in SUMS]
    source = select(literal(level), literal(kind), inner.c.period if at is None else literal(float(at)),
                    func.coalesce(inner.c.key, ""), func.coalesce(inner.c.detail, ""),
                    *(inner.c[name] for name in names))
    conn.execute(ROLLUPS.insert().from_select(["level", "kind", "at", "key", "detail", *names], source))


def _roll_day(conn: Connection, day: HistoryQuery) -> None:
    """The local day ``[day.start, day.end)``: its queues from their slots, the rest from the
    rows (only queues have slots: agents' and offers' would be most of the table)."""
    r = ROLLUPS.c
    conn.execute(delete(ROLLUPS).where(r.level == "day", r.at == day.start))
    source = (select(literal("day"), literal("queue"), literal(day.start), r.key, r.detail,
                     *(func.sum(r[name]) for name in _QUEUE_NAMES))
              .where(r.level == "slot", r.kind == "queue", r.at >= day.start, r.at < day.end).group_by(r.key, r.detail))
    conn.execute(ROLLUPS.insert().from_select(["level", "kind", "at", "key", "detail", *_QUEUE_NAMES], source))
    for kind, statement in (("agent", agent_contact_statement), ("offer", agent_offer_statement),
                            ("disposition", disposition_statement)):
        _insert(conn, "day", kind, statement(conn, day), at=day.start)
    _insert(conn, "day", "satisfaction", satisfaction_statement(day.start, day.end), at=day.start)
    staffed = staffed_seconds(conn, day.start, day.end)
    if staffed:
        conn.execute(ROLLUPS.insert(), [dict(level="day", kind="staffed", at=day.start, key=agent, detail="",
                                             staffed_seconds=seconds) for agent, seconds in staffed.items()])


def _earliest(conn: Connection) -> float | None:
    c, o = CALLBACKS.c, OFFERS.c
    found = [conn.execute(select(func.min(c.enqueued_at))).scalar(),
             conn.execute(select(func.min(c.answered_at))).scalar(),
             conn.execute(select(func.min(o.offered_at))).scalar()]
    found = [float(at) for at in found if at is not None]
    return min(found) if found else None


def _closed_until(conn: Connection, since: float, limit: float, *, now: float, settle: float) -> float:
    """The start of the earliest slot in ``[since, limit)`` whose sums may still change, or ``limit``'s.

    Settled: ended ``settle`` ago, and wrapped up (or ended twice that long ago)."""
    c, o = CALLBACKS.c, OFFERS.c
    cutoff = now - settle
    settled = (c.ended_at.is_not(None) & (c.ended_at <= cutoff)
               & (c.answered_at.is_(None) | c.wrapped_up_at.is_not(None) | (c.ended_at <= cutoff - settle)))
    open_ = ~settled & (c.enqueued_at >= now - STALE)
    candidates = [limit]
    for column in (c.enqueued_at, c.answered_at):
        at = conn.execute(select(func.min(column)).where(column >= since, column < limit, open_)).scalar()
        if at is not None:
            candidates.append(float(at))
    at = conn.execute(select(func.min(o.offered_at)).where(
        o.offered_at >= since, o.offered_at < limit, o.outcome.is_(None), o.offered_at >= now - STALE)).scalar()
    if at is not None:
        candidates.append(float(at))
    return _slot_floor(min(candidates))


def add_to_satisfaction(conn: Connection, *, wrapped_up_at: float | None, queue: str, agent_id: str | None,
                        rated: int = 0, rating_sum: int = 0, reopened: int = 0) -> None:
    """A rating (or its change) or "not solved" of a contact wrapped up on a day already rolled
    up: added to that day's and, if made, its week's row, in the caller's transaction."""
    mark = conn.execute(select(MARKS.c.days_until).where(MARKS.c.name == _MARK).with_for_update()).scalar()
    if mark is None or wrapped_up_at is None or agent_id is None or wrapped_up_at >= mark:
        return  # read raw, or never counted
    r = ROLLUPS.c
    day = conn.execute(select(func.max(r.at)).where(r.level == "day", r.kind == "satisfaction",
                                                    r.at <= wrapped_up_at)).scalar()
    if day is None:
        return
    at = [float(day)]
    week = conn.execute(select(func.max(r.at)).where(r.level == "week", r.kind == "satisfaction",
                                                     r.at <= day)).scalar()
    if week is not None and day - week < 7 * DAY - 2 * 3600:  # its own week, not an earlier one
        at.append(float(week))
    conn.execute(update(ROLLUPS).where(r.kind == "satisfaction", r.key == queue, r.detail == agent_id,
                                       r.level.in_(("day", "week")), r.at.in_(at))
                 .values(rated=r.rated + rated, rating_sum=r.rating_sum + rating_sum, reopened=r.reopened + reopened))


def forget(conn: Connection) -> None:
    """Drop the rollups (rows were written into closed periods): the next pass rebuilds them."""
    conn.execute(delete(ROLLUPS))
    conn.execute(delete(MARKS))


# -- reading -----------------------------------------------------------------------------------


def read_parts(conn: Connection, query: HistoryQuery, *, slots: bool = True) -> list[tuple[str, float, float]]:
    """How ``query``'s range splits: ``[(source, start, end)]`` with ``source`` ``day``,
    ``slot`` (when the kind has slots) or ``raw``; all ``raw`` when the rollups can't serve it."""
    whole = [("raw", query.start, query.end)]
    if query.fingerprint is None or query.start % SLOT:
        return whole
    mark = conn.execute(select(MARKS).where(MARKS.c.name == _MARK)).first()
    if mark is None or mark.fingerprint != query.fingerprint:
        return whole
    slots_until, days_until = float(mark.slots_until), float(mark.days_until)
    parts: list[tuple[str, float, float]] = []
    at = query.start
    if query.local_days and query.period != "hour" and at < days_until:
        parts.extend(_days_and_weeks(query, at, min(query.end, days_until)))
        at = parts[-1][2]
    if slots and at < min(query.end, slots_until):
        parts.append(("slot", at, min(query.end, slots_until)))
        at = parts[-1][2]
    if at < query.end:
        parts.append(("raw", at, query.end))
    return parts


def _days_and_weeks(query: HistoryQuery, start: float, end: float) -> list[tuple[str, float, float]]:
    """``[start, end)`` (local midnights, all rolled up) as day rows, or for week and whole-range
    queries, week rows for the whole local weeks in it and day rows either side."""
    if query.period not in ("week", None) or not query.local_days:
        return [("day", start, end)]
    zone = ZoneInfo(query.local_days)
    first = _monday_at_or_before(start, zone)
    first = first if first == start else _week_after(first, zone)
    last = _monday_at_or_before(end, zone)
    if first >= last:
        return [("day", start, end)]
    parts = [("day", start, first), ("week", first, last), ("day", last, end)]
    return [(source, a, b) for source, a, b in parts if a < b]


def _rolled(conn: Connection, query: HistoryQuery, level: str, kind: str, names: tuple[str, ...],
            start: float, end: float) -> list[SumsRow]:
    r = ROLLUPS.c
    period = period_of(conn, query, r.at).label("period")
    statement = (select(r.key, period, *(func.sum(r[name]).label(name) for name in names))
                 .where(r.level == level, r.kind == kind, r.at >= start, r.at < end).group_by(r.key, period))
    return sums_rows(conn.execute(statement), key="key")


def _combined(conn: Connection, query: HistoryQuery, kind: str, names: tuple[str, ...],
              raw: Callable[[Connection, HistoryQuery], list[SumsRow]]) -> list[SumsRow]:
    merged: dict[tuple[str | None, int | None], dict[str, float]] = {}
    for source, start, end in read_parts(conn, query, slots=kind == "queue"):
        rows = (raw(conn, dataclasses.replace(query, start=start, end=end)) if source == "raw"
                else _rolled(conn, query, source, kind, names, start, end))
        for row in rows:
            sums = merged.setdefault((row.key, row.period), {})
            for name, value in row.sums.items():
                sums[name] = sums.get(name, 0.0) + value
    return [SumsRow(key, period, sums) for (key, period), sums in merged.items()]


_QUEUE_NAMES = ("offered", "answered", "answered_within_target", "abandoned", "short_abandoned", "wait_seconds",
                "handled", "talk_seconds", "hold_seconds", "wrap_up_seconds", "scheduled_kept",
                "scheduled_missed_late", "scheduled_missed_unanswered", "browser", "phone", "phone_inbound",
                "closed")


def rolled_queue_sums(conn: Connection, query: HistoryQuery) -> list[SumsRow]:
    return _combined(conn, query, "queue", _QUEUE_NAMES, raw_queue_sums)


def rolled_agent_contact_sums(conn: Connection, query: HistoryQuery) -> list[SumsRow]:
    return _combined(conn, query, "agent", AGENT_CONTACT_COLUMNS, raw_agent_contact_sums)


def rolled_agent_offer_sums(conn: Connection, query: HistoryQuery) -> list[SumsRow]:
    return _combined(conn, query, "offer", OFFER_COLUMNS, raw_agent_offer_sums)


def rolled_dispositions(conn: Connection, query: HistoryQuery) -> list[tuple[str, str, int]]:
    counts: dict[tuple[str, str], int] = {}
    r = ROLLUPS.c
    for source, start, end in read_parts(conn, dataclasses.replace(query, period=None), slots=False):
        if source == "raw":
            found = disposition_counts(conn, dataclasses.replace(query, start=start, end=end))
        else:
            found = conn.execute(select(r.key, r.detail, func.sum(r.contacts))
                                 .where(r.level == source, r.kind == "disposition", r.at >= start, r.at < end)
                                 .group_by(r.key, r.detail)).all()
        for queue, disposition, count in found:
            counts[(queue, disposition)] = counts.get((queue, disposition), 0) + int(count)
    return [(queue, disposition, count) for (queue, disposition), count
            in sorted(counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))]


def rolled_satisfaction_sums(conn: Connection, query: HistoryQuery) -> list[dict[str, Any]]:
    """Per queue and agent, of the contacts wrapped up in the range (``raw_satisfaction_sums``):
    closed local days from their rollups, the rest raw."""
    parts = read_parts(conn, dataclasses.replace(query, period=None), slots=False)
    r = ROLLUPS.c
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for source, start, end in parts:
        if source == "raw":
            found = raw_satisfaction_sums(conn, start, end)
        else:
            found = [{"queue": row.key, "agent_id": row.detail, **{name: int(row._mapping[name])
                                                                     for name in SATISFACTION_COLUMNS}}
                     for row in conn.execute(
                         select(r.key, r.detail, *(func.sum(r[name]).label(name) for name in SATISFACTION_COLUMNS))
                         .where(r.level == source, r.kind == "satisfaction", r.at >= start, r.at < end)
                         .group_by(r.key, r.detail))]
        for row in found:
            into = sums.setdefault((row["queue"], row["agent_id"]), dict.fromkeys(SATISFACTION_COLUMNS, 0))
            for name in SATISFACTION_COLUMNS:
                into[name] += row[name]
    return [{"queue": queue, "agent_id": agent, **values} for (queue, agent), values in sums.items()]


def rolled_staffed_seconds(conn: Connection, query: HistoryQuery, stop: float) -> dict[str, float]:
    """Seconds each agent was staffed in ``[query.start, min(query.end, stop))``, the whole
    range as one period (``History.agent_staffed_seconds``): local days from their rollups."""
    seconds: dict[str, float] = {}
    r = ROLLUPS.c
    for source, start, end in read_parts(conn, dataclasses.replace(query, period=None), slots=False):
        if source == "raw":
            found = staffed_seconds(conn, start, min(end, stop)).items() if start < stop else ()
        else:
            found = conn.execute(select(r.key, func.sum(r.staffed_seconds)).where(
                r.level == source, r.kind == "staffed", r.at >= start, r.at < end).group_by(r.key)).all()
        for agent, value in found:
            seconds[agent] = seconds.get(agent, 0.0) + float(value)
    return seconds


def _analyze(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE history_rollups")


class HistorySums(Store):
    """The reports' sums: closed periods from the rollups, the rest from the rows.

    Read with the fewest round trips (``read_fast``): a report makes nine of these reads at
    once, and a transaction around each would add nothing (each statement sees the latest
    commit either way)."""

    async def queue_sums(self, query: HistoryQuery) -> list[SumsRow]:
        """Per queue and period, the sums of the callbacks that entered the queue in the range.

        Keys of ``sums``: ``offered``, ``answered``, ``answered_within_target``,
        ``abandoned``, ``short_abandoned``, ``wait_seconds``, ``handled``,
        ``talk_seconds``, ``hold_seconds``, ``wrap_up_seconds``, ``scheduled_kept``,
        ``scheduled_missed``, ``browser``, ``phone``, ``phone_inbound`` (by channel: the calls
        offered), ``closed`` (calls to the queue while it was closed: not offered). A query a
        part (:func:`read_parts`).
        """
        return await self._db.read_fast(rolled_queue_sums, query)

    async def agent_contact_sums(self, query: HistoryQuery) -> list[SumsRow]:
        """Per agent and period of the answer: ``answered``, ``handled``, ``talk_seconds``,
        ``hold_seconds``, ``wrap_up_seconds`` of the callbacks they answered in the range."""
        return await self._db.read_fast(rolled_agent_contact_sums, query)

    async def agent_offer_sums(self, query: HistoryQuery) -> list[SumsRow]:
        """Per agent and period of the offer: ``offers``, ``accepted``, ``declined``,
        ``missed`` (timed out) and ``withdrawn`` of the offers made in the range."""
        return await self._db.read_fast(rolled_agent_offer_sums, query)

    async def dispositions(self, query: HistoryQuery) -> list[tuple[str, str, int]]:
        """``(queue, disposition, count)`` of the callbacks that entered in the range, most first."""
        return await self._db.read_fast(rolled_dispositions, query)

    async def staffed_seconds(self, query: HistoryQuery, stop: float) -> dict[str, float]:
        """Seconds each agent was staffed in the range (up to ``stop``), as one period."""
        return await self._db.read_fast(rolled_staffed_seconds, query, stop)

    async def satisfaction_sums(self, query: HistoryQuery) -> list[dict[str, Any]]:
        """Per queue and agent, of the contacts wrapped up in the range: ``contacts``,
        ``summaries`` (given a summary), ``rated``, ``rating_sum``, ``reopened``."""
        return await self._db.read_fast(rolled_satisfaction_sums, query)

    async def roll_up_history(self, settings: RollupSettings, *, now: float) -> list[dict[str, float]]:
        """Roll up the closed periods (``roll_up``, a ``RollupSettings``), one
        transaction a chunk; returns the marks reached."""
        marks = []
        while (mark := await self._db.write(roll_up, settings, now)) is not None:
            marks.append(mark)
        if len(marks) > 1:  # a rebuild: the planner's statistics of an empty table would mislead it
            await self._db.write(_analyze)
        return marks
