"""The analytics job's I/O edge: orders from the repository in, versioned results out.

``otodesk analytics run`` calls :func:`run_analytics` once; with
``OTODESK_ANALYTICS_INTERVAL`` set, :class:`AnalyticsSchedule` runs it on the
process that leads the router (one process at a time), at most once an
interval, counted from the last run stored, so a change of leader does not
start an extra run. The computation (:mod:`desktop.analytics`) runs in a
thread so the event loop keeps serving sockets.

A run that fails is recorded as failed with its reason and changes nothing
else: readers keep the previous results (see :mod:`desktop.repository.analytics`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop.analytics import AnalyticsError
from desktop.analytics.compute import MODEL_VERSION, AnalyticsConfig, AnalyticsResult, compute
from desktop.analytics.rfm import TierRule
from desktop.settings import Settings

__all__ = ["RunOutcome", "config_from_settings", "parse_tiers", "run_analytics", "AnalyticsSchedule", "main"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: int
    ok: bool
    #: One line for a person: what was computed, or why it failed and what is shown instead.
    message: str
    summary: dict[str, Any] | None = None


def config_from_settings(settings: Settings) -> AnalyticsConfig:
    """The job's settings; raises :class:`AnalyticsError` naming the one that is wrong."""
    return AnalyticsConfig(period_days=settings.analytics_period_days,
                           tiers=parse_tiers(settings.analytics_tiers),
                           min_support=settings.analytics_min_support,
                           min_lift=settings.analytics_min_lift)


def parse_tiers(text: str) -> TierRule:
    """``mode:tier=bound,...`` (see ``Settings.analytics_tiers``); empty: the default."""
    if not text.strip():
        return TierRule()
    mode, _, rest = text.partition(":")
    try:
        bounds = tuple((tier.strip(), float(bound)) for tier, bound in
                       (part.split("=", 1) for part in rest.split(",") if part.strip()))
    except ValueError:
        raise AnalyticsError(f"OTODESK_ANALYTICS_TIERS {text!r}: expected mode:tier=number,...") from None
    return TierRule(mode.strip(), bounds)


async def run_analytics(repo: Any, *, config: AnalyticsConfig, now: float | None = None,
                        analyse: Callable[..., AnalyticsResult] = compute) -> RunOutcome:
    """One run: load orders, compute, store. Never raises for a failed computation.

    ``analyse`` is :func:`desktop.analytics.compute.compute` (tests pass one that fails).
    """
    now = time.time() if now is None else now
    run_id = await repo.start_analytics_run(now=now, model_version=MODEL_VERSION, config=config.as_dict())
    try:
        started = time.perf_counter()
        orders = await repo.analytics_orders()
        loaded = time.perf_counter()
        result = await asyncio.to_thread(analyse, orders, now=now, config=config)
        computed = time.perf_counter()
        summary = {**result.summary(), "orders": len(orders),
                   "seconds": {"load": round(loaded - started, 3), "compute": round(computed - loaded, 3)}}
        await repo.finish_analytics_run(run_id, now=time.time(), summary=summary,
                                        scores=_scores(result), rules=_rules(result))
        # The store's own time, for whoever reads the run (the bench): after the commit.
        summary["seconds"]["store"] = round(time.perf_counter() - computed, 3)
    except Exception as e:  # noqa: BLE001 - recorded and reported; the previous results stand
        log.exception("analytics run %d failed", run_id)
        reason = f"{type(e).__name__}: {e}"
        await repo.fail_analytics_run(run_id, now=time.time(), error=reason)
        _, previous = await repo.analytics_status()
        kept = (f"the results of run {previous.id} ({_when(previous.finished_at)}) stay in place"
                if previous else "there are no earlier results")
        return RunOutcome(run_id, False, f"analytics run {run_id} failed ({reason}); {kept}")
    return RunOutcome(run_id, True, f"analytics run {run_id}: {summary['customers']} customers, "
                                    f"{summary['at_risk']} at risk, {summary['rules']} rules", summary)


def _scores(result: AnalyticsResult):
    # By hand, not dataclasses.asdict: that deep-copies, seconds at 100,000 customers.
    for c in result.customers.values():
        data = {"recency_days": c.recency_days, "frequency": c.frequency, "monetary_cents": c.monetary_cents,
                "rfm_scores": list(c.scores),
                "previous_tier": c.previous_tier, "trend": c.trend,
                "tier_history": [[end, tier] for end, tier in c.tier_history], "p_alive": c.p_alive,
                "expected_purchases": c.expected_purchases, "expected_spend_cents": c.expected_spend_cents,
                "reasons": c.reasons, "recommendations": c.recommendations}
        yield {"customer_id": c.customer_id, "tier": c.tier, "at_risk": c.at_risk, "data": data}


def _rules(result: AnalyticsResult):
    for r in result.rules:
        yield {"antecedent": list(r.antecedent), "consequent": list(r.consequent), "support": r.support,
               "confidence": r.confidence, "lift": r.lift, "count": r.count}


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at else "unfinished"


class AnalyticsSchedule:
    """Runs the job every ``settings.analytics_interval`` seconds while this process leads."""

    def __init__(self, repo: Any, settings: Settings, is_leader: Callable[[], bool], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.repo, self.settings, self.is_leader, self.clock = repo, settings, is_leader, clock

    async def due(self) -> bool:
        if not self.is_leader():
            return False
        latest, _ = await self.repo.analytics_status()
        return latest is None or self.clock() - latest.started_at >= self.settings.analytics_interval

    async def run(self) -> None:
        """Forever, until cancelled; returns at once when no interval is set."""
        if self.settings.analytics_interval <= 0:
            return
        try:
            config = config_from_settings(self.settings)
        except AnalyticsError as e:
            log.error("scheduled analytics off: %s", e)
            return
        while True:
            try:
                if await self.due():
                    outcome = await run_analytics(self.repo, config=config, now=self.clock())
                    log.log(logging.INFO if outcome.ok else logging.ERROR, "%s", outcome.message)
            except Exception:  # noqa: BLE001 - a periodic job must survive a bad pass
                log.exception("analytics schedule pass failed")
            await asyncio.sleep(min(60.0, max(1.0, self.settings.analytics_interval)))


async def main(settings: Settings, action: str) -> int:
    """``otodesk analytics run|status``: 0 on success, 1 when the run failed, 2 for a bad setting."""
    import sys

    from desktop.repository.migrate import upgrade_database_async
    from desktop.repository.repository import Repository

    try:
        config = config_from_settings(settings)
    except AnalyticsError as e:
        print(f"otodesk: {e}", file=sys.stderr)
        return 2
    await upgrade_database_async(settings.effective_database_url)
    async with Repository.open(settings.effective_database_url) as repo:
        if action == "status":
            latest, current = await repo.analytics_status()
            if latest is None:
                print("no analytics run yet")
                return 0
            print(f"last run {latest.id}: {latest.status} ({_when(latest.started_at)})"
                  + (f": {latest.error}" if latest.error else ""))
            print(f"results in use: run {current.id} ({_when(current.finished_at)})" if current
                  else "results in use: none")
            return 0
        outcome = await run_analytics(repo, config=config)
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    for note in (outcome.summary or {}).get("notes", []):
        print(f"  note: {note}")
    if outcome.summary:
        print("  seconds: " + ", ".join(f"{k} {v}" for k, v in outcome.summary["seconds"].items()))
    return 0 if outcome.ok else 1
