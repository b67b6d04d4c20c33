"""Calling hours: when a customer's phone may be rung, in the called number's local time.

A window such as ``08:00-21:00`` (every day) is read on the clocks where the number is:
its time zones come from ``phonenumbers``' timezone module (``+1 212`` is New York, a
French mobile Paris). A number spanning several zones (a Russian or Australian mobile)
may be rung only when the window holds in *every* one of them: the intersection. Where
the zones are unknown (``Etc/Unknown``), or so far apart that their windows never meet
in a week (a US toll-free number spans Guam to Samoa), the window is read in the
contact centre's own zone instead (:attr:`CallingHours.fallback` says so).

:func:`next_call_time` is the one question the desk asks: the earliest moment at or after
``at`` when the phone may ring *and* the queue is open (its business hours, ``hours.py``);
``at`` itself when both hold. Pure: every function takes the time (epoch seconds).

Errors: :class:`~desktop.routing.hours.HoursError` (a ``ValueError``) for a malformed window.
"""

from __future__ import annotations

import dataclasses
import functools
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

from desktop.routing.hours import WEEKDAYS, Hours, HoursError, parse_hours, zone

__all__ = ["ANY_TIME", "CallingHours", "DEFAULT_WINDOW", "calling_hours", "earliest_common",
           "next_call_time", "parse_window", "when_to_call"]

DEFAULT_WINDOW = "08:00-21:00"
ANY_TIME = ("", "*", "00:00-24:00")
AGREE_DAYS = 8         # zones whose windows meet nowhere in this many days never will
SEARCH_DAYS = 60       # how far ahead a call time is looked for (a queue closed for a holiday)
MAX_STEPS = 500        # bound on the alternation between constraints (each step moves forward)

Constraint = tuple[Hours, ZoneInfo]


@dataclasses.dataclass(frozen=True, slots=True)
class CallingHours:
    """The window a number may be rung in and the zones it is read in."""

    window: str                 # "HH:MM-HH:MM", or "" for any time
    zones: tuple[str, ...]      # IANA names; the window must hold in each
    fallback: bool = False      # the zones are the centre's: the number's were unknown or never agree

    @property
    def any_time(self) -> bool:
        return not self.window

    def constraints(self) -> list[Constraint]:
        if self.any_time:
            return []
        hours = parse_window(self.window)
        return [(hours, zone(name)) for name in self.zones]

    def allows(self, at: float) -> bool:
        """Whether the phone may ring at ``at``."""
        return all(hours.is_open(at, tz) for hours, tz in self.constraints())

    def public(self) -> dict[str, object]:
        """What the widget and the timeline are told."""
        return {"window": self.window, "zones": list(self.zones), "fallback": self.fallback}


def parse_window(text: str) -> Hours:
    """``HH:MM-HH:MM`` (every day; an end before the start runs past midnight) as :class:`Hours`;
    ``""``, ``*`` or ``00:00-24:00`` as always. Raises HoursError saying what is wrong."""
    return _parse_window(text.strip())


@functools.lru_cache(maxsize=64)
def _parse_window(text: str) -> Hours:
    if text in ANY_TIME:
        return parse_hours(None)
    start, dash, end = text.partition("-")
    if not dash:
        raise HoursError(f"calling hours {text!r} are not like 08:00-21:00")
    pair = [start.strip(), end.strip()]
    return parse_hours({"weekly": {day: [pair] for day in WEEKDAYS}})


def _window_text(text: str) -> str:
    """The window as stored: "" for any time (checked)."""
    text = (text or "").strip()
    parse_window(text)
    return "" if text in ANY_TIME else text


def calling_hours(e164: str, window: str, *, centre_zone: str, at: float) -> CallingHours:
    """The calling hours of ``e164`` (a number already parsed to E.164) under ``window``.

    ``at`` is when the question is asked: zones whose windows never meet in the
    :data:`AGREE_DAYS` from then fall back to ``centre_zone``.
    """
    window = _window_text(window)
    zones = _zones_of(e164)
    if not zones:
        return CallingHours(window, (centre_zone,), fallback=True)
    hours = CallingHours(window, zones)
    if len(zones) > 1 and not hours.any_time and \
            earliest_common(hours.constraints(), at, horizon=AGREE_DAYS * 86400.0) is None:
        return CallingHours(window, (centre_zone,), fallback=True)
    return hours


@functools.lru_cache(maxsize=4096)
def _zones_of(e164: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    names = number_zones.time_zones_for_number(number)
    known = []
    for name in names:
        if name == number_zones.UNKNOWN_TIMEZONE:
            continue
        try:
            ZoneInfo(name)
        except (ValueError, KeyError, OSError):  # a name this machine's tz database lacks
            continue
        known.append(name)
    return tuple(known)


def earliest_common(constraints: list[Constraint], at: float, *, horizon: float) -> float | None:
    """The first moment at or after ``at`` when every (hours, zone) is open; None if none
    within ``horizon`` seconds. Each step jumps to the next opening of a closed one, so
    it moves only forward and ends where all agree."""
    moment = at
    for _ in range(MAX_STEPS):
        moved = False
        for hours, tz in constraints:
            opens = hours.next_open(moment, tz)
            if opens is None or opens > at + horizon:
                return None
            if opens > moment:
                moment, moved = opens, True
        if not moved:
            return moment
    return None


def next_call_time(calling: CallingHours, at: float, *, queue: Constraint | None = None,
                   horizon: float = SEARCH_DAYS * 86400.0) -> float | None:
    """When the phone may be rung at or after ``at``, inside ``queue``'s hours too if given
    (``at`` itself when it may be now); None when no such time comes within ``horizon``."""
    constraints = calling.constraints() + ([queue] if queue is not None else [])
    return earliest_common(constraints, at, horizon=horizon)


def when_to_call(e164: str, at: float, *, window: str, centre_zone: str,
                 queue_hours: Hours | None = None) -> tuple[CallingHours, float | None]:
    """(the number's calling hours, the first time at or after ``at`` it may be rung while
    the queue is open: ``at`` itself when now will do, None when no such time is near)."""
    calling = calling_hours(e164, window, centre_zone=centre_zone, at=at)
    queue = (queue_hours, zone(centre_zone)) if queue_hours is not None and not queue_hours.always else None
    return calling, next_call_time(calling, at, queue=queue)
