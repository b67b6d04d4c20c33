"""Recency, frequency and monetary value per customer over a period; value tiers.

A period is ``[start, end)`` in epoch seconds. Within it a customer's

- **recency** is the days from their last purchase to ``end``,
- **frequency** the number of purchases (orders of positive value),
- **monetary** the net spend: purchases less refunds, never below zero
  (a refund of last year's order must not make this year's value negative).

Tiers come from monetary by fixed thresholds or by quantiles (the top share of
spending customers), see :class:`TierRule`. Comparing a customer's tier in two
consecutive periods gives the trend; a fall marks them as drifting away.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from desktop.analytics.orders import DAY, AnalyticsError, Order, is_purchase

__all__ = [
    "Rfm", "TierRule", "SegmentValue", "TIER_ORDER", "DEFAULT_TIERS",
    "periods", "rfm", "rfm_scores", "assign_tiers", "trend", "segment_values",
]

#: Lowest first; the repository's tiers (``desktop.repository.records.TIERS``).
TIER_ORDER = ("standard", "silver", "gold", "platinum")


@dataclass(frozen=True, slots=True)
class Rfm:
    recency_days: float | None  # None: no purchase in the period
    frequency: int
    monetary_cents: int

    @property
    def average_order_cents(self) -> float:
        return self.monetary_cents / self.frequency if self.frequency else 0.0


@dataclass(frozen=True, slots=True)
class TierRule:
    """How monetary value maps to a tier, highest tier first.

    ``mode="thresholds"``: ``bounds`` are minimum spends in minor units.
    ``mode="quantiles"``: ``bounds`` are cumulative top shares of the customers
    who spent anything (``("platinum", 0.01)`` = the top 1%). Everyone else, and
    anyone who spent nothing, is ``standard``.
    """

    mode: str = "thresholds"
    bounds: tuple[tuple[str, float], ...] = (
        ("platinum", 1_000_000), ("gold", 200_000), ("silver", 50_000))

    def __post_init__(self) -> None:
        if self.mode not in ("thresholds", "quantiles"):
            raise AnalyticsError(f"Unknown tier mode {self.mode!r}; expected thresholds or quantiles")
        for tier, bound in self.bounds:
            if tier not in TIER_ORDER:
                raise AnalyticsError(f"Unknown tier {tier!r}; expected one of {', '.join(TIER_ORDER)}")
            if not math.isfinite(bound) or bound < 0 or (self.mode == "quantiles" and bound > 1):
                raise AnalyticsError(f"Tier {tier!r} has an impossible bound {bound!r}")
        values = [b for _, b in self.bounds]
        if self.mode == "thresholds" and values != sorted(values, reverse=True):
            raise AnalyticsError("Tier thresholds must fall from the highest tier to the lowest")
        if self.mode == "quantiles" and values != sorted(values):
            raise AnalyticsError("Tier quantiles must grow from the highest tier to the lowest")


DEFAULT_TIERS = TierRule()


@dataclass(frozen=True, slots=True)
class SegmentValue:
    """One tier's share of the period: customer value analysis per segment."""

    tier: str
    customers: int
    revenue_cents: int
    revenue_share: float
    orders: int
    average_order_cents: float


def periods(end: float, *, days: float, count: int) -> list[tuple[float, float]]:
    """``count`` consecutive periods of ``days`` ending at ``end``, oldest first."""
    if days <= 0 or count < 1:
        raise AnalyticsError(f"A period needs days > 0 and count >= 1, not {days!r} and {count!r}")
    length = days * DAY
    return [(end - (count - i) * length, end - (count - i - 1) * length) for i in range(count)]


def rfm(orders: Iterable[Order], *, start: float, end: float) -> dict[str, Rfm]:
    """RFM of every customer with an order (of any value) in ``[start, end)``."""
    last: dict[str, float] = {}
    frequency: dict[str, int] = {}
    net: dict[str, int] = {}
    for order in orders:
        if not start <= order.placed_at < end:
            continue
        cid = order.customer_id
        net[cid] = net.get(cid, 0) + order.value_cents
        frequency.setdefault(cid, 0)
        if is_purchase(order):
            frequency[cid] += 1
            last[cid] = max(last.get(cid, order.placed_at), order.placed_at)
    return {
        cid: Rfm(recency_days=(end - last[cid]) / DAY if cid in last else None,
                 frequency=frequency[cid], monetary_cents=max(0, net[cid]))
        for cid in net
    }


def rfm_scores(values: Mapping[str, Rfm]) -> dict[str, tuple[int, int, int]]:
    """Each customer's recency, frequency and monetary scores, 1 (worst) to 5 (best): the
    quintile of their rank among ``values`` (ties share a score; all alike score 3).
    Recency ranks fewer days higher; no purchase in the period is the worst recency."""
    worst = math.inf
    return dict(zip(values, zip(
        _quintiles([-(v.recency_days if v.recency_days is not None else worst) for v in values.values()]),
        _quintiles([float(v.frequency) for v in values.values()]),
        _quintiles([float(v.monetary_cents) for v in values.values()]),
    )))


def _quintiles(numbers: Sequence[float]) -> list[int]:
    """1..5 for each of ``numbers`` (higher is better): the quintile its mid-rank's percentile
    ((rank - 0.5) / n, the middle of its ties) falls in."""
    ordered = sorted(numbers)
    n = len(ordered)
    scores = []
    for x in numbers:
        below, through = bisect.bisect_left(ordered, x), bisect.bisect_right(ordered, x)
        mid_rank = below + (through - below + 1) / 2  # 1-based
        scores.append(min(5, max(1, math.ceil(5 * (mid_rank - 0.5) / n - 1e-9))))
    return scores


def assign_tiers(values: Mapping[str, Rfm], rule: TierRule = DEFAULT_TIERS) -> dict[str, str]:
    """Each customer's tier from their monetary value under ``rule``."""
    if rule.mode == "thresholds":
        return {cid: _by_threshold(v.monetary_cents, rule.bounds) for cid, v in values.items()}
    spenders = sorted((cid for cid, v in values.items() if v.monetary_cents > 0),
                      key=lambda cid: (-values[cid].monetary_cents, cid))
    tiers = dict.fromkeys(values, "standard")
    # Ties share a tier: the cut is at a spend, not at a position in the list.
    cuts = [(tier, _cut(spenders, values, share)) for tier, share in rule.bounds]
    for cid in spenders:
        spend = values[cid].monetary_cents
        tiers[cid] = next((tier for tier, cut in cuts if cut is not None and spend >= cut), "standard")
    return tiers


def _by_threshold(spend: int, bounds: Sequence[tuple[str, float]]) -> str:
    return next((tier for tier, minimum in bounds if spend >= minimum and spend > 0), "standard")


def _cut(spenders: Sequence[str], values: Mapping[str, Rfm], share: float) -> int | None:
    """The lowest spend inside the top ``share`` of spenders (None: nobody)."""
    n = math.floor(share * len(spenders) + 1e-9)
    return values[spenders[n - 1]].monetary_cents if n >= 1 else None


def trend(previous: str | None, current: str) -> str:
    """``up``, ``down``, ``same`` or ``new`` (no tier in the previous period)."""
    if previous is None:
        return "new"
    delta = TIER_ORDER.index(current) - TIER_ORDER.index(previous)
    return "up" if delta > 0 else "down" if delta < 0 else "same"


def segment_values(values: Mapping[str, Rfm], tiers: Mapping[str, str]) -> list[SegmentValue]:
    """Customers, revenue, its share and the average order per tier, highest first."""
    total = sum(v.monetary_cents for v in values.values())
    out = []
    for tier in reversed(TIER_ORDER):
        members = [values[cid] for cid, t in tiers.items() if t == tier]
        revenue = sum(v.monetary_cents for v in members)
        orders = sum(v.frequency for v in members)
        out.append(SegmentValue(tier=tier, customers=len(members), revenue_cents=revenue,
                                revenue_share=revenue / total if total else 0.0, orders=orders,
                                average_order_cents=revenue / orders if orders else 0.0))
    return out
