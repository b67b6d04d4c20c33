"""The report's tables from sums: totals, comparison, agents' occupancy, and the row limit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from desktop.analytics.history import PeriodPlan, ReportRange, StateTime, comparison_ranges
from desktop.analytics.report import build_report, table_csv

UTC = ZoneInfo("UTC")


def _report(**overrides):
    current = ReportRange.of_days(dt.date(2026, 11, 23), dt.date(2026, 11, 24), UTC)
    plan = PeriodPlan.make(current.start, current.end, "day", UTC)
    day1, day2 = plan.keys()
    earlier = comparison_ranges(current)
    values = dict(
        current=current, plan=plan,
        queue_sums=[("sales", day1, {"offered": 4, "answered": 3, "answered_within_target": 2, "abandoned": 1,
                                     "wait_seconds": 30.0, "handled": 3, "talk_seconds": 600.0,
                                     "wrap_up_seconds": 60.0, "browser": 4}),
                    ("sales", day2, {"offered": 2, "answered": 2, "answered_within_target": 2, "wait_seconds": 10.0,
                                     "handled": 2, "talk_seconds": 300.0, "browser": 1, "phone": 1})],
        agent_contacts=[("a1", day1, {"answered": 3, "handled": 3, "talk_seconds": 600.0, "wrap_up_seconds": 60.0})],
        agent_offers=[("a1", day1, {"offers": 4, "accepted": 3, "declined": 1})],
        agent_time={("a1", day1): StateTime(staffed=3300.0)},
        dispositions=[("sales", "Resolved", 3)],
        compared={"previous_week": (earlier["previous_week"], [("sales", None, {"offered": 3, "answered": 3,
                                                                                "answered_within_target": 3})])},
        queue_titles={"sales": "Sales", "support": "Support"}, agent_names={"a1": "Ann"},
    )
    values.update(overrides)
    return build_report(**values)


def test_queue_totals_comparison_and_agents():
    report = _report()
    queues = {row["queue"]: row for row in report["tables"]["queues"]["rows"]}
    assert list(queues) == ["Sales", "Support", "All queues"]
    assert (queues["Sales"]["offered"], queues["Sales"]["service_level"]) == (6, pytest.approx(4 / 6))
    assert queues["Sales"]["average_speed_of_answer"] == pytest.approx(40 / 5)
    assert queues["Support"]["offered"] == 0 and queues["Support"]["service_level"] is None
    assert report["chart"]["labels"] == ["2026-11-23", "2026-11-24"] and report["chart"]["offered"] == [4, 2]
    comparison = report["tables"]["comparison"]["rows"]
    assert [(row["name"], row["from"], row["offered"]) for row in comparison] == [
        ("this_range", "2026-11-23", 6), ("previous_week", "2026-11-16", 3)]
    ann = report["tables"]["agents"]["rows"][0]
    assert (ann["agent"], ann["offers"], ann["declined"]) == ("Ann", 4, 1)
    assert ann["occupancy"] == pytest.approx(660 / 3300)  # talk + wrap-up over staffed
    assert report["tables"]["dispositions"]["rows"] == [
        {"queue": "Sales", "disposition": "Resolved", "count": 3, "share": pytest.approx(3 / 5)}]
    # Day one: 2 within target / (3 answered + 1 abandoned) = 50%; ASA 30 / 3; AHT 660 / 3.
    assert table_csv(report["tables"]["queue_periods"]).splitlines()[1] == "2026-11-23,Sales,4,3,1,0,50.0,25.0,10.0,220.0"


def test_long_by_period_tables_leave_their_rows_to_the_csv():
    report = _report(row_limit=1)
    assert report["tables"]["queue_periods"]["rows"] == [] and report["tables"]["queue_periods"]["omitted"] == 2
    assert report["tables"]["queue_periods"]["columns"][0]["key"] == "period"
    assert report["tables"]["queues"]["rows"]  # the totals are always there
    summed = _report(agent_periods_omitted=400, row_limit=100)
    assert summed["tables"]["agent_periods"] == {"columns": summed["tables"]["agent_periods"]["columns"],
                                                 "rows": [], "omitted": 400}
