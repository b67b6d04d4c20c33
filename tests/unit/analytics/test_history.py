"""The contact centre's figures on hand-checked examples: service level with short abandons,
ASA, AHT, occupancy across midnight and daylight-saving changes, and the range a person asks for."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from desktop.analytics.history import (
    CallbackFacts,
    PeriodPlan,
    ReportRange,
    ReportRangeError,
    StateChange,
    comparison_ranges,
    parse_range,
    period_key,
    period_label,
    state_time,
    tally,
)
from desktop.analytics.report import cell, table_csv

UTC = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()  # a Monday


def _one_period(facts, *, short=10.0, grace=300.0, targets=None):
    span = ReportRange.of_days(dt.date(2026, 11, 23), dt.date(2026, 11, 23), UTC)
    plan = PeriodPlan.make(span.start, span.end, "day", UTC)
    sums = tally(facts, plan, targets=targets or {"q": 30.0}, short_abandon=short, schedule_grace=grace)
    assert len(sums) == 1
    return next(iter(sums.values()))


def test_service_level_leaves_short_abandons_out_of_both_sides():
    sums = _one_period([
        CallbackFacts("q", "browser", "completed", T0, answered_at=T0 + 10, ended_at=T0 + 100),   # within 30 s
        CallbackFacts("q", "browser", "completed", T0, answered_at=T0 + 40, ended_at=T0 + 100),   # late
        CallbackFacts("q", "phone", "abandoned", T0, ended_at=T0 + 5),                            # short
        CallbackFacts("q", "browser", "cancelled", T0, ended_at=T0 + 60),                         # abandoned
        CallbackFacts("q", "phone", "abandoned", T0, ended_at=T0 + 10),                           # at the threshold: counts
        CallbackFacts("q", "browser", "queued", T0),                                              # still waiting
    ])
    assert (sums.offered, sums.answered, sums.abandoned, sums.short_abandoned) == (6, 2, 2, 1)
    assert sums.service_level == pytest.approx(1 / 4)       # 1 within / (2 answered + 2 abandoned)
    assert sums.abandon_rate == pytest.approx(2 / 5)        # 2 abandoned / (6 offered - 1 short)
    assert (sums.browser, sums.phone) == (4, 2)


def test_average_speed_of_answer_is_the_mean_wait_of_the_answered():
    sums = _one_period([
        CallbackFacts("q", "browser", "completed", T0, answered_at=T0 + 10, ended_at=T0 + 20),
        CallbackFacts("q", "browser", "connected", T0 + 5, answered_at=T0 + 45),
        CallbackFacts("q", "browser", "abandoned", T0, ended_at=T0 + 500),
    ])
    assert sums.average_speed_of_answer == pytest.approx((10 + 40) / 2)


def test_average_handle_time_is_talk_plus_hold_plus_wrap_up():
    sums = _one_period([
        # 300 s from answer to end (60 of them on hold), then 30 s of wrap-up: 330 s.
        CallbackFacts("q", "browser", "completed", T0, answered_at=T0 + 5, ended_at=T0 + 305,
                      wrapped_up_at=T0 + 335, held_seconds=60.0),
        # 200 s, the wrap-up timed out unsaved: 200 s.
        CallbackFacts("q", "phone", "completed", T0, answered_at=T0 + 5, ended_at=T0 + 205),
        # Still connected: not handled yet, no handle time.
        CallbackFacts("q", "phone", "connected", T0, answered_at=T0 + 5),
    ])
    figures = sums.figures()
    assert sums.handled == 2
    assert figures["average_handle_time"] == pytest.approx((330 + 200) / 2)
    assert figures["average_talk"] == pytest.approx((240 + 200) / 2)
    assert figures["average_hold"] == pytest.approx(30)
    assert figures["average_wrap_up"] == pytest.approx(15)


def test_scheduled_callbacks_kept_and_missed():
    at = T0 + 3600
    sums = _one_period([
        CallbackFacts("q", "phone", "completed", at, answered_at=at + 299, ended_at=at + 400, scheduled_at=at),
        CallbackFacts("q", "phone", "completed", at, answered_at=at + 301, ended_at=at + 400, scheduled_at=at),
        CallbackFacts("q", "phone", "abandoned", at, ended_at=at + 900, scheduled_at=at),
        CallbackFacts("q", "phone", "queued", at, scheduled_at=at),  # still waiting: neither
    ])
    assert (sums.scheduled_kept, sums.scheduled_missed) == (1, 2)


def _day(plan, day):
    return period_key(dt.datetime.combine(day, dt.time(), UTC).timestamp(), plan.granularity)


def test_occupancy_splits_a_shift_across_midnight():
    span = ReportRange.of_days(dt.date(2026, 11, 23), dt.date(2026, 11, 24), PARIS)
    plan = PeriodPlan.make(span.start, span.end, "day", PARIS)
    local = lambda day, hour, minute=0: dt.datetime(2026, 11, day, hour, minute, tzinfo=PARIS).timestamp()  # noqa: E731
    times = state_time([
        StateChange("a", "available", local(23, 22)),
        StateChange("a", "busy", local(23, 23, 30)),
        StateChange("a", "wrap_up", local(24, 0, 20)),
        StateChange("a", "available", local(24, 0, 30)),
        StateChange("a", "away", local(24, 2)),
        StateChange("a", "offline", local(24, 3)),
    ], plan, now=span.end + 10)
    first, second = times[("a", _day(plan, dt.date(2026, 11, 23)))], times[("a", _day(plan, dt.date(2026, 11, 24)))]
    assert (first.staffed, first.handling) == (2 * 3600, 1800)
    assert (second.staffed, second.handling, second.away) == (2 * 3600, 1800, 3600)
    assert first.occupancy == second.occupancy == pytest.approx(0.25)


def test_occupancy_over_the_spring_change_counts_real_hours():
    # 2026-03-29 in Paris: 02:00 becomes 03:00. 00:00 to 04:00 local is 3 real hours.
    span = ReportRange.of_days(dt.date(2026, 3, 29), dt.date(2026, 3, 29), PARIS)
    start = dt.datetime(2026, 3, 29, 0, 0, tzinfo=PARIS).timestamp()
    end = dt.datetime(2026, 3, 29, 4, 0, tzinfo=PARIS).timestamp()
    changes = [StateChange("a", "available", start), StateChange("a", "busy", start + 3600),
               StateChange("a", "offline", end)]
    days = state_time(changes, PeriodPlan.make(span.start, span.end, "day", PARIS), now=span.end)
    assert [(t.staffed, t.handling) for t in days.values()] == [(3 * 3600, 2 * 3600)]
    hours_plan = PeriodPlan.make(span.start, span.end, "hour", PARIS)
    hours = state_time(changes, hours_plan, now=span.end)
    labels = {period_label(key, "hour"): t.staffed for (_, key), t in hours.items()}
    assert labels == {"2026-03-29 00:00": 3600, "2026-03-29 01:00": 3600, "2026-03-29 03:00": 3600}
    assert len(hours_plan.keys()) == 23  # a 23-hour day


def test_occupancy_over_the_autumn_change_puts_the_repeated_hour_in_one_period():
    # 2026-10-25 in Paris: 03:00 becomes 02:00 again. 00:00 to 04:00 local is 5 real hours.
    span = ReportRange.of_days(dt.date(2026, 10, 25), dt.date(2026, 10, 25), PARIS)
    assert span.end - span.start == 25 * 3600
    start = dt.datetime(2026, 10, 25, 0, 0, tzinfo=PARIS).timestamp()
    changes = [StateChange("a", "busy", start), StateChange("a", "offline", start + 5 * 3600)]
    plan = PeriodPlan.make(span.start, span.end, "hour", PARIS)
    hours = {period_label(key, "hour"): t.staffed for (_, key), t in state_time(changes, plan, now=span.end).items()}
    assert hours == {"2026-10-25 00:00": 3600, "2026-10-25 01:00": 3600, "2026-10-25 02:00": 7200,
                     "2026-10-25 03:00": 3600}
    day = state_time(changes, PeriodPlan.make(span.start, span.end, "day", PARIS), now=span.end)
    assert [(t.staffed, t.occupancy) for t in day.values()] == [(5 * 3600, 1.0)]


def test_the_current_state_lasts_until_now_not_until_the_end_of_the_range():
    span = ReportRange.of_days(dt.date(2026, 11, 23), dt.date(2026, 11, 23), UTC)
    plan = PeriodPlan.make(span.start, span.end, "day", UTC)
    times = state_time([StateChange("a", "available", span.start - 50)], plan, now=span.start + 600)
    assert [t.staffed for t in times.values()] == [600]


def test_weeks_start_on_monday_and_days_are_local():
    monday = dt.datetime(2026, 11, 23, tzinfo=UTC).timestamp()
    assert period_key(monday + 6 * 86400 + 5, "week") == monday
    assert period_key(monday - 1, "week") == monday - 7 * 86400
    assert period_label(int(monday), "week") == "2026-W48"
    # 23:30 UTC on the 23rd is already the 24th in Paris.
    span = ReportRange.of_days(dt.date(2026, 11, 20), dt.date(2026, 11, 30), PARIS)
    plan = PeriodPlan.make(span.start, span.end, "day", PARIS)
    assert period_label(plan.key(monday + 23.5 * 3600), "day") == "2026-11-24"


NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC).timestamp()  # a Wednesday


@pytest.mark.parametrize(("first", "last", "period", "message"), [
    ("2026-11-20", "2026-11-10", "day", "wrong way round"),
    ("2024-01-01", "2026-11-30", "week", "at most 2 years"),
    ("2026-11-30", "2026-12-03", "day", "in the future"),
    ("2026-10-01", "2026-11-30", "hour", "Hourly figures cover at most 31 days"),
    ("2026-13-01", "2026-11-30", "day", "YYYY-MM-DD"),
    ("2026-11-01", "2026-11-30", "minute", "period must be one of"),
])
def test_bad_ranges_are_refused_with_a_reason(first, last, period, message):
    with pytest.raises(ReportRangeError, match=message):
        parse_range(first, last, period, zone=UTC, now=NOW)


def test_the_default_range_is_the_last_seven_full_days_and_two_years_is_allowed():
    current, period = parse_range(None, None, None, zone=UTC, now=NOW)
    assert (current.first.isoformat(), current.last.isoformat(), period) == ("2026-11-25", "2026-12-01", "day")
    today, _ = parse_range("2026-12-02", "2026-12-02", "hour", zone=UTC, now=NOW)
    assert today.days == 1
    two_years, _ = parse_range("2024-12-02", "2026-12-01", "week", zone=UTC, now=NOW)
    assert two_years.days == 730


def test_comparisons_are_a_week_a_month_and_a_year_earlier():
    current = ReportRange.of_days(dt.date(2026, 3, 25), dt.date(2026, 3, 31), PARIS)
    earlier = {name: (r.first.isoformat(), r.last.isoformat()) for name, r in comparison_ranges(current).items()}
    assert earlier == {"previous_week": ("2026-03-18", "2026-03-24"),
                       "previous_month": ("2026-02-25", "2026-02-28"),
                       "previous_year": ("2025-03-25", "2025-03-31")}


def test_cells_and_csv_read_alike():
    # Ties round up, as the page's toFixed(1) does (tests/js/reports.test.mjs has the same cells).
    assert [cell(0.8125, "percent"), cell(41.25, "seconds"), cell(5400, "hours"), cell(3.0, "count"),
            cell(None, "percent"), cell(0.0, "percent"), cell(0.33333, "percent")] == [
        "81.3", "41.3", "1.5", "3", "", "0.0", "33.3"]
    table = {"columns": [{"key": "d", "label": "Disposition", "unit": "text"},
                         {"key": "s", "label": "Share", "unit": "percent"}],
             "rows": [{"d": "=HYPERLINK(1)", "s": 0.5}, {"d": "sold, upsell", "s": None}]}
    assert table_csv(table) == "Disposition,Share (%)\r\n'=HYPERLINK(1),50.0\r\n\"sold, upsell\",\r\n"
