"""Analytics results, versioned by run: what the job stores and the desk reads.

A run is written in two steps: :meth:`Analytics.start_analytics_run` records
that it began; then either :meth:`~Analytics.finish_analytics_run` stores every
score and rule and marks it ``succeeded`` in one transaction, or
:meth:`~Analytics.fail_analytics_run` marks it ``failed`` with the reason.
Readers only ever see the latest succeeded run, so a run that fails (or dies
half-way) leaves the previous results in place; :meth:`analytics_status` says
so. Only the last :data:`KEEP_RUNS` succeeded runs keep their rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Table, Text, cast, delete, select, update
from sqlalchemy.engine import Connection

from desktop.analytics.orders import Order
from desktop.repository import models
from desktop.repository._store import CUSTOMERS, ORDERS, Store
from desktop.repository.errors import NotFound
from desktop.repository.identities import canonical_id, group_ids, head_customer
from desktop.repository.records import CustomerRecord

__all__ = ["Analytics", "AnalyticsRunRecord", "CustomerScoreRecord", "RuleRecord", "KEEP_RUNS"]

RUNS: Table = models.AnalyticsRun.__table__  # type: ignore[assignment]
SCORES: Table = models.CustomerScore.__table__  # type: ignore[assignment]
RULES: Table = models.ProductRule.__table__  # type: ignore[assignment]

#: Succeeded runs whose results are kept (older ones keep only their run row).
KEEP_RUNS = 3
#: Orders in these states are not purchases (as for the tier in :mod:`.commerce`).
NOT_SPENT = ("cancelled", "refunded")
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class AnalyticsRunRecord:
    id: int
    started_at: float
    finished_at: float | None
    status: str
    model_version: str
    config: dict[str, Any]
    summary: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True, slots=True)
class CustomerScoreRecord:
    run: AnalyticsRunRecord
    customer_id: str
    tier: str
    at_risk: bool
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RuleRecord:
    antecedent: list[str]
    consequent: list[str]
    support: float
    confidence: float
    lift: float
    count: int


class Analytics(Store):
    async def analytics_orders(self, *, since: float | None = None) -> list[Order]:
        """Every order (placed at or after ``since``) under its customer's group head.

        Cancelled orders are left out; refunded ones come back with a negative value;
        ``items`` are the skus of the order's lines.
        """
        return await self._db.read(_orders, since)

    async def start_analytics_run(self, *, now: float, model_version: str,
                                  config: Mapping[str, Any]) -> int:
        """Record that a run began; return its id."""
        return await self._db.write(lambda conn: conn.execute(RUNS.insert().values(
            started_at=now, status="running", model_version=model_version, config=dict(config),
        ).returning(RUNS.c.id)).scalar_one())

    async def finish_analytics_run(self, run_id: int, *, now: float, summary: Mapping[str, Any],
                                   scores: Iterable[Mapping[str, Any]],
                                   rules: Iterable[Mapping[str, Any]]) -> None:
        """Store a run's results and mark it succeeded, all or nothing.

        ``scores``: ``{"customer_id", "tier", "at_risk", "data"}``; ``rules``: the
        columns of :class:`RuleRecord`, strongest first.
        """
        await self._db.write(_finish, run_id, now, dict(summary), list(scores), list(rules))

    async def fail_analytics_run(self, run_id: int, *, now: float, error: str) -> None:
        await self._db.write(lambda conn: conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(
            status="failed", finished_at=now, error=error[:2000])))

    async def analytics_status(self) -> tuple[AnalyticsRunRecord | None, AnalyticsRunRecord | None]:
        """The latest run (of any status) and the latest succeeded one."""
        return await self._db.read(_status)

    async def customer_score(self, customer_id: str) -> CustomerScoreRecord | None:
        """The customer's (group's) scores in the latest succeeded run, or None.

        Raises :class:`NotFound` for an unknown customer.
        """
        return await self._db.read(read_customer_score, customer_id)

    async def routing_tier(self, customer_id: str) -> tuple[str, str]:
        """The value tier routing gives the customer's callbacks, and where it comes from:
        ``(tier, "analytics")``, the latest succeeded run's tier when that run scored the
        customer (or their group), else ``(tier, "spend")``, the tier from 365 days of spend
        kept on the customer. ``("standard", "none")`` for an unknown customer."""
        _head, tier, source = await self.routing_customer(customer_id)
        return tier, source

    async def routing_customer(self, customer_id: str) -> tuple[CustomerRecord | None, str, str]:
        """:meth:`resolve_customer` and :meth:`routing_tier` in one call, as a ``call_me`` needs
        them: ``(head, tier, source)``, ``(None, "standard", "none")`` for an unknown customer.

        Two statements without a succeeded analytics run (the head's row, the latest run), four
        with one (its group, its scores), instead of five to seven in two calls: the head's row
        already carries the spend tier, and the merge chain is walked once.
        Each statement reads the latest commit (no transaction around them); a run's scores are
        committed with its status, so a run read as succeeded has them.
        """
        return await self._db.read_fast(_routing_customer, customer_id)

    async def product_rules(self) -> list[RuleRecord]:
        """The association rules of the latest succeeded run, strongest first."""
        return await self._db.read(_rules)


class _Line(msgspec.Struct):
    sku: Any = None


_LINES = msgspec.json.Decoder(list[_Line])


def _skus(text: str | None) -> tuple[str, ...]:
    """The skus of an order's items, from their JSON (msgspec: ~5x the stdlib at 1.5 M lines)."""
    if not text:
        return ()
    try:
        lines = _LINES.decode(text)
    except msgspec.DecodeError:  # not the documented shape: take what has a sku
        return tuple(str(i["sku"]) for i in json.loads(text) if isinstance(i, dict) and i.get("sku"))
    return tuple(str(line.sku) for line in lines if line.sku not in (None, ""))


def _orders(conn: Connection, since: float | None) -> list[Order]:
    parents = dict(conn.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.merged_into)
                                .where(CUSTOMERS.c.merged_into.is_not(None))).all())

    def head(cid: str) -> str:
        for _ in range(64):  # identities.MAX_MERGE_DEPTH
            if cid not in parents:
                return cid
            cid = parents[cid]
        raise RuntimeError(f"Merge chain through customer {cid!r} is too long")

    o = ORDERS.c
    # The items as text: decoded here, faster than the driver's generic JSON.
    statement = select(o.customer_id, o.placed_at, o.total_cents, o.status,
                       cast(o["items"], Text)).where(o.status != "cancelled")
    if since is not None:
        statement = statement.where(o.placed_at >= since)
    out = []
    for cid, placed_at, total, status, items in conn.execute(statement.execution_options(yield_per=_BATCH)):
        value = -abs(total) if status == "refunded" else total
        out.append(Order(head(cid) if parents else cid, placed_at, int(value), _skus(items)))
    return out


def _finish(conn: Connection, run_id: int, now: float, summary: dict[str, Any],
            scores: list[dict[str, Any]], rules: list[dict[str, Any]]) -> None:
    for start in range(0, len(scores), _BATCH):
        conn.execute(SCORES.insert(), [dict(s, run_id=run_id) for s in scores[start:start + _BATCH]])
    if rules:
        conn.execute(RULES.insert(), [dict(r, run_id=run_id, position=i) for i, r in enumerate(rules)])
    conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(
        status="succeeded", finished_at=now, summary=summary))
    kept = select(RUNS.c.id).where(RUNS.c.status == "succeeded").order_by(RUNS.c.id.desc()).limit(KEEP_RUNS)
    old = [r for r in conn.execute(select(RUNS.c.id).where(RUNS.c.id.not_in(kept))).scalars()]
    if old:
        conn.execute(delete(SCORES).where(SCORES.c.run_id.in_(old)))
        conn.execute(delete(RULES).where(RULES.c.run_id.in_(old)))


def _run(row: Any) -> AnalyticsRunRecord:
    return AnalyticsRunRecord(**row._mapping)


def _latest_succeeded(conn: Connection) -> AnalyticsRunRecord | None:
    row = conn.execute(select(RUNS).where(RUNS.c.status == "succeeded")
                       .order_by(RUNS.c.id.desc()).limit(1)).first()
    return _run(row) if row is not None else None


def _status(conn: Connection) -> tuple[AnalyticsRunRecord | None, AnalyticsRunRecord | None]:
    row = conn.execute(select(RUNS).order_by(RUNS.c.id.desc()).limit(1)).first()
    return (_run(row) if row is not None else None), _latest_succeeded(conn)


def read_customer_score(conn: Connection, customer_id: str) -> CustomerScoreRecord | None:
    head = canonical_id(conn, customer_id)
    if head is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    run = _latest_succeeded(conn)
    if run is None:
        return None
    return _score_in(conn, run, head)


def _score_in(conn: Connection, run: AnalyticsRunRecord, head: str) -> CustomerScoreRecord | None:
    """The scores of the group headed by ``head`` in ``run``, or None if it scored none of it."""
    # The head's own row; after a merge since the run, the scores of a member.
    members = group_ids(conn, head)
    rows = {r.customer_id: r for r in conn.execute(select(SCORES).where(
        SCORES.c.run_id == run.id, SCORES.c.customer_id.in_(members)))}
    row = rows.get(head) or next((rows[m] for m in members if m in rows), None)
    if row is None:
        return None
    return CustomerScoreRecord(run=run, customer_id=head, tier=row.tier, at_risk=row.at_risk,
                               data=dict(row.data))


def _rules(conn: Connection) -> list[RuleRecord]:
    run = _latest_succeeded(conn)
    if run is None:
        return []
    rows = conn.execute(select(RULES).where(RULES.c.run_id == run.id).order_by(RULES.c.position))
    return [RuleRecord(list(r.antecedent), list(r.consequent), r.support, r.confidence, r.lift, r.count)
            for r in rows]


def _routing_customer(conn: Connection, customer_id: str) -> tuple[CustomerRecord | None, str, str]:
    head = head_customer(conn, customer_id)
    if head is None:
        return None, "standard", "none"
    run = _latest_succeeded(conn)
    score = _score_in(conn, run, head.id) if run is not None else None
    if score is not None:
        return head, score.tier, "analytics"
    return head, head.tier or "standard", "spend"
