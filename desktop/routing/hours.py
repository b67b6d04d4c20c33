"""Business hours: when a queue takes calls, in the contact centre's time zone.

A queue's hours are a weekly pattern and dated exceptions (holidays, short days)::

    {"weekly": {"mon": [["09:00", "17:00"]], "fri": [["09:00", "12:00"], ["13:00", "17:00"]],
                "sat": [["22:00", "02:00"]]},
     "exceptions": [{"date": "2026-12-25", "closed": true},
                    {"date": "2026-12-24", "hours": [["09:00", "12:00"]]}]}

An interval whose end is earlier than its start runs past midnight into the next day (as
Amazon Connect's hours of operation do); ``24:00`` is the end of the day. An exception
replaces the weekly hours of its date (a ``closed`` one, or one with no hours, closes the
whole date; a night that began the day before still ends as planned). No hours at all
(``None`` or ``{}``) means always open.

Times are local wall-clock times in an IANA zone read with :mod:`zoneinfo`: a day across a
daylight-saving change is 23 or 25 hours long, and an opening inside the skipped hour starts
when the clock resumes. Pure: every function takes ``now`` (epoch seconds).

Errors: :class:`HoursError` (a ``ValueError``) says what is wrong with the hours given.
"""

from __future__ import annotations

import dataclasses
import itertools
import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["WEEKDAYS", "Hours", "HoursError", "local_text", "opening", "parse_hours", "zone"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS = 6        # a day's openings
MAX_EXCEPTIONS = 400     # dated exceptions a queue keeps
SEARCH_DAYS = 400        # how far ahead the next opening is looked for

Interval = tuple[int, int]  # minutes after local midnight: start, end (end <= start: past midnight)


class HoursError(ValueError):
    """The hours are not well formed; the message says which part and why."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`HoursError` for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris") from None


@dataclasses.dataclass(frozen=True, slots=True)
class Hours:
    """Parsed, checked hours (see the module docstring); build with :func:`parse_hours`."""

    weekly: tuple[tuple[Interval, ...], ...]  # seven days, Monday first
    exceptions: Mapping[dt.date, tuple[Interval, ...]]
    always: bool = False

    def is_open(self, now: float, tz: ZoneInfo) -> bool:
        """Whether the queue takes calls at ``now``."""
        return self.always or any(start <= now < end for start, end in self._spans(now, tz, days=1))

    def next_open(self, now: float, tz: ZoneInfo) -> float | None:
        """``now`` if open, else when it next opens (epoch seconds); None if never within a year."""
        if self.always:
            return now
        for start, end in self._spans(now, tz, days=SEARCH_DAYS):
            if end > now:
                return max(start, now)
        return None

    def closes_at(self, now: float, tz: ZoneInfo) -> float | None:
        """While open, when this opening ends (None: always open or closed now)."""
        if self.always:
            return None
        for start, end in self._spans(now, tz, days=SEARCH_DAYS):
            if start <= now < end:
                return end
            if start > now:
                return None
        return None

    def slots(self, now: float, tz: ZoneInfo, *, count: int = 6, step: int = 30, lead: float = 15 * 60,
              per_day: int = 3) -> list[float]:
        """The next ``count`` times to offer a scheduled call: local times on ``step``-minute
        marks, at least ``lead`` seconds from ``now``, inside the hours (before closing), at
        most ``per_day`` on one local date so the offer reaches past today."""
        earliest = now + lead
        found: list[float] = []
        taken: dict[dt.date, int] = {}
        spans = [(earliest, earliest + SEARCH_DAYS * 86400.0)] if self.always else \
            self._spans(earliest, tz, days=SEARCH_DAYS)
        for start, end in spans:
            at = _round_up_local(max(start, earliest), tz, step)
            while at < end and len(found) < count:
                day = dt.datetime.fromtimestamp(at, tz).date()
                if taken.get(day, 0) < per_day:
                    taken[day] = taken.get(day, 0) + 1
                    found.append(at)
                    at = _round_up_local(at + step * 60, tz, step)
                else:  # this date is full: on to the next date's first mark
                    at = _round_up_local(_local_midnight(day + dt.timedelta(days=1), tz), tz, step)
            if len(found) >= count:
                break
        return found

    def _spans(self, now: float, tz: ZoneInfo, *, days: int) -> Iterator[tuple[float, float]]:
        """Open spans (epoch start, end) from the day before ``now``'s date onwards, in order,
        touching ones joined (a night shift meeting the next morning's is one span)."""
        first = dt.datetime.fromtimestamp(now, tz).date() - dt.timedelta(days=1)
        pending: tuple[float, float] | None = None
        for offset in range(days + 2):
            date = first + dt.timedelta(days=offset)
            for start, end in self._day(date):
                span = (_at(date, start, tz), _at(date + dt.timedelta(days=end <= start), end, tz))
                if pending is not None and span[0] <= pending[1]:
                    pending = (pending[0], max(pending[1], span[1]))
                    continue
                if pending is not None:
                    yield pending
                pending = span
        if pending is not None:
            yield pending

    def _day(self, date: dt.date) -> tuple[Interval, ...]:
        found = self.exceptions.get(date)
        return found if found is not None else self.weekly[date.weekday()]

    def to_json(self) -> dict[str, Any] | None:
        """The form :func:`parse_hours` reads (None when always open)."""
        if self.always:
            return None
        return {"weekly": {WEEKDAYS[i]: [_pair(iv) for iv in day] for i, day in enumerate(self.weekly) if day},
                "exceptions": [{"date": date.isoformat(), **({"hours": [_pair(iv) for iv in ivs]} if ivs
                                                              else {"closed": True})}
                               for date, ivs in sorted(self.exceptions.items())]}


ALWAYS = Hours(weekly=((),) * 7, exceptions={}, always=True)


def parse_hours(data: Any) -> Hours:
    """Check and parse hours as stored and as the admin API takes them.

    Raises :class:`HoursError` for anything malformed: an unknown weekday, a time that is not
    ``HH:MM``, an empty interval (start == end), intervals of one day that overlap (a night
    running past midnight counts against the next day's first opening too), a date twice.
    """
    if data is None or data == {}:
        return ALWAYS
    if not isinstance(data, Mapping):
        raise HoursError("hours must be an object with 'weekly' and 'exceptions'")
    unknown = set(data) - {"weekly", "exceptions"}
    if unknown:
        raise HoursError(f"unknown field(s) in hours: {', '.join(sorted(unknown))}")
    weekly_in = data.get("weekly") or {}
    if not isinstance(weekly_in, Mapping):
        raise HoursError("weekly must map weekdays (mon..sun) to lists of [start, end]")
    for day in weekly_in:
        if day not in WEEKDAYS:
            raise HoursError(f"unknown weekday {day!r}: use one of {', '.join(WEEKDAYS)}")
    weekly = tuple(_intervals(weekly_in.get(day) or [], day) for day in WEEKDAYS)
    exceptions: dict[dt.date, tuple[Interval, ...]] = {}
    items = data.get("exceptions") or []
    if not isinstance(items, list) or len(items) > MAX_EXCEPTIONS:
        raise HoursError(f"exceptions must be a list of at most {MAX_EXCEPTIONS} dates")
    for item in items:
        if not isinstance(item, Mapping) or set(item) - {"date", "closed", "hours", "note"}:
            raise HoursError("an exception is {date: YYYY-MM-DD, closed: true} or {date, hours: [...]}")
        try:
            date = dt.date.fromisoformat(str(item.get("date")))
        except ValueError:
            raise HoursError(f"exception date {item.get('date')!r} is not YYYY-MM-DD") from None
        if date in exceptions:
            raise HoursError(f"the date {date} is listed twice")
        exceptions[date] = () if item.get("closed") else _intervals(item.get("hours") or [], str(date))
    for index, day in enumerate(weekly):  # a night past midnight must end before the next day opens
        _no_spill(day, weekly[(index + 1) % 7], f"{WEEKDAYS[index]} into {WEEKDAYS[(index + 1) % 7]}")
    return Hours(weekly=weekly, exceptions=exceptions)


def _intervals(raw: Any, where: str) -> tuple[Interval, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_INTERVALS:
        raise HoursError(f"{where}: a list of at most {MAX_INTERVALS} [start, end] pairs")
    intervals = []
    for pair in raw:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise HoursError(f"{where}: {pair!r} is not a [start, end] pair")
        start, end = _minutes(pair[0], where), _minutes(pair[1], where)
        if start == 1440:
            raise HoursError(f"{where}: an opening can't start at 24:00")
        if start == end:
            raise HoursError(f"{where}: {pair[0]}-{pair[1]} opens and closes at the same time")
        intervals.append((start, end))
    intervals.sort()
    for (s1, e1), (s2, _e2) in itertools.pairwise(intervals):
        if e1 <= s1 or s2 < e1:  # one past midnight must be the day's last
            raise HoursError(f"{where}: {_pair((s1, e1))} and the next opening overlap")
    return tuple(intervals)


def _no_spill(day: tuple[Interval, ...], next_day: tuple[Interval, ...], where: str) -> None:
    if day and next_day and day[-1][1] <= day[-1][0] and day[-1][1] > next_day[0][0]:
        raise HoursError(f"{where}: the night's {_pair(day[-1])} overlaps the next day's {_pair(next_day[0])}")


def _minutes(text: Any, where: str) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        raise HoursError(f"{where}: {text!r} is not a time like 09:30")
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(f"{where}: {text!r} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def _pair(interval: Interval) -> list[str]:
    return [f"{m // 60:02d}:{m % 60:02d}" for m in interval]


def _at(date: dt.date, minutes: int, tz: ZoneInfo) -> float:
    """Epoch seconds of a local wall-clock time (24:00 is the next midnight; a time in a
    spring-forward gap is read with the offset before it, i.e. as the moment the clock resumes)."""
    if minutes >= 1440:
        return _local_midnight(date + dt.timedelta(days=1), tz)
    local = dt.datetime.combine(date, dt.time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.timestamp()


def _local_midnight(date: dt.date, tz: ZoneInfo) -> float:
    return dt.datetime.combine(date, dt.time(0, 0), tzinfo=tz).timestamp()


def _round_up_local(at: float, tz: ZoneInfo, step: int) -> float:
    """The first local ``step``-minute mark at or after ``at`` (wall-clock arithmetic: across a
    daylight-saving change the marks stay on the local clock's half hours)."""
    local = dt.datetime.fromtimestamp(at, tz)
    minute_of_day = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    mark = math.ceil(minute_of_day / step - 1e-9) * step
    wall = dt.datetime.combine(local.date(), dt.time(0, 0)) + dt.timedelta(minutes=mark)
    return max(wall.replace(tzinfo=tz, fold=local.fold).timestamp(), at)


def opening(hours: Hours, now: float, tz: ZoneInfo, *, slots: int = 4, per_day: int = 2) -> dict[str, Any]:
    """What a customer is told of a queue's hours at ``now``: ``hours_open``, ``opens_at``
    (None while open or never), ``closes_at`` (while open; None if always) and the next
    ``slots`` times to schedule a call (epoch seconds, ``per_day`` a date at most, so two
    days show); none for an always-open queue, where any time will do."""
    is_open = hours.is_open(now, tz)
    return {"hours_open": is_open, "opens_at": None if is_open else hours.next_open(now, tz),
            "closes_at": hours.closes_at(now, tz) if is_open else None,
            "slots": [] if hours.always else hours.slots(now, tz, count=slots, per_day=per_day)}


def local_text(at: float, tz: ZoneInfo) -> str:
    """``Mon 7 Dec 09:00`` in the zone: for messages; browsers format the epoch themselves."""
    local = dt.datetime.fromtimestamp(at, tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"
