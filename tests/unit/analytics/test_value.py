"""RFM, value tiers, their trend and the value per segment, on examples checked by hand."""

from __future__ import annotations

import pytest

from desktop.analytics import AnalyticsError, Order
from desktop.analytics.rfm import (
    Rfm, TierRule, assign_tiers, periods, rfm, rfm_scores, segment_values, trend,
)

DAY = 86400.0
END = 1000 * DAY


def order(customer: str, days_ago: float, cents: int) -> Order:
    return Order(customer, END - days_ago * DAY, cents)


def test_rfm_counts_purchases_nets_refunds_and_ignores_zero_value_orders():
    orders = [
        order("ann", 10, 5_000), order("ann", 40, 3_000), order("ann", 5, -1_000),  # refund
        order("ann", 2, 0),  # a free replacement: not the last purchase
        order("bob", 400, 9_000),  # outside the 365-day period
        order("bob", 100, 2_000),
        order("cy", 30, -4_000),  # only a refund in the period
    ]
    values = rfm(orders, start=END - 365 * DAY, end=END)
    assert values == {
        "ann": Rfm(recency_days=10.0, frequency=2, monetary_cents=7_000),
        "bob": Rfm(recency_days=100.0, frequency=1, monetary_cents=2_000),
        "cy": Rfm(recency_days=None, frequency=0, monetary_cents=0),
    }
    assert values["ann"].average_order_cents == 3_500


def test_rfm_scores_are_quintiles_of_the_mid_rank_with_ties_shared():
    # Five customers, each a rank apart on every measure: 1..5 (recency: fewer days is better).
    five = {f"c{i}": Rfm(recency_days=50.0 - 10 * i, frequency=i, monetary_cents=1000 * i) for i in range(1, 6)}
    assert rfm_scores(five) == {f"c{i}": (i, i, i) for i in range(1, 6)}
    # Ten: two a quintile. c9 and c10 tie on frequency: mid-rank 9.5 of 10, percentile 0.9, 5 both;
    # no purchase in the period (recency None) is the worst recency.
    ten = {f"c{i}": Rfm(recency_days=None if i == 1 else 100.0 - i, frequency=min(i, 9), monetary_cents=i)
           for i in range(1, 11)}
    scores = rfm_scores(ten)
    assert [scores[f"c{i}"][0] for i in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["c9"][1] == scores["c10"][1] == 5 and scores["c8"][1] == 4
    # Everyone alike: the middle score, not the best.
    assert set(rfm_scores({c: Rfm(3.0, 1, 500) for c in "abcd"}).values()) == {(3, 3, 3)}
    assert rfm_scores({}) == {}


def test_periods_are_consecutive_and_end_at_the_end():
    assert periods(END, days=30, count=3) == [
        (END - 90 * DAY, END - 60 * DAY), (END - 60 * DAY, END - 30 * DAY), (END - 30 * DAY, END)]
    with pytest.raises(AnalyticsError):
        periods(END, days=0, count=3)


def test_tiers_by_threshold():
    rule = TierRule("thresholds", (("platinum", 1000), ("gold", 500), ("silver", 100)))
    values = {c: Rfm(1.0, 1, m) for c, m in {"a": 1000, "b": 999, "c": 500, "d": 100, "e": 99, "f": 0}.items()}
    assert assign_tiers(values, rule) == {
        "a": "platinum", "b": "gold", "c": "gold", "d": "silver", "e": "standard", "f": "standard"}


def test_tiers_by_quantile_give_ties_the_same_tier_and_never_tier_non_spenders():
    # Ten spenders: top 10% = 1 customer, top 30% = 3, top 50% = 5.
    spends = {f"c{i}": 100 * (10 - i) for i in range(10)}  # c0 1000 ... c9 100
    spends["c2"] = spends["c3"] = 700  # a tie across the gold cut (3rd and 4th)
    spends["zero"] = 0
    values = {c: Rfm(1.0, 1, m) for c, m in spends.items()}
    rule = TierRule("quantiles", (("platinum", 0.1), ("gold", 0.3), ("silver", 0.5)))
    tiers = assign_tiers(values, rule)
    assert tiers["c0"] == "platinum"
    assert [tiers[c] for c in ("c1", "c2", "c3")] == ["gold", "gold", "gold"]
    assert [tiers[c] for c in ("c4",)] == ["silver"]
    assert [tiers[c] for c in ("c5", "c9", "zero")] == ["standard"] * 3


@pytest.mark.parametrize("mode,bounds", [
    ("thresholds", (("gold", 10), ("platinum", 100))),  # rising
    ("quantiles", (("platinum", 0.5), ("gold", 0.1))),  # falling
    ("quantiles", (("gold", 1.5),)),
    ("ranks", (("gold", 1),)),
    ("thresholds", (("diamond", 1),)),
])
def test_impossible_tier_rules_are_refused_with_a_reason(mode, bounds):
    with pytest.raises(AnalyticsError):
        TierRule(mode, bounds)


def test_trend():
    assert trend("gold", "silver") == "down"
    assert trend("silver", "platinum") == "up"
    assert trend("gold", "gold") == "same"
    assert trend(None, "standard") == "new"


def test_segment_values_share_and_average_order():
    values = {"a": Rfm(1, 2, 600), "b": Rfm(1, 1, 300), "c": Rfm(1, 3, 100)}
    tiers = {"a": "gold", "b": "gold", "c": "standard"}
    by_tier = {s.tier: s for s in segment_values(values, tiers)}
    assert by_tier["gold"].customers == 2
    assert by_tier["gold"].revenue_cents == 900
    assert by_tier["gold"].revenue_share == pytest.approx(0.9)
    assert by_tier["gold"].average_order_cents == 300
    assert by_tier["standard"].average_order_cents == pytest.approx(100 / 3)
    assert by_tier["platinum"].customers == 0 and by_tier["platinum"].revenue_share == 0
