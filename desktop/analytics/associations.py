"""Product-to-product association: what is bought together.

Rules are mined with efficient-apriori (a small, maintained, pure-Python
Apriori: no pandas, unlike mlxtend's, and it returns counts with its rules, so a
rule's figures can be checked). A basket is the set of products in one order;
every order counts in the denominator, single-product ones too.

For a rule ``A -> B`` over ``N`` baskets: support = baskets with A and B / N,
confidence = support(A and B) / support(A), lift = confidence / support(B).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from efficient_apriori import apriori

from desktop.analytics.orders import AnalyticsError

__all__ = ["Rule", "baskets_of", "mine_rules", "associated_with"]


@dataclass(frozen=True, slots=True)
class Rule:
    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    support: float
    confidence: float
    lift: float
    #: Baskets holding antecedent and consequent together.
    count: int


def baskets_of(item_lists: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """Each order's distinct products, sorted; orders with none are dropped."""
    return [basket for items in item_lists if (basket := tuple(sorted(set(items))))]


def mine_rules(baskets: Sequence[tuple[str, ...]], *, min_support: float, min_confidence: float = 0.0,
               min_lift: float = 1.0, max_length: int = 3) -> list[Rule]:
    """Every rule with at least these support, confidence and lift, strongest first.

    ``max_length`` bounds the products in a rule (antecedent + consequent).
    Raises :class:`AnalyticsError` for settings outside their range.
    """
    if not 0 < min_support <= 1:
        raise AnalyticsError(f"Minimum support must be in (0, 1], not {min_support!r}")
    if not 0 <= min_confidence <= 1:
        raise AnalyticsError(f"Minimum confidence must be in [0, 1], not {min_confidence!r}")
    if min_lift < 0 or max_length < 2:
        raise AnalyticsError("Minimum lift must be >= 0 and a rule needs at least two products")
    if not baskets:
        return []
    _, found = apriori(list(baskets), min_support=min_support, min_confidence=min_confidence,
                       max_length=max_length)
    rules = [Rule(tuple(r.lhs), tuple(r.rhs), r.support, r.confidence, r.lift, r.count_full)
             for r in found if r.lift >= min_lift]
    rules.sort(key=lambda r: (-r.lift, -r.confidence, -r.support, r.antecedent, r.consequent))
    return rules


def associated_with(cart: Iterable[str], rules: Iterable[Rule], *, limit: int = 5) -> list[tuple[str, Rule]]:
    """Products to suggest for ``cart``: consequents of rules it satisfies, best rule each.

    A rule applies when its whole antecedent is in the cart; products already
    in the cart are never suggested. Ranked by lift, then confidence.
    """
    have = set(cart)
    best: dict[str, Rule] = {}
    for rule in rules:
        if not set(rule.antecedent) <= have:
            continue
        for product in rule.consequent:
            if product in have:
                continue
            current = best.get(product)
            if current is None or (rule.lift, rule.confidence) > (current.lift, current.confidence):
                best[product] = rule
    ranked = sorted(best.items(), key=lambda kv: (-kv[1].lift, -kv[1].confidence, kv[0]))
    return ranked[:limit]
