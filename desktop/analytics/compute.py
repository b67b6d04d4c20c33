"""The whole analysis for every customer, as one result to store with its version.

:func:`compute` is what ``otodesk analytics run`` runs between loading orders
and storing results: RFM and tiers per period, the tier's trend, BG/NBD and
Gamma-Gamma, association rules and recommendations. A model that cannot be
fitted on this data (nobody bought twice, no baskets) leaves its fields empty
and says why in :attr:`AnalyticsResult.notes`; it does not fail the run.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from desktop.analytics import associations, attrition, recommendations, rfm
from desktop.analytics.orders import AnalyticsError, Order, is_purchase

__all__ = ["MODEL_VERSION", "AnalyticsConfig", "CustomerAnalytics", "AnalyticsResult", "compute"]

#: Bumped when a computation changes meaning, so stored results say which they are.
MODEL_VERSION = "1"


@dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    #: One RFM period; tiers compare consecutive periods.
    period_days: float = 365.0
    #: Periods of tier history kept per customer (the latest is the current tier).
    history_periods: int = 4
    tiers: rfm.TierRule = rfm.DEFAULT_TIERS
    #: BG/NBD's time unit; the horizon of expected purchases is one period.
    unit_days: float = 7.0
    #: Below this probability of still being active a customer is at risk.
    p_alive_threshold: float = 0.3
    min_support: float = 0.01
    min_confidence: float = 0.1
    min_lift: float = 1.0
    max_rule_length: int = 3
    recommendations: int = 5

    def __post_init__(self) -> None:
        if self.history_periods < 2:
            raise AnalyticsError("history_periods must be at least 2 to show a trend")
        if not 0 <= self.p_alive_threshold <= 1:
            raise AnalyticsError(f"p_alive_threshold must be in [0, 1], not {self.p_alive_threshold!r}")
        if self.unit_days <= 0 or self.period_days <= 0:
            raise AnalyticsError("period_days and unit_days must be positive")
        if not 0 < self.min_support <= 1:
            raise AnalyticsError(f"min_support must be in (0, 1], not {self.min_support!r}")
        if not 0 <= self.min_confidence <= 1 or self.min_lift < 0:
            raise AnalyticsError("min_confidence must be in [0, 1] and min_lift at least 0")
        if self.max_rule_length < 2 or self.recommendations < 0:
            raise AnalyticsError("max_rule_length must be at least 2 and recommendations at least 0")

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["tiers"] = {"mode": self.tiers.mode, "bounds": [list(b) for b in self.tiers.bounds]}
        return values


@dataclass(frozen=True, slots=True)
class CustomerAnalytics:
    customer_id: str
    recency_days: float | None
    frequency: int
    monetary_cents: int
    #: Recency, frequency and monetary scores 1-5 among this period's customers (``rfm.rfm_scores``).
    scores: tuple[int, int, int]
    tier: str
    previous_tier: str | None
    trend: str
    #: ``[(period end, tier)]``, oldest first; None where they had no order then.
    tier_history: list[tuple[float, str | None]]
    p_alive: float | None
    expected_purchases: float | None
    expected_spend_cents: float | None
    at_risk: bool
    reasons: list[str]
    recommendations: list[str]


@dataclass(frozen=True)
class AnalyticsResult:
    computed_at: float
    model_version: str
    config: dict[str, Any]
    customers: dict[str, CustomerAnalytics]
    rules: list[associations.Rule]
    segments: list[rfm.SegmentValue]
    bgnbd: attrition.BgNbd | None
    gamma_gamma: attrition.GammaGamma | None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What a run reports about itself (stored with it)."""
        return {
            "customers": len(self.customers),
            "at_risk": sum(c.at_risk for c in self.customers.values()),
            "rules": len(self.rules),
            "segments": [asdict(s) for s in self.segments],
            "bgnbd": asdict(self.bgnbd) if self.bgnbd else None,
            "gamma_gamma": asdict(self.gamma_gamma) if self.gamma_gamma else None,
            "notes": list(self.notes),
        }


def compute(orders: Sequence[Order], *, now: float, config: AnalyticsConfig = AnalyticsConfig()) -> AnalyticsResult:
    """Analyse ``orders`` as of ``now`` (orders at or after ``now`` are ignored)."""
    orders = [o for o in orders if o.placed_at < now]
    notes: list[str] = []
    windows = rfm.periods(now, days=config.period_days, count=config.history_periods)
    # One pass to sort orders into periods, not one pass over every order per period.
    starts = [start for start, _ in windows]
    buckets: list[list[Order]] = [[] for _ in windows]
    for o in orders:
        if o.placed_at >= starts[0]:
            buckets[bisect.bisect_right(starts, o.placed_at) - 1].append(o)
    per_period = [rfm.rfm(bucket, start=s, end=e) for bucket, (s, e) in zip(buckets, windows)]
    tiers_per_period = [rfm.assign_tiers(values, config.tiers) for values in per_period]
    current, tiers = per_period[-1], tiers_per_period[-1]
    scored = rfm.rfm_scores(current)

    summary = attrition.summarise(orders, end=now, unit_days=config.unit_days)
    row = {cid: i for i, cid in enumerate(summary.customer_ids)}
    p_alive = purchases = spend = None
    try:
        bgnbd = attrition.fit_bgnbd(summary)
        p_alive = attrition.probability_alive(bgnbd, summary)
        purchases = attrition.expected_purchases(bgnbd, summary, config.period_days / config.unit_days)
        if not (summary.x > 0).any():
            notes.append("Nobody bought twice: BG/NBD cannot tell who has lapsed")
    except AnalyticsError as e:
        bgnbd = None
        notes.append(f"BG/NBD not fitted: {e}")
    try:
        gamma_gamma = attrition.fit_gamma_gamma(summary.x, summary.mean_value)
        spend = attrition.expected_spend(gamma_gamma, summary.x, summary.mean_value)
    except AnalyticsError as e:
        gamma_gamma = None
        notes.append(f"Gamma-Gamma not fitted: {e}")

    baskets = associations.baskets_of(o.items for o in orders if is_purchase(o))
    rules = associations.mine_rules(baskets, min_support=config.min_support,
                                    min_confidence=config.min_confidence, min_lift=config.min_lift,
                                    max_length=config.max_rule_length)
    owned: dict[str, set[str]] = {}
    for o in orders:
        if is_purchase(o) and o.items:
            owned.setdefault(o.customer_id, set()).update(o.items)
    recommended = recommendations.recommend(owned, limit=config.recommendations)

    customers: dict[str, CustomerAnalytics] = {}
    everyone = sorted({o.customer_id for o in orders})
    for cid in everyone:
        values = current.get(cid, rfm.Rfm(None, 0, 0))
        history = [(end, period.get(cid)) for (_, end), period in zip(windows, tiers_per_period)]
        tier = tiers.get(cid, "standard")
        previous = tiers_per_period[-2].get(cid)
        trend = rfm.trend(previous, tier)
        i = row.get(cid)
        alive = float(p_alive[i]) if p_alive is not None and i is not None else None
        reasons = attrition.at_risk_reasons(tier_trend=trend, previous_tier=previous, tier=tier,
                                            p_alive=alive, threshold=config.p_alive_threshold)
        customers[cid] = CustomerAnalytics(
            customer_id=cid, recency_days=values.recency_days, frequency=values.frequency,
            monetary_cents=values.monetary_cents, scores=scored.get(cid, (0, 0, 0)), tier=tier, previous_tier=previous, trend=trend,
            tier_history=history, p_alive=alive,
            expected_purchases=float(purchases[i]) if purchases is not None and i is not None else None,
            expected_spend_cents=_finite(spend[i]) if spend is not None and i is not None else None,
            at_risk=bool(reasons), reasons=reasons,
            recommendations=[r.product for r in recommended.get(cid, [])])
    return AnalyticsResult(computed_at=now, model_version=MODEL_VERSION, config=config.as_dict(),
                           customers=customers, rules=rules,
                           segments=rfm.segment_values(current, tiers), bgnbd=bgnbd,
                           gamma_gamma=gamma_gamma, notes=notes)


def _finite(value: float) -> float | None:
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None
