"""What the planner's "Results" tab shows: pure, interactions and attributions in, figures out.

Per action and version: impressions (suggestions shown on a card), presented
(the agent opened them), accepted and declined, the presentation rate
(presented / impressions), the acceptance rate (accepted / presented, an
acceptance or refusal counting as presented) with its 95 % Wilson score
interval, and the revenue of the orders attributed to it
(:mod:`.attribution`); the same by queue and by value tier, and week by week
back from the end of the period (the week-over-week trend compares the last
two).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from desktop.suggestions.attribution import Attribution

__all__ = ["wilson_interval", "results", "WEEK"]

WEEK = 7 * 86400.0
Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


class _Interaction(Protocol):
    at: float
    callback_id: str
    action_id: str
    version: int
    outcome: str
    reason: str | None
    queue: str
    tier: str


def wilson_interval(successes: int, trials: int, *, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (Wilson 1927), None without trials.

    Unlike the normal approximation it stays within [0, 1] and is honest at 0 of n and n of n.
    """
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


class _Tally:
    __slots__ = ("shown", "presented", "accepted", "declined", "revenue", "orders", "reasons")

    def __init__(self) -> None:
        self.shown: set[str] = set()
        self.presented: set[str] = set()
        self.accepted: set[str] = set()
        self.declined: set[str] = set()
        self.revenue = 0
        self.orders: set[str] = set()
        self.reasons: Counter[str] = Counter()

    def add(self, item: _Interaction) -> None:
        contact = item.callback_id
        if item.outcome == "shown":
            self.shown.add(contact)
        elif item.outcome in ("presented", "accepted", "declined"):
            self.presented.add(contact)
            if item.outcome == "accepted":
                self.accepted.add(contact)
            elif item.outcome == "declined":
                self.declined.add(contact)
                if item.reason:
                    self.reasons[item.reason] += 1

    def credit(self, attribution: Attribution) -> None:
        self.revenue += attribution.revenue_cents
        self.orders.add(attribution.order_id)

    def figures(self) -> dict[str, Any]:
        # A suggestion presented is one shown, even if its impression was never recorded.
        impressions = len(self.shown | self.presented)
        presented, accepted = len(self.presented), len(self.accepted)
        interval = wilson_interval(accepted, presented)
        return {
            "impressions": impressions, "presented": presented, "accepted": accepted,
            "declined": len(self.declined),
            "presentation_rate": presented / impressions if impressions else None,
            "acceptance_rate": accepted / presented if presented else None,
            "acceptance_interval": list(interval) if interval else None,
            "attributed_revenue_cents": self.revenue, "attributed_orders": len(self.orders),
        }


def results(interactions: Iterable[_Interaction], attributions: Iterable[Attribution], *,
            start: float, end: float, weeks: int | None = None) -> dict[str, Any]:
    """The results of every action and version seen in [start, end).

    ``weeks``: how many weeks back from ``end`` the weekly series holds (default: the
    period's, at least 2 so there is a trend).
    """
    span = max(0.0, end - start)
    weeks = weeks if weeks is not None else max(2, math.ceil(span / WEEK))
    total: dict[tuple[str, int], _Tally] = defaultdict(_Tally)
    by_queue: dict[tuple[str, int], dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    by_tier: dict[tuple[str, int], dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    weekly: dict[tuple[str, int], list[_Tally]] = defaultdict(lambda: [_Tally() for _ in range(weeks)])

    def week_of(at: float) -> int | None:
        back = int((end - at) // WEEK)
        return weeks - 1 - back if 0 <= back < weeks else None

    for item in interactions:
        key = (item.action_id, item.version)
        week = week_of(item.at)
        if week is not None:
            weekly[key][week].add(item)
        if start <= item.at < end:
            total[key].add(item)
            by_queue[key][item.queue or ""].add(item)
            by_tier[key][item.tier or "standard"].add(item)
    for attribution in attributions:
        key = (attribution.action_id, attribution.version)
        week = week_of(attribution.placed_at)
        if week is not None:
            weekly[key][week].credit(attribution)
        if start <= attribution.placed_at < end:
            total[key].credit(attribution)
            by_queue[key][attribution.queue or ""].credit(attribution)
            by_tier[key][attribution.tier or "standard"].credit(attribution)

    actions = []
    for key in sorted(set(total) | set(weekly)):
        action_id, version = key
        series = [{"start": end - (weeks - i) * WEEK, "end": end - (weeks - 1 - i) * WEEK, **tally.figures()}
                  for i, tally in enumerate(weekly[key])]
        actions.append({
            "action_id": action_id, "version": version, **total[key].figures(),
            "decline_reasons": dict(total[key].reasons.most_common()),
            "by_queue": _breakdown(by_queue[key]), "by_tier": _breakdown(by_tier[key]),
            "weeks": series, "trend": _trend(series),
        })
    actions.sort(key=lambda a: (-a["impressions"], a["action_id"], -a["version"]))
    return {"start": start, "end": end, "actions": actions}


def _breakdown(groups: dict[str, _Tally]) -> list[dict[str, Any]]:
    rows = [{"key": name, **tally.figures()} for name, tally in groups.items()]
    return sorted(rows, key=lambda row: (-row["impressions"], row["key"]))


def _trend(series: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The last week against the one before: impressions and acceptance rate, and their change."""
    if len(series) < 2:
        return None
    last, before = series[-1], series[-2]
    rate_change = (last["acceptance_rate"] - before["acceptance_rate"]
                   if last["acceptance_rate"] is not None and before["acceptance_rate"] is not None else None)
    return {
        "impressions": last["impressions"], "impressions_before": before["impressions"],
        "impressions_change": (last["impressions"] - before["impressions"]) / before["impressions"]
        if before["impressions"] else None,
        "acceptance_rate": last["acceptance_rate"], "acceptance_rate_before": before["acceptance_rate"],
        "acceptance_rate_change": rate_change,
        "revenue_cents": last["attributed_revenue_cents"],
        "revenue_cents_before": before["attributed_revenue_cents"],
    }
