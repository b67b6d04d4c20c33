"""Business hours: open or not at a time, the next opening and the slots offered, in a zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from desktop.routing.hours import HoursError, parse_hours, zone

PARIS = ZoneInfo("Europe/Paris")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE = {"weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}}


def at(tz, *parts) -> float:
    return dt.datetime(*parts, tzinfo=tz).timestamp()


def local(tz, epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz).strftime("%a %Y-%m-%d %H:%M")


def test_office_hours_open_and_closed():
    hours = parse_hours(OFFICE)
    assert hours.is_open(at(PARIS, 2026, 12, 2, 9, 0), PARIS)          # a Wednesday, at opening
    assert hours.is_open(at(PARIS, 2026, 12, 2, 16, 59), PARIS)
    assert not hours.is_open(at(PARIS, 2026, 12, 2, 17, 0), PARIS)     # closing time is closed
    assert not hours.is_open(at(PARIS, 2026, 12, 2, 8, 59), PARIS)
    assert not hours.is_open(at(PARIS, 2026, 12, 5, 12, 0), PARIS)     # Saturday


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another():
    instant = at(ZoneInfo("UTC"), 2026, 12, 2, 8, 30)   # 09:30 in Paris, 16:30 in Shanghai, 03:30 in New York
    hours = parse_hours(OFFICE)
    assert hours.is_open(instant, PARIS) and hours.is_open(instant, SHANGHAI)
    assert not hours.is_open(instant, NEW_YORK)


def test_next_open_after_friday_evening_is_monday_morning():
    hours = parse_hours(OFFICE)
    friday_evening = at(PARIS, 2026, 12, 4, 18, 0)
    assert local(PARIS, hours.next_open(friday_evening, PARIS)) == "Mon 2026-12-07 09:00"
    assert hours.next_open(at(PARIS, 2026, 12, 4, 10, 0), PARIS) == at(PARIS, 2026, 12, 4, 10, 0)
    assert local(PARIS, hours.closes_at(at(PARIS, 2026, 12, 4, 10, 0), PARIS)) == "Fri 2026-12-04 17:00"


def test_across_midnight():
    hours = parse_hours({"weekly": {"fri": [["22:00", "02:00"]]}})
    assert hours.is_open(at(PARIS, 2026, 12, 4, 23, 30), PARIS)     # Friday night
    assert hours.is_open(at(PARIS, 2026, 12, 5, 1, 59), PARIS)      # early Saturday: still Friday's
    assert not hours.is_open(at(PARIS, 2026, 12, 5, 2, 0), PARIS)
    assert not hours.is_open(at(PARIS, 2026, 12, 5, 23, 0), PARIS)  # Saturday night: not open
    assert local(PARIS, hours.closes_at(at(PARIS, 2026, 12, 5, 1, 0), PARIS)) == "Sat 2026-12-05 02:00"


def test_a_night_and_the_next_morning_are_one_opening():
    hours = parse_hours({"weekly": {"mon": [["20:00", "24:00"]], "tue": [["00:00", "06:00"]]}})
    monday_night = at(PARIS, 2026, 11, 30, 21, 0)
    assert local(PARIS, hours.closes_at(monday_night, PARIS)) == "Tue 2026-12-01 06:00"


def test_holidays_and_short_days():
    hours = parse_hours({**OFFICE, "exceptions": [
        {"date": "2026-12-25", "closed": True},
        {"date": "2026-12-24", "hours": [["09:00", "12:00"]]},
        {"date": "2026-12-26", "hours": [["10:00", "14:00"]]},   # a Saturday opened
    ]})
    assert not hours.is_open(at(PARIS, 2026, 12, 25, 10, 0), PARIS)
    assert hours.is_open(at(PARIS, 2026, 12, 24, 11, 0), PARIS)
    assert not hours.is_open(at(PARIS, 2026, 12, 24, 13, 0), PARIS)
    assert hours.is_open(at(PARIS, 2026, 12, 26, 10, 30), PARIS)
    # Christmas Eve afternoon: next is the special Saturday, not Christmas Day.
    assert local(PARIS, hours.next_open(at(PARIS, 2026, 12, 24, 13, 0), PARIS)) == "Sat 2026-12-26 10:00"


def test_daylight_saving_changes_keep_local_hours():
    hours = parse_hours({"weekly": {day: [["08:00", "20:00"]] for day in ("sat", "sun", "mon")}})
    # Spring forward (Paris, 2027-03-28: 02:00 -> 03:00) and fall back (2026-10-25: 03:00 -> 02:00).
    for day in (dt.date(2027, 3, 28), dt.date(2026, 10, 25)):
        opens = at(PARIS, day.year, day.month, day.day, 8, 0)
        assert hours.is_open(opens, PARIS) and not hours.is_open(opens - 1, PARIS)
        closes = hours.closes_at(opens, PARIS)
        assert local(PARIS, closes).endswith("20:00")
        assert closes - opens == 12 * 3600
    # The night across the change is an hour shorter (or longer) than usual.
    night = parse_hours({"weekly": {"sat": [["22:00", "06:00"]]}})
    start = at(PARIS, 2027, 3, 27, 22, 0)
    assert night.closes_at(start + 60, PARIS) - start == 7 * 3600
    start = at(PARIS, 2026, 10, 24, 22, 0)
    assert night.closes_at(start + 60, PARIS) - start == 9 * 3600


def test_an_opening_inside_the_skipped_hour_starts_when_the_clock_resumes():
    hours = parse_hours({"weekly": {"sun": [["02:30", "05:00"]]}})
    sunday = at(PARIS, 2027, 3, 28, 1, 0)
    assert local(PARIS, hours.next_open(sunday, PARIS)) == "Sun 2027-03-28 03:30"


def test_slots_are_inside_hours_on_half_hours_and_never_at_night():
    hours = parse_hours(OFFICE)
    now = at(PARIS, 2026, 12, 4, 16, 7)   # Friday, shortly before closing
    slots = hours.slots(now, PARIS, count=6)
    assert [local(PARIS, s) for s in slots] == [
        "Fri 2026-12-04 16:30", "Mon 2026-12-07 09:00", "Mon 2026-12-07 09:30",
        "Mon 2026-12-07 10:00", "Tue 2026-12-08 09:00", "Tue 2026-12-08 09:30"]
    assert all(hours.is_open(s, PARIS) for s in slots)


def test_slots_in_a_zone_with_a_quarter_hour_offset_stay_on_local_half_hours():
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+05:45
    hours = parse_hours(OFFICE)
    slots = hours.slots(at(kathmandu, 2026, 12, 2, 9, 50), kathmandu, count=2)
    assert [local(kathmandu, s)[-5:] for s in slots] == ["10:30", "11:00"]


def test_always_open():
    hours = parse_hours(None)
    now = at(PARIS, 2026, 12, 2, 3, 0)
    assert hours.is_open(now, PARIS) and hours.next_open(now, PARIS) == now
    assert hours.to_json() is None
    assert len(hours.slots(now, PARIS, count=3)) == 3


def test_never_open_has_no_next_opening():
    hours = parse_hours({"weekly": {}, "exceptions": []})
    assert hours.next_open(at(PARIS, 2026, 12, 2, 10, 0), PARIS) is None
    assert hours.slots(at(PARIS, 2026, 12, 2, 10, 0), PARIS) == []


def test_round_trip():
    data = {"weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["22:00", "02:00"]]},
            "exceptions": [{"date": "2026-12-24", "hours": [["09:00", "12:00"]]},
                           {"date": "2026-12-25", "closed": True}]}
    assert parse_hours(data).to_json() == data


@pytest.mark.parametrize("data, says", [
    ({"weekly": {"mon": [["17:00", "17:00"]]}}, "same time"),
    ({"weekly": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "overlap"),
    ({"weekly": {"mon": [["22:00", "02:00"], ["23:00", "23:30"]]}}, "overlap"),
    ({"weekly": {"mon": [["22:00", "08:00"]], "tue": [["07:00", "12:00"]]}}, "next day"),
    ({"weekly": {"funday": [["09:00", "17:00"]]}}, "unknown weekday"),
    ({"weekly": {"mon": [["9:00", "17:00"]]}}, "not a time"),
    ({"weekly": {"mon": [["09:00", "25:00"]]}}, "not a time of day"),
    ({"weekly": {"mon": [["09:60", "17:00"]]}}, "not a time of day"),
    ({"exceptions": [{"date": "2026-13-01", "closed": True}]}, "YYYY-MM-DD"),
    ({"exceptions": [{"date": "2026-12-25", "closed": True}, {"date": "2026-12-25", "closed": True}]}, "twice"),
    ({"hours": []}, "unknown field"),
    ([["09:00", "17:00"]], "must be an object"),
])
def test_bad_hours_are_refused_with_a_reason(data, says):
    with pytest.raises(HoursError, match=says):
        parse_hours(data)


def test_unknown_time_zone():
    with pytest.raises(HoursError, match="unknown time zone"):
        zone("Mars/Olympus_Mons")
    assert zone("Asia/Shanghai") == SHANGHAI
