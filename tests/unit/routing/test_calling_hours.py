"""Calling hours in the called number's local time (desktop/routing/calling.py): zones from
phonenumbers, the intersection where a number spans several, daylight saving, queue hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from desktop.routing.calling import (
    calling_hours,
    earliest_common,
    next_call_time,
    parse_window,
    when_to_call,
)
from desktop.routing.hours import HoursError, parse_hours

NEW_YORK = "+12125550123"       # one zone
PARIS = "+33612345678"          # a French mobile: one zone
RUSSIAN_MOBILE = "+79123456789"  # Kaliningrad-ish to Kamchatka: many zones
US_TOLL_FREE = "+18005550123"   # the whole of +1, Guam to Samoa
UNKNOWN = "+15555550123"        # a valid-looking +1 number phonenumbers has no zone for


def at(text: str, zone: str = "UTC") -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def local(epoch: float, zone: str) -> str:
    return dt.datetime.fromtimestamp(epoch, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def test_the_window_is_read_on_the_numbers_own_clock():
    hours = calling_hours(NEW_YORK, "08:00-21:00", centre_zone="Europe/London", at=at("2026-12-02 12:00"))
    assert hours.zones == ("America/New_York",) and not hours.fallback
    # Noon in London is 07:00 in New York: not yet; 13:00 UTC is 08:00 there.
    assert not hours.allows(at("2026-12-02 12:59"))
    assert hours.allows(at("2026-12-02 13:00"))
    assert next_call_time(hours, at("2026-12-02 12:00")) == at("2026-12-02 08:00", "America/New_York")
    # 21:00 is the end: a request at 21:30 there waits for the next morning.
    late = at("2026-12-02 21:30", "America/New_York")
    assert local(next_call_time(hours, late), "America/New_York") == "2026-12-03 08:00"


def test_a_number_spanning_zones_gets_the_intersection():
    hours = calling_hours(RUSSIAN_MOBILE, "08:00-21:00", centre_zone="Europe/London", at=at("2026-12-02 00:00"))
    assert "Europe/Moscow" in hours.zones and "Asia/Kamchatka" in hours.zones and not hours.fallback
    first = next_call_time(hours, at("2026-12-02 00:00"))
    # 06:00 UTC is 08:00 in Bucharest (UTC+2, the westernmost listed) and 18:00 in Kamchatka (UTC+12).
    assert first == at("2026-12-02 06:00")
    assert all(8 <= dt.datetime.fromtimestamp(first, ZoneInfo(z)).hour < 21 for z in hours.zones)
    # It closes when the easternmost zone reaches 21:00: 09:00 UTC.
    assert hours.allows(at("2026-12-02 08:59")) and not hours.allows(at("2026-12-02 09:00"))


def test_zones_that_never_agree_fall_back_to_the_centres_zone():
    # The +1 toll-free range spans Guam (UTC+10) to Samoa (UTC-11): a 09:00-17:00 window never
    # holds everywhere at once, so the centre's clock decides (and says so).
    hours = calling_hours(US_TOLL_FREE, "09:00-17:00", centre_zone="America/Chicago", at=at("2026-12-02 00:00"))
    assert hours.fallback and hours.zones == ("America/Chicago",)
    # A wide window does meet: from 08:00 in Guam (22:00 UTC) to 21:00 in St John's (00:30 UTC).
    wide = calling_hours(US_TOLL_FREE, "08:00-21:00", centre_zone="America/Chicago", at=at("2026-12-02 00:00"))
    assert not wide.fallback and len(wide.zones) > 30
    when = next_call_time(wide, at("2026-12-02 01:00"))
    assert when == at("2026-12-02 22:00") and local(when, "Pacific/Guam") == "2026-12-03 08:00"
    assert wide.allows(at("2026-12-03 00:29")) and not wide.allows(at("2026-12-03 00:30"))


def test_a_number_without_a_known_zone_uses_the_centres():
    hours = calling_hours(UNKNOWN, "08:00-21:00", centre_zone="Asia/Shanghai", at=at("2026-12-02 00:00"))
    assert hours.fallback and hours.zones == ("Asia/Shanghai",)


def test_daylight_saving_moves_the_window_with_the_local_clock():
    hours = calling_hours(PARIS, "08:00-21:00", centre_zone="UTC", at=at("2026-03-28 00:00"))
    # Saturday before the change: 08:00 in Paris is 07:00 UTC; Sunday after it, 06:00 UTC.
    assert next_call_time(hours, at("2026-03-28 00:00")) == at("2026-03-28 07:00")
    assert next_call_time(hours, at("2026-03-29 00:00")) == at("2026-03-29 06:00")
    # And back in the autumn (25 October 2026): 08:00 is 07:00 UTC again.
    assert next_call_time(hours, at("2026-10-25 00:00")) == at("2026-10-25 07:00")


def test_the_queue_must_be_open_too():
    hours = calling_hours(NEW_YORK, "08:00-21:00", centre_zone="Europe/London", at=at("2026-12-04 00:00"))
    # A London queue open 09:00-17:00 on weekdays: New York's 08:00 is 13:00 in London, Friday.
    queue = parse_hours({"weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    friday_evening = at("2026-12-04 16:59", "Europe/London")
    assert next_call_time(hours, friday_evening, queue=(queue, ZoneInfo("Europe/London"))) == friday_evening
    # At 17:00 the queue closes; Monday 13:00 London is the first time both hold.
    monday = next_call_time(hours, at("2026-12-04 17:00", "Europe/London"), queue=(queue, ZoneInfo("Europe/London")))
    assert local(monday, "Europe/London") == "2026-12-07 13:00"
    calling, when = when_to_call(NEW_YORK, at("2026-12-04 17:00", "Europe/London"), window="08:00-21:00",
                                 centre_zone="Europe/London", queue_hours=queue)
    assert when == monday and calling.zones == ("America/New_York",)


def test_any_time_and_windows_past_midnight():
    for text in ("", "*", "00:00-24:00"):
        hours = calling_hours(NEW_YORK, text, centre_zone="UTC", at=0.0)
        assert hours.any_time and next_call_time(hours, 12345.0) == 12345.0
    night = calling_hours(NEW_YORK, "22:00-02:00", centre_zone="UTC", at=0.0)
    assert night.allows(at("2026-12-02 23:30", "America/New_York"))
    assert night.allows(at("2026-12-03 01:30", "America/New_York"))
    assert not night.allows(at("2026-12-03 12:00", "America/New_York"))


@pytest.mark.parametrize("bad", ["8-21", "08:00", "08:00-08:00", "25:00-26:00", "08:00-21:60", "nine-five"])
def test_malformed_windows_say_so(bad):
    with pytest.raises(HoursError):
        parse_window(bad)


def test_no_common_time_within_the_horizon_is_none():
    closed = parse_hours({"weekly": {}, "exceptions": []})  # hours with no opening at all
    assert earliest_common([(closed, ZoneInfo("UTC"))], 0.0, horizon=86400.0 * 30) is None
