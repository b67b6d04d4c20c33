"""The customer snapshot the business rules read, built from the contact card and the repository.

:func:`snapshot_of` is pure: the card (:func:`desktop.contacts.card.contact_card`),
the customer's orders, their analytics scores and the product association rules
in, one :class:`desktop.rules.snapshot.Snapshot` out. :class:`SnapshotReader` does
the reading: two indexed queries a contact (orders, scores); the association rules
and the products' categories change rarely and are kept for a minute.
"""

from __future__ import annotations

import datetime
import json
import time
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from desktop.analytics.associations import Rule, associated_with
from desktop.contacts.card import CONTACT_KINDS, open_issues
from desktop.repository.analytics import CustomerScoreRecord, RuleRecord
from desktop.repository.records import OrderRecord, ProductRecord
from desktop.repository.repository import Repository
from desktop.rules.snapshot import WEEKDAYS, Snapshot

__all__ = ["snapshot_of", "customer_snapshot", "SnapshotReader", "cart_lines", "cart_skus", "SPEND_PERIODS", "ORDERS_READ"]

DAY = 86400.0
#: Spend is summed over each of these periods (days), as ``spend.d30`` and so on.
SPEND_PERIODS = (30, 90, 365)
#: Orders in these states are not purchases (as for the tier).
NOT_SPENT = frozenset({"cancelled", "refunded"})
ORDERS_READ = 200
PREVIOUS_READ = 25
MAX_CART_LOOKUPS = 20
MAX_PRODUCTS_KEPT = 5000
ASSOCIATED = 5
KEPT_FOR = 60.0  # seconds: association rules change once per analytics run, products rarely
#: Timeline kinds that each stand for one contact (a callback's other events don't count again).
ONE_PER_CONTACT = frozenset({"callback_requested", "call", "email", "chat", "store_visit", "meeting",
                             "inbound_call"})


def cart_lines(context: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """(sku, name, quantity) of each line of ``context.cart``; the sku is the line's
    ``sku``, ``slug`` or ``id`` (the demo shop sends its product slugs)."""
    cart = context.get("cart")
    if not isinstance(cart, list):
        return []
    lines: list[tuple[str, str, float]] = []
    for line in cart:
        if isinstance(line, str):
            sku, name, qty = line, "", 1.0
        elif isinstance(line, Mapping):
            sku = str(line.get("sku") or line.get("slug") or line.get("id") or "")
            name = str(line.get("name") or "")
            raw = line.get("qty", line.get("quantity", 1))
            qty = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0 else 1.0
        else:
            continue
        if sku:
            lines.append((sku, name, qty))
    return lines


def cart_skus(context: Mapping[str, Any]) -> list[str]:
    """The distinct skus in the cart, in the cart's order."""
    return list(dict.fromkeys(sku for sku, _name, _qty in cart_lines(context)))


def _cart_total(context: Mapping[str, Any]) -> float:
    total = context.get("cart_total")
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        return float(total)
    value = 0.0
    for line in context.get("cart") or []:
        if isinstance(line, Mapping):
            price, qty = line.get("price"), line.get("qty", line.get("quantity", 1))
            if isinstance(price, (int, float)) and isinstance(qty, (int, float)):
                value += price * qty
    return value


def _first_name(name: str | None) -> str:
    return (name or "").strip().split(" ")[0] if name and name.strip() else ""


def _order_skus(order: OrderRecord) -> list[str]:
    return [str(item["sku"]) for item in order.items if isinstance(item, Mapping) and item.get("sku")]


def snapshot_of(card: Mapping[str, Any], *, orders: Sequence[OrderRecord] = (),
                score: CustomerScoreRecord | None = None, rules: Iterable[RuleRecord] = (),
                products: Mapping[str, ProductRecord] | None = None,
                now: float, zone: str = "UTC") -> Snapshot:
    """What the rules may know about the customer of ``card`` at ``now`` (epoch seconds).

    ``card``: a contact card (:func:`desktop.contacts.card.contact_card`), or any mapping
    with some of its keys; ``orders``: the customer's, any status; ``score``: their latest
    analytics scores, or None (``scored`` is then False); ``rules``: the association
    rules, for the products associated with the cart; ``products``: the catalogue by sku,
    for the cart's categories; ``zone``: the contact centre's IANA time zone.
    """
    customer = card.get("customer") or {}
    callback = card.get("callback") or {}
    context = card.get("context") or {}
    spent = sorted((o for o in orders if o.status not in NOT_SPENT), key=lambda o: o.placed_at, reverse=True)
    owned: list[str] = []
    for order in spent:
        for sku in _order_skus(order):
            if sku not in owned:
                owned.append(sku)
    lines = cart_lines(context)
    cart = [sku for sku, _name, _qty in lines]
    products = products or {}
    categories = []
    for sku in cart:
        category = products[sku].category if sku in products else ""
        if category and category not in categories:
            categories.append(category)
    associated = [sku for sku, _rule in associated_with(
        cart, (Rule(tuple(r.antecedent), tuple(r.consequent), r.support, r.confidence, r.lift, r.count)
               for r in rules), limit=ASSOCIATED)] if cart else []
    scores: dict[str, Any] = {}
    if score is not None:
        data = score.data
        period = float((score.run.config or {}).get("period_days") or 365.0)
        trend = str(data.get("trend") or "")
        recency, frequency, monetary = (data.get("rfm_scores") or (0, 0, 0))[:3]
        scores = dict(
            scored=True, rfm_segment=score.tier, at_risk=bool(score.at_risk),
            rfm_recency=float(recency), rfm_frequency=float(frequency), rfm_monetary=float(monetary),
            previous_tier=str(data.get("previous_tier") or ""), tier_trend=trend,
            at_risk_reason="; ".join(str(r) for r in data.get("reasons", [])),
            p_alive=float(data.get("p_alive") or 0.0),
            expected_purchases_90d=float(data.get("expected_purchases") or 0.0) * 90.0 / period,
            recommended=tuple(str(r) for r in data.get("recommendations", [])),
            segments=tuple(s for s in (score.tier, f"trend:{trend}" if trend else "",
                                       "at-risk" if score.at_risk else "") if s),
        )
    previous = card.get("previous") or []
    dispositions = tuple(d for e in previous if (d := (e.get("data") or {}).get("disposition")))
    page = card.get("page") or {}
    local = datetime.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(zone))
    name = customer.get("name") or callback.get("name") or ""
    last = spent[0].placed_at if spent else None
    return Snapshot(
        customer_id=customer.get("id") or "", first_name=_first_name(name), name=name,
        tier=customer.get("tier") or callback.get("tier") or "standard",
        **{f"spend_{days}d": sum(o.total_cents for o in spent if o.placed_at >= now - days * DAY) / 100.0
           for days in SPEND_PERIODS},
        orders=float(len(spent)),
        days_since_last_order=max(0.0, (now - last) / DAY) if last is not None else -1.0,
        **scores,
        associated=tuple(associated), owned=tuple(owned),
        cart_skus=tuple(cart), cart_categories=tuple(categories),
        cart_names=tuple(n for _sku, n, _qty in lines if n),
        cart_total=_cart_total(context), cart_items=float(sum(qty for _sku, _name, qty in lines)),
        context={str(k): _text(v) for k, v in context.items() if k not in ("cart", "cart_total")},
        page_url=page.get("url") or "", page_title=page.get("title") or "",
        trail=tuple(entry.get("url", "") for entry in reversed(card.get("trail") or [])),
        queue=callback.get("queue") or "", topic=callback.get("topic") or "",
        message=callback.get("message") or "", channel=callback.get("channel") or "",
        previous_contacts=float(sum(1 for e in previous if e.get("kind") in ONE_PER_CONTACT)),
        dispositions=dispositions, last_disposition=dispositions[0] if dispositions else "",
        open_issues=float(len(card.get("open_issues") or [])),
        hour=float(local.hour), weekday=WEEKDAYS[local.weekday()],
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)[:500]


class SnapshotReader:
    """Reads what :func:`snapshot_of` needs for one card; keeps rules and products a minute."""

    def __init__(self, repo: Repository, *, zone: str = "UTC", clock=time.time):
        zoneinfo.ZoneInfo(zone)  # an unknown zone fails here, at start-up, not at the first offer
        self.repo = repo
        self.zone = zone
        self.clock = clock
        self._rules: tuple[float, list[RuleRecord]] | None = None
        self._products: dict[str, tuple[float, ProductRecord | None]] = {}

    async def snapshot(self, card: Mapping[str, Any], *, now: float | None = None,
                       orders: Sequence[OrderRecord] | None = None,
                       score: CustomerScoreRecord | None = None) -> Snapshot:
        """The snapshot of ``card``'s customer; ``orders`` and ``score`` when the caller read
        them already (None: read here)."""
        now = self.clock() if now is None else now
        customer_id = (card.get("customer") or {}).get("id")
        if orders is None:
            orders = []
            if customer_id:
                orders = await self.repo.customer_orders(customer_id, limit=ORDERS_READ)
                score = await self.repo.customer_score(customer_id)
        cart = cart_skus(card.get("context") or {})
        rules = await self._association_rules(now) if cart else []
        products = {sku: p for sku in cart[:MAX_CART_LOOKUPS] if (p := await self._product(sku, now))}
        return snapshot_of(card, orders=orders, score=score, rules=rules, products=products,
                           now=now, zone=self.zone)

    async def _association_rules(self, now: float) -> list[RuleRecord]:
        if self._rules is None or now - self._rules[0] > KEPT_FOR:
            self._rules = (now, await self.repo.product_rules())
        return self._rules[1]

    async def _product(self, sku: str, now: float) -> ProductRecord | None:
        kept = self._products.get(sku)
        if kept is None or now - kept[0] > KEPT_FOR:
            if len(self._products) > MAX_PRODUCTS_KEPT:
                self._products.clear()
            kept = self._products[sku] = (now, await self.repo.get_product(sku))
        return kept[1]


async def customer_snapshot(repo: Repository, customer_id: str | None, *, now: float,
                            contact: Mapping[str, Any] | None = None, zone: str = "UTC") -> Snapshot | None:
    """The snapshot of ``customer_id`` at ``now`` (None for an unknown customer), for the
    planner's "test a customer" panel and the like.

    ``contact``: a contact card, or the contact's own keys (``queue``, ``topic``, ``message``,
    ``channel``, ``page``, ``trail``, ``context``) when there is no card.
    """
    card: dict[str, Any] = dict(contact or {})
    if "callback" not in card:
        card["callback"] = {key: card[key] for key in ("queue", "topic", "message", "channel") if key in card}
    if customer_id:
        customer = await repo.resolve_customer(customer_id)
        if customer is None:
            return None
        card["customer"] = {"id": customer.id, "name": customer.name, "email": customer.email,
                            "tier": customer.tier}
        if "previous" not in card:
            history = await repo.customer_timeline(customer.id, limit=PREVIOUS_READ, kinds=CONTACT_KINDS)
            card["previous"] = [{"kind": e.kind, "at": e.at, "data": e.data or {}} for e in history.events]
            card["open_issues"] = open_issues(history.events)
    return await SnapshotReader(repo, zone=zone, clock=lambda: now).snapshot(card, now=now)
