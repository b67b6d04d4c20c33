"""The planner's results: rates, Wilson intervals, breakdowns and the week-over-week trend."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from desktop.suggestions.attribution import Attribution
from desktop.suggestions.results import WEEK, results, wilson_interval

END = 100 * WEEK


def event(outcome: str, contact: str, *, at: float = END - 1.0, action="a1", version=1, queue="sales",
          tier="gold", reason=None) -> SimpleNamespace:
    return SimpleNamespace(at=at, callback_id=contact, action_id=action, version=version, outcome=outcome,
                           reason=reason, queue=queue, tier=tier)


def test_wilson_interval_matches_the_published_values() -> None:
    # Newcombe (1998), table I: 81 of 263 -> 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    # 0 of 10 and 10 of 10 stay inside [0, 1] and are not degenerate.
    assert wilson_interval(0, 10)[0] == 0.0 and 0.25 < wilson_interval(0, 10)[1] < 0.35
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and 0.65 < wilson_interval(10, 10)[0] < 0.75
    assert wilson_interval(0, 0) is None


def test_rates_count_contacts_once_and_an_answer_counts_as_presented() -> None:
    events = [
        event("shown", "k1"), event("shown", "k1"), event("presented", "k1"), event("accepted", "k1"),
        event("shown", "k2"), event("declined", "k2", reason="Too expensive"),
        event("shown", "k3"),
        event("shown", "k4"), event("presented", "k4"),
    ]
    [action] = results(events, [], start=END - WEEK, end=END)["actions"]
    assert (action["impressions"], action["presented"], action["accepted"], action["declined"]) == (4, 3, 1, 1)
    assert action["presentation_rate"] == pytest.approx(3 / 4)
    assert action["acceptance_rate"] == pytest.approx(1 / 3)
    assert action["acceptance_interval"] == pytest.approx(list(wilson_interval(1, 3)))
    assert action["decline_reasons"] == {"Too expensive": 1}


def test_versions_queues_and_tiers_are_apart_and_revenue_follows_attribution() -> None:
    events = [event("shown", "k1", version=1, queue="sales", tier="gold"),
              event("shown", "k2", version=2, queue="support", tier="silver"),
              event("accepted", "k2", version=2, queue="support", tier="silver")]
    credit = Attribution("o1", "bag", 4_900, END - 10.0, 7, "a1", 2, "support", "silver")
    out = results(events, [credit], start=END - WEEK, end=END)["actions"]
    by_version = {a["version"]: a for a in out}
    assert by_version[1]["impressions"] == 1 and by_version[1]["attributed_revenue_cents"] == 0
    assert by_version[2]["attributed_revenue_cents"] == 4_900 and by_version[2]["attributed_orders"] == 1
    assert [(row["key"], row["accepted"]) for row in by_version[2]["by_queue"]] == [("support", 1)]
    assert [(row["key"], row["attributed_revenue_cents"]) for row in by_version[2]["by_tier"]] == [("silver", 4_900)]


def test_outside_the_period_is_left_out_but_the_weeks_before_make_the_trend() -> None:
    events = [event("shown", "old1", at=END - WEEK - 5), event("accepted", "old1", at=END - WEEK - 4),
              event("shown", "old2", at=END - WEEK - 3), event("presented", "old2", at=END - WEEK - 2),
              event("shown", "new1", at=END - 5), event("presented", "new1", at=END - 4),
              event("shown", "future", at=END + 1)]
    [action] = results(events, [], start=END - WEEK, end=END, weeks=2)["actions"]
    assert action["impressions"] == 1 and action["accepted"] == 0
    assert [w["impressions"] for w in action["weeks"]] == [2, 1]
    trend = action["trend"]
    assert trend["acceptance_rate_before"] == pytest.approx(0.5) and trend["acceptance_rate"] == 0.0
    assert trend["acceptance_rate_change"] == pytest.approx(-0.5)
    assert trend["impressions_change"] == pytest.approx(-0.5)
