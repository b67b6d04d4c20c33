"""The analytics results as the REST API and the desk show them (JSON shapes only).

Every answer carries the run it comes from (``run``): its id, when it was
computed, the model version, and a ``notice`` when the latest run failed and
these are the previous results (or when there are none yet).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from desktop.analytics.associations import Rule, associated_with
from desktop.repository.analytics import AnalyticsRunRecord, CustomerScoreRecord, RuleRecord

__all__ = ["run_json", "customer_analytics_json", "associated_json"]


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at else "not finished"


def run_json(latest: AnalyticsRunRecord | None, current: AnalyticsRunRecord | None) -> dict[str, Any]:
    """Which run the results come from, and what a person should know about it."""
    notice = None
    if current is None:
        notice = "No analytics results yet: run `otodesk analytics run`."
        if latest is not None and latest.status == "failed":
            notice = f"The analytics run of {_when(latest.started_at)} failed ({latest.error}); no results yet."
    elif latest is not None and latest.id != current.id:
        if latest.status == "failed":
            notice = (f"The latest analytics run ({_when(latest.started_at)}) failed ({latest.error}); "
                      f"showing the results of {_when(current.finished_at)}.")
        elif latest.status == "running":
            notice = f"A new analytics run is under way since {_when(latest.started_at)}."
    return {
        "id": current.id if current else None,
        "computed_at": current.started_at if current else None,
        "finished_at": current.finished_at if current else None,
        "model_version": current.model_version if current else None,
        "notice": notice,
    }


def customer_analytics_json(customer_id: str, score: CustomerScoreRecord | None, run: dict[str, Any],
                            names: Mapping[str, str]) -> dict[str, Any]:
    """``names``: product names by sku, for the recommendations."""
    if score is None:
        return {"customer_id": customer_id, "run": run, "analytics": None}
    data = score.data
    return {"customer_id": customer_id, "run": run, "analytics": {
        "tier": score.tier, "previous_tier": data.get("previous_tier"), "trend": data.get("trend"),
        "tier_history": [{"period_end": end, "tier": tier} for end, tier in data.get("tier_history", [])],
        "recency_days": data.get("recency_days"), "frequency": data.get("frequency"),
        "monetary_cents": data.get("monetary_cents"), "rfm_scores": data.get("rfm_scores"),
        "p_alive": data.get("p_alive"), "expected_purchases": data.get("expected_purchases"),
        "expected_spend_cents": data.get("expected_spend_cents"),
        "at_risk": score.at_risk, "reasons": list(data.get("reasons", [])),
        "recommendations": [{"sku": sku, "name": names.get(sku)} for sku in data.get("recommendations", [])],
    }}


def associated_json(cart: Iterable[str], rules: Iterable[RuleRecord], run: dict[str, Any], *,
                    limit: int, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    found = associated_with(cart, (Rule(tuple(r.antecedent), tuple(r.consequent), r.support, r.confidence,
                                        r.lift, r.count) for r in rules), limit=limit)
    return {"run": run, "items": [
        {"sku": sku, "name": (names or {}).get(sku), "because": list(rule.antecedent),
         "support": rule.support, "confidence": rule.confidence, "lift": rule.lift}
        for sku, rule in found]}
