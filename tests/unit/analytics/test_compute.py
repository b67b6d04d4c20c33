"""The whole computation on awkward data, the job's settings and its schedule."""

from __future__ import annotations

import asyncio
import math
from types import SimpleNamespace

import pytest

from desktop.analytics import AnalyticsError, Order
from desktop.analytics.compute import AnalyticsConfig, compute
from desktop.leader.analytics_job import AnalyticsSchedule, parse_tiers
from desktop.settings import Settings

DAY = 86400.0
NOW = 1000 * DAY


@pytest.mark.parametrize("orders", [
    [],
    [Order(f"c{i}", NOW - i * DAY, 1000, ("a",)) for i in range(1, 30)],  # one order each
    [Order("c1", NOW - 5 * DAY, -500), Order("c2", NOW - 6 * DAY, 0)],  # a refund, a free order
    [Order("c1", NOW - 5 * DAY, 1000), Order("c1", NOW - 4 * DAY, 1000)],  # one repeat customer
    [Order("c1", NOW + DAY, 1000)],  # in the future: ignored
], ids=["empty", "one-order-customers", "refund-and-free", "one-repeater", "future"])
def test_awkward_data_is_analysed_without_crashing(orders):
    result = compute(orders, now=NOW, config=AnalyticsConfig(min_support=0.1))
    for c in result.customers.values():
        assert c.monetary_cents >= 0
        assert c.p_alive is None or 0 <= c.p_alive <= 1
        assert c.expected_purchases is None or (math.isfinite(c.expected_purchases) and c.expected_purchases >= 0)
        assert c.expected_spend_cents is None or math.isfinite(c.expected_spend_cents)
    summary = result.summary()
    assert summary["customers"] == len(result.customers)
    if len(orders) < 3:
        assert any("not fitted" in note for note in summary["notes"])


def test_one_order_customers_are_not_called_at_risk_by_the_model():
    orders = [Order(f"c{i}", NOW - i * DAY, 1000) for i in range(1, 30)]
    result = compute(orders, now=NOW)
    assert all(c.p_alive == 1.0 and not c.at_risk for c in result.customers.values())
    assert "Nobody bought twice: BG/NBD cannot tell who has lapsed" in result.notes


def test_tier_settings_are_parsed_or_refused_with_the_setting_named():
    rule = parse_tiers("quantiles:platinum=0.01,gold=0.05,silver=0.2")
    assert (rule.mode, rule.bounds) == ("quantiles", (("platinum", 0.01), ("gold", 0.05), ("silver", 0.2)))
    assert parse_tiers("").mode == "thresholds"
    with pytest.raises(AnalyticsError, match="OTODESK_ANALYTICS_TIERS"):
        parse_tiers("quantiles:platinum")
    with pytest.raises(AnalyticsError, match="Unknown tier mode"):
        parse_tiers("deciles:gold=1")
    with pytest.raises(AnalyticsError):
        AnalyticsConfig(history_periods=1)


class FakeRuns:
    """The two repository calls the schedule makes, over a list of start times."""

    def __init__(self, started: list[float]) -> None:
        self.started = started

    async def analytics_status(self):
        latest = SimpleNamespace(started_at=self.started[-1]) if self.started else None
        return latest, latest


def test_the_schedule_runs_only_on_the_leader_and_once_an_interval_from_the_last_stored_run():
    settings = Settings(analytics_interval=3600.0)
    leader = [True]
    clock = [10_000.0]
    runs = FakeRuns([])
    schedule = AnalyticsSchedule(runs, settings, lambda: leader[0], clock=lambda: clock[0])
    assert asyncio.run(schedule.due())  # never ran
    runs.started.append(9_000.0)  # another leader ran 1000 s ago
    assert not asyncio.run(schedule.due())
    clock[0] = 9_000.0 + 3600
    assert asyncio.run(schedule.due())
    leader[0] = False
    assert not asyncio.run(schedule.due())
