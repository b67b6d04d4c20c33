"""The contact centre's history: periods in the centre's time zone, and figures from counts.

Pure: records and sums in, figures out; the clock is passed in. The repository
sums what the database can (``desktop.repository.history``); this module
decides which local hour, day or week an instant belongs to, splits agents'
state intervals across those periods, and turns sums into the figures a
supervisor reads.

**Periods.** An instant's local time is ``at + offset(at)`` where the offset
comes from the zone (``zoneinfo``) and changes at daylight-saving transitions.
:class:`PeriodPlan` lists the offsets over a range as a few segments, so the
database can compute the same local time with a ``CASE`` (no time-zone support
needed in SQLite). A period's key is the local "naive epoch" of its start (the
seconds a UTC clock would show at that local wall time): local midnight for a
day, Monday's midnight for a week. In the autumn the repeated hour (01:00 to
02:00 twice) is one period of two hours; in the spring the skipped hour has none.

**Figures** (per queue or agent and period, see :class:`QueueSums`):

- *offered*: callbacks that entered the queue (``enqueued_at`` in the period), by
  channel: *browser*, *phone* (callbacks to the customer's phone), *phone_inbound*
  (callers who phoned in); *closed* apart: callers who phoned while the queue was
  closed (told so and hung up, never queued: on no other figure);
- *answered*; *abandoned*: given up unanswered (cancelled or the page gone) after
  at least the short-abandon threshold; *short abandons* apart, before it;
- *service level*: answered within the queue's target / (answered + abandoned):
  short abandons and callbacks still waiting count on neither side;
- *ASA*: mean seconds from entering the queue to the answer;
- *AHT*: mean of talk + hold + wrap-up over the answered callbacks that ended
  (talk and hold from answer to end, wrap-up from end to the agent's "Done");
- *occupancy*: seconds handling (talk, hold and wrap-up of the callbacks the
  agent answered in the period) / seconds staffed (signed in and not away), from
  the agent's state changes split at period boundaries. Handling counts in the
  period of the answer; staffed time is read from the changes between staffed
  and away or offline only (a few a day), never the several a contact makes;
- scheduled callbacks *kept* (answered no later than the grace after their
  time) and *missed* (answered later, or ended unanswered).

Errors: :class:`ReportRangeError` (a ``ValueError``) for a range that can't be
reported; its message says why and is meant for the person who asked.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "Granularity", "GRANULARITIES", "ReportRangeError", "ReportRange", "PeriodPlan",
    "QueueSums", "AgentSums", "CallbackFacts", "tally", "GAVE_UP_STATES", "StateChange", "StateTime", "parse_range", "comparison_ranges",
    "state_time", "STAFFED_STATES", "HANDLING_STATES", "MAX_RANGE_DAYS", "MAX_HOURLY_DAYS",
]

Granularity = Literal["hour", "day", "week"]
GRANULARITIES: tuple[Granularity, ...] = ("hour", "day", "week")
HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
#: The longest range a report covers (two years, with a leap day).
MAX_RANGE_DAYS = 731
#: Hourly periods only up to this many days (a table of 744 rows a queue).
MAX_HOURLY_DAYS = 31
STAFFED_STATES = frozenset({"available", "reserved", "busy", "wrap_up"})
HANDLING_STATES = frozenset({"busy", "wrap_up"})


class ReportRangeError(ValueError):
    """A report's range or period that can't be used; the message is for the person who asked."""


# -- periods ---------------------------------------------------------------------------------


def _offset(at: float, zone: ZoneInfo) -> int:
    delta = dt.datetime.fromtimestamp(at, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _transitions(start: float, end: float, zone: ZoneInfo) -> list[tuple[float, int]]:
    """The zone's offsets over ``[start, end)``: ``[(from, offset)]``, the first from ``start``.

    Steps a day at a time and bisects to the second where the offset changes
    (zones change at most a few times a year, never twice in a day).
    """
    segments = [(start, _offset(start, zone))]
    t = start
    while t < end:
        step = min(t + DAY, end)
        offset = _offset(step, zone)
        if offset != segments[-1][1]:
            low, high = t, step  # the change is in (low, high]
            while high - low > 1:
                middle = math.floor((low + high) / 2)
                if _offset(middle, zone) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            segments.append((float(high), offset))
        t = step
    return segments


@dataclasses.dataclass(frozen=True, slots=True)
class PeriodPlan:
    """How instants in ``[start, end)`` map to local periods (see the module's docstring).

    ``segments`` are ``(from, offset)`` pairs: from that instant (epoch s) on,
    local time is ``at + offset``. The database is given the same segments.
    """

    start: float
    end: float
    granularity: Granularity
    segments: tuple[tuple[float, int], ...]
    _starts: tuple[float, ...] = dataclasses.field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(start for start, _ in self.segments))

    @classmethod
    def make(cls, start: float, end: float, granularity: Granularity, zone: ZoneInfo) -> PeriodPlan:
        if granularity not in GRANULARITIES:
            raise ReportRangeError(f"The period must be one of {', '.join(GRANULARITIES)}, not {granularity!r}.")
        return cls(start, end, granularity, tuple(_transitions(start, end, zone)))

    def offset(self, at: float) -> int:
        if len(self._starts) == 1:
            return self.segments[0][1]
        index = bisect.bisect_right(self._starts, at) - 1
        return self.segments[max(index, 0)][1]

    def key(self, at: float) -> int:
        """The local naive epoch of the start of ``at``'s period (what the database computes)."""
        return period_key(at + self.offset(at), self.granularity)

    def boundaries(self) -> list[float]:
        """Every instant in ``(start, end)`` where the period changes, in order."""
        starts = self._starts[1:]
        found: list[float] = []
        t = self.start
        key = self.key(t)
        while True:
            # The next local period start, back in UTC at the current offset; but an
            # offset change before it may change the period (or not) first.
            candidate = next_period_start(key, self.granularity) - self.offset(t)
            upcoming = starts[bisect.bisect_right(starts, t):]
            t = min(candidate, upcoming[0]) if upcoming else candidate
            if t >= self.end:
                return found
            new = self.key(t)
            if new != key:
                found.append(t)
                key = new

    def keys(self) -> list[int]:
        """Every period key the range touches, in order."""
        return [self.key(t) for t in (self.start, *self.boundaries())]


def period_key(local: float, granularity: Granularity) -> int:
    """The start of the period holding the local naive epoch ``local``; Monday starts a week."""
    if granularity == "hour":
        return math.floor(local / HOUR) * HOUR
    days = math.floor(local / DAY)
    if granularity == "day":
        return days * DAY
    # 1970-01-01 was a Thursday: day 4 (1970-01-05) was the first Monday.
    return (math.floor((days - 4) / 7) * 7 + 4) * DAY


def next_period_start(key: int, granularity: Granularity) -> int:
    return key + {"hour": HOUR, "day": DAY, "week": WEEK}[granularity]


def period_label(key: int, granularity: Granularity) -> str:
    """``2026-11-30``, ``2026-11-30 14:00``, or ``2026-W49`` (ISO week)."""
    moment = dt.datetime.fromtimestamp(key, dt.UTC)
    if granularity == "hour":
        return moment.strftime("%Y-%m-%d %H:00")
    if granularity == "day":
        return moment.strftime("%Y-%m-%d")
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


# -- the range a person asks for ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ReportRange:
    """Local days ``first`` to ``last`` (inclusive) in ``zone``, as ``[start, end)`` epoch seconds."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo
    start: float
    end: float

    @classmethod
    def of_days(cls, first: dt.date, last: dt.date, zone: ZoneInfo) -> ReportRange:
        return cls(first, last, zone, _midnight(first, zone), _midnight(last + dt.timedelta(days=1), zone))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def shifted(self, *, days: int = 0, months: int = 0) -> ReportRange:
        """The same local days ``days`` or ``months`` earlier (the 31st becomes the month's last day)."""
        if months:
            return ReportRange.of_days(_months_back(self.first, months), _months_back(self.last, months), self.zone)
        delta = dt.timedelta(days=days)
        return ReportRange.of_days(self.first - delta, self.last - delta, self.zone)


def _midnight(day: dt.date, zone: ZoneInfo) -> float:
    return dt.datetime.combine(day, dt.time(), zone).timestamp()


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def parse_range(first: str | None, last: str | None, granularity: str | None, *, zone: ZoneInfo,
                now: float) -> tuple[ReportRange, Granularity]:
    """Check what a person asked for (``YYYY-MM-DD`` days, inclusive) and return the range.

    Missing days mean the last 7 full days before today (local); a missing
    period means days. Raises :class:`ReportRangeError`, saying what is wrong,
    for a malformed day, a range the wrong way round, one in the future (after
    today), one over :data:`MAX_RANGE_DAYS` days, or hours over more than
    :data:`MAX_HOURLY_DAYS` days.
    """
    today = dt.datetime.fromtimestamp(now, zone).date()
    period = granularity or "day"
    if period not in GRANULARITIES:
        raise ReportRangeError(f"period must be one of {', '.join(GRANULARITIES)}, not {period!r}.")
    start = _date("from", first) if first else None
    end = _date("to", last) if last else None
    if start is None and end is None:
        start, end = today - dt.timedelta(days=7), today - dt.timedelta(days=1)
    elif start is None:
        start = end - dt.timedelta(days=6)  # type: ignore[operator]
    elif end is None:
        end = min(start + dt.timedelta(days=6), today)
    assert start is not None and end is not None
    if end < start:
        raise ReportRangeError(f"The range is the wrong way round: {start.isoformat()} is after {end.isoformat()}.")
    if end > today:
        raise ReportRangeError(f"The range ends in the future ({end.isoformat()}); today is {today.isoformat()}.")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise ReportRangeError(f"The range is {days} days long; a report covers at most 2 years ({MAX_RANGE_DAYS} days).")
    if period == "hour" and days > MAX_HOURLY_DAYS:
        raise ReportRangeError(f"Hourly figures cover at most {MAX_HOURLY_DAYS} days; this range has {days}. "
                               "Choose days or weeks.")
    return ReportRange.of_days(start, end, zone), period  # type: ignore[return-value]


def _date(name: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ReportRangeError(f"{name} must be a day as YYYY-MM-DD, not {text[:40]!r}.") from None


def comparison_ranges(current: ReportRange) -> dict[str, ReportRange]:
    """The ranges a week, a month and a year before ``current`` (the weekly review's comparison)."""
    return {"previous_week": current.shifted(days=7), "previous_month": current.shifted(months=1),
            "previous_year": current.shifted(months=12)}


# -- sums and figures ----------------------------------------------------------------------------


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclasses.dataclass(slots=True)
class QueueSums:
    """What the database adds up for one queue (or agent) and period; figures follow from it.

    Seconds are sums over the callbacks counted in ``answered``/``handled``.
    """

    offered: int = 0
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    wait_seconds: float = 0.0
    handled: int = 0
    talk_seconds: float = 0.0  # answer to end, hold included
    hold_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    scheduled_kept: int = 0
    scheduled_missed: int = 0
    browser: int = 0
    phone: int = 0
    phone_inbound: int = 0
    closed: int = 0

    def add(self, other: QueueSums) -> QueueSums:
        for name in _QUEUE_SUM_NAMES:  # a report adds thousands: fields() each time was a third of it
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def service_level(self) -> float | None:
        return _ratio(self.answered_within_target, self.answered + self.abandoned)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered - self.short_abandoned)

    @property
    def average_speed_of_answer(self) -> float | None:
        return _ratio(self.wait_seconds, self.answered)

    @property
    def average_handle_time(self) -> float | None:
        return _ratio(self.talk_seconds + self.wrap_up_seconds, self.handled)

    def figures(self) -> dict[str, float | int | None]:
        handled = self.handled
        return {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned, "answered_within_target": self.answered_within_target,
            "service_level": self.service_level, "abandon_rate": self.abandon_rate,
            "average_speed_of_answer": self.average_speed_of_answer,
            "average_handle_time": self.average_handle_time,
            "average_talk": _ratio(self.talk_seconds - self.hold_seconds, handled),
            "average_hold": _ratio(self.hold_seconds, handled),
            "average_wrap_up": _ratio(self.wrap_up_seconds, handled),
            "scheduled_kept": self.scheduled_kept, "scheduled_missed": self.scheduled_missed,
            "browser": self.browser, "phone": self.phone, "phone_inbound": self.phone_inbound,
            "closed": self.closed,
        }


_QUEUE_SUM_NAMES = tuple(field.name for field in dataclasses.fields(QueueSums))


@dataclasses.dataclass(slots=True)
class AgentSums:
    """One agent's offers and contacts in a period (the database's sums) and their time."""

    offers: int = 0
    accepted: int = 0
    declined: int = 0
    missed: int = 0  # timed out
    withdrawn: int = 0
    contacts: QueueSums = dataclasses.field(default_factory=QueueSums)
    time: StateTime = dataclasses.field(default_factory=lambda: StateTime())

    def add(self, other: AgentSums) -> AgentSums:
        for name in ("offers", "accepted", "declined", "missed", "withdrawn"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.contacts.add(other.contacts)
        self.time.add(other.time)
        return self

    @property
    def handling(self) -> float:
        """Seconds handling contacts: talk, hold and wrap-up of the callbacks answered."""
        return self.contacts.talk_seconds + self.contacts.wrap_up_seconds

    def figures(self) -> dict[str, float | int | None]:
        contacts = self.contacts
        return {
            "offers": self.offers, "accepted": self.accepted, "declined": self.declined,
            "missed": self.missed, "withdrawn": self.withdrawn,
            "answered": contacts.answered, "handled": contacts.handled,
            "average_handle_time": contacts.average_handle_time,
            "average_talk": _ratio(contacts.talk_seconds - contacts.hold_seconds, contacts.handled),
            "average_hold": _ratio(contacts.hold_seconds, contacts.handled),
            "average_wrap_up": _ratio(contacts.wrap_up_seconds, contacts.handled),
            "staffed_seconds": round(self.time.staffed, 1), "handling_seconds": round(self.handling, 1),
            "away_seconds": round(self.time.away, 1), "occupancy": _ratio(self.handling, self.time.staffed),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackFacts:
    """What a callback's row says, for :func:`tally` (the database sums the same way)."""

    queue: str
    channel: str
    state: str
    enqueued_at: float | None
    answered_at: float | None = None
    ended_at: float | None = None
    wrapped_up_at: float | None = None
    held_seconds: float = 0.0
    scheduled_at: float | None = None
    agent_id: str | None = None


GAVE_UP_STATES = frozenset({"abandoned", "cancelled"})
CLOSED_STATE = "closed"  # a caller who phoned while the queue was closed (never queued)


def tally(callbacks: Iterable[CallbackFacts], plan: PeriodPlan, *, targets: Mapping[str, float],
          short_abandon: float, schedule_grace: float) -> dict[tuple[str, int], QueueSums]:
    """Sums per (queue, period of entering the queue) of the callbacks that entered in the plan's range.

    The reference for the database's query (``desktop.repository.history``),
    which must agree with it; ``targets`` are the queues' service-level targets
    in seconds (a queue without one has no answer within target).
    """
    result: dict[tuple[str, int], QueueSums] = {}
    for c in callbacks:
        if c.enqueued_at is None or not plan.start <= c.enqueued_at < plan.end:
            continue
        sums = result.setdefault((c.queue, plan.key(c.enqueued_at)), QueueSums())
        if c.state == CLOSED_STATE:  # turned away: counted apart, on no other figure
            sums.closed += 1
            continue
        sums.offered += 1
        sums.browser += c.channel == "browser"
        sums.phone += c.channel == "phone"
        sums.phone_inbound += c.channel == "phone_inbound"
        if c.answered_at is not None:
            wait = c.answered_at - c.enqueued_at
            sums.answered += 1
            sums.wait_seconds += wait
            target = targets.get(c.queue)
            sums.answered_within_target += target is not None and wait <= target
            if c.ended_at is not None:
                sums.handled += 1
                sums.talk_seconds += c.ended_at - c.answered_at
                sums.hold_seconds += c.held_seconds
                if c.wrapped_up_at is not None:
                    sums.wrap_up_seconds += max(c.wrapped_up_at - c.ended_at, 0.0)
        elif c.state in GAVE_UP_STATES and c.ended_at is not None:
            if c.ended_at - c.enqueued_at < short_abandon:
                sums.short_abandoned += 1
            else:
                sums.abandoned += 1
        if c.scheduled_at is not None:
            if c.answered_at is not None:
                if c.answered_at <= c.scheduled_at + schedule_grace:
                    sums.scheduled_kept += 1
                else:
                    sums.scheduled_missed += 1
            elif c.state in GAVE_UP_STATES or c.state == "completed":
                sums.scheduled_missed += 1
    return result


# -- agents' time --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class StateChange:
    agent_id: str
    state: str
    at: float


@dataclasses.dataclass(slots=True)
class StateTime:
    """Seconds an agent spent staffed, handling (a part of staffed) and away."""

    staffed: float = 0.0
    handling: float = 0.0
    away: float = 0.0

    def add(self, other: StateTime) -> StateTime:
        self.staffed += other.staffed
        self.handling += other.handling
        self.away += other.away
        return self

    @property
    def occupancy(self) -> float | None:
        return _ratio(self.handling, self.staffed)


def _credit(time: StateTime, state: str, seconds: float) -> None:
    if state in STAFFED_STATES:
        time.staffed += seconds
        if state in HANDLING_STATES:
            time.handling += seconds
    elif state == "away":
        time.away += seconds


def state_time(changes: Iterable[StateChange], plan: PeriodPlan, *, now: float) -> dict[tuple[str, int], StateTime]:
    """Each agent's time per period of ``plan``, from their state changes.

    Fed every state, it also counts handling (busy, wrap-up); the reports feed
    only presence changes (staffed or not, ``Repository.agent_presence``) and
    take handling from the callbacks.

    ``changes`` must hold, per agent, the last change before ``plan.start``
    (the state they were in) and every change up to ``plan.end``, each agent's
    in time order. A state lasts until the agent's next change, or until
    ``plan.end`` (``now`` if sooner: the current state has lasted until now).
    Intervals are split where periods change, so a shift across midnight or a
    daylight-saving change counts in the right day with its real length.
    """
    by_agent: dict[str, list[StateChange]] = {}
    for change in changes:
        by_agent.setdefault(change.agent_id, []).append(change)
    boundaries = plan.boundaries()
    stop = min(plan.end, now)
    result: dict[tuple[str, int], StateTime] = {}
    for agent_id, own in by_agent.items():
        for change, following in zip(own, [*own[1:], None]):
            if change.state not in STAFFED_STATES and change.state != "away":
                continue  # offline: no time to count
            begin = max(change.at, plan.start)
            finish = min(following.at if following is not None else stop, stop)
            for piece_start, piece_end in _split(begin, finish, boundaries):
                key = plan.key(piece_start)
                _credit(result.setdefault((agent_id, key), StateTime()), change.state, piece_end - piece_start)
    return result


def _split(begin: float, finish: float, boundaries: Sequence[float]) -> Iterator[tuple[float, float]]:
    if finish <= begin:
        return
    index = bisect.bisect_right(boundaries, begin)
    while index < len(boundaries) and boundaries[index] < finish:
        yield begin, boundaries[index]
        begin = boundaries[index]
        index += 1
    yield begin, finish


def total_time(times: Mapping[tuple[str, int], StateTime], agent_id: str) -> StateTime:
    total = StateTime()
    for (agent, _), time in times.items():
        if agent == agent_id:
            total.add(time)
    return total
