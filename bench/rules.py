"""Matching time per contact: 1,000 published actions against 10,000 customer snapshots.

The catalogue looks like a planner's after a year: cross-sells keyed on a product in the cart
(most of it), up-sells by tier and category, retention offers on lapsing customers, service
actions on the topic or the words of the message, information by segment and time of day;
each action with one to three conditions, queues, a validity window, a contact policy. The
snapshots are customers with 0-4 products in the cart, a tier, a history of impressions.

Figures, per contact (one ``Catalogue.match``), on one core, in the same run:

- ``compiled``: the published catalogue as every process holds it (conditions parsed once,
  actions indexed by the fact their first condition needs), as the desk calls it
  (``explain=False``);
- ``explain``: the same with every exclusion explained (the planner's "test a customer");
- ``no_index``: compiled, but every action's conditions evaluated (what the index buys);
- ``naive``: every condition parsed again at every match (``rule_engine.Rule(text)``), on a
  sample of contacts, and its ratio to ``compiled``.

    .venv/bin/python -m bench.rules [--actions N] [--snapshots N] [--naive N] [--seed S]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time

import rule_engine

from bench.common import summary
from desktop.rules import (
    Action, Catalogue, ContactPolicy, Impression, Outcome, Snapshot, snapshot_context,
)
from desktop.rules.conditions import rule_context
from desktop.rules.snapshot import WEEKDAYS

NOW = 1_800_000_000.0
DAY = 86400.0
QUEUES = ("sales", "support", "billing", "fr")
TIERS = ("standard",) * 6 + ("silver",) * 3 + ("gold", "platinum")
SEGMENTS = ("champions", "loyal", "promising", "new", "at_risk", "hibernating", "cant_lose")
TOPICS = ("", "", "billing", "delivery", "returns", "product question", "warranty")
MESSAGES = ("", "", "where is my order", "I want a refund", "my laptop arrived broken", "which size fits me",
            "URGENT card charged twice")
CATEGORIES = tuple(f"cat-{n}" for n in range(40))
SKUS = tuple(f"sku-{n:04d}" for n in range(600))
CATEGORY_OF = {sku: CATEGORIES[n % len(CATEGORIES)] for n, sku in enumerate(SKUS)}


def catalogue_actions(count: int, rng: random.Random) -> list[Action]:
    actions = []
    for n in range(count):
        pick = rng.random()
        queues = tuple(rng.sample(QUEUES, rng.randint(1, 2))) if rng.random() < 0.6 else ()
        policy = ContactPolicy(max_impressions=rng.choice((None, 2, 3, 5)), window_days=rng.choice((7, 30)),
                               refusal_days=rng.choice((None, 30, 90)))
        window = {}
        if rng.random() < 0.2:  # a campaign
            start = NOW - rng.uniform(0, 60) * DAY
            window = {"valid_from": start, "valid_until": start + rng.uniform(10, 90) * DAY}
        common = dict(id=f"a{n:04d}", title=f"Action {n}", value=rng.choice((10.0, 25.0, 60.0, 120.0)),
                      lever=rng.choice((1.0, 1.0, 1.5)), priority=rng.choice((1.0, 2.0)), queues=queues,
                      policy=policy, script="{first_name|Hello}, {product} goes well with {cart_names|your cart}.",
                      product_name=f"Product {n}", **window)
        if pick < 0.55:  # cross-sell on a product in the cart
            sku, other = rng.sample(SKUS, 2)
            eligibility = f"spend_365d > {rng.choice((0, 100, 500))}" if rng.random() < 0.3 else ""
            actions.append(Action(kind="cross-sell", eligibility=eligibility,
                                  applicability=f'"{sku}" in cart_skus and cart_total > {rng.choice((20, 50, 200))}',
                                  suitability=f'not ("{other}" in owned)', product_sku=other, **common))
        elif pick < 0.70:  # up-sell by tier and category
            tier = rng.choice(("gold", "platinum", "silver"))
            eligibility = f'tier == "{tier}"' if rng.random() < 0.7 else 'tier == "gold" or tier == "platinum"'
            actions.append(Action(kind="up-sell", eligibility=eligibility,
                                  applicability=f'"{rng.choice(CATEGORIES)}" in cart_categories and cart_total >= 300',
                                  **common))
        elif pick < 0.80:  # retention
            if rng.random() < 0.5:
                eligibility = f"orders >= 2 and days_since_last_order > {rng.choice((60, 90, 120, 180))}"
            else:
                eligibility = f"at_risk and p_alive < {rng.choice((0.3, 0.5, 0.7))}"
            actions.append(Action(kind="retention", eligibility=eligibility, suitability="open_issues == 0",
                                  **common))
        elif pick < 0.90:  # service
            if rng.random() < 0.6:
                applicability = f'topic == "{rng.choice(TOPICS[2:])}" and previous_contacts >= 0'
            else:
                applicability = rng.choice(('message =~ ".*(refund|money back).*"', 'message =~ ".*broken.*"',
                                            'message =~ "(?i).*urgent.*"'))
            actions.append(Action(kind="service", applicability=applicability, **common))
        else:  # information by segment and moment
            actions.append(Action(kind="information", eligibility=f'"{rng.choice(SEGMENTS)}" in segments',
                                  applicability=rng.choice(('hour >= 18 or weekday in ["sat", "sun"]',
                                                            "hour < 12", 'context&["campaign"] == "spring"')),
                                  **common))
    return actions


def snapshots(count: int, rng: random.Random) -> list[tuple[Snapshot, str, list[Impression]]]:
    out = []
    for n in range(count):
        cart = rng.sample(SKUS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
        orders = rng.choice((0, 0, 1, 2, 3, 5, 8, 13))
        snapshot = Snapshot(
            customer_id=f"c{n}", first_name=rng.choice(("", "Mei", "Oskar", "Ana", "Lena")),
            tier=rng.choice(TIERS), segments=tuple(rng.sample(SEGMENTS, rng.randint(0, 2))),
            spend_30d=rng.uniform(0, 300), spend_90d=rng.uniform(0, 900), spend_365d=rng.uniform(0, 3000),
            orders=float(orders), days_since_last_order=-1.0 if not orders else float(rng.randint(1, 400)),
            scored=True, at_risk=rng.random() < 0.2, p_alive=rng.random(), rfm_segment=rng.choice(SEGMENTS),
            owned=tuple(rng.sample(SKUS, rng.randint(0, 6))), cart_skus=tuple(cart),
            cart_categories=tuple({CATEGORY_OF[s] for s in cart}), cart_names=tuple(f"Product {s}" for s in cart),
            cart_total=float(sum(rng.uniform(10, 400) for _ in cart)), cart_items=float(len(cart)),
            context={"campaign": "spring"} if rng.random() < 0.3 else {},
            topic=rng.choice(TOPICS), message=rng.choice(MESSAGES), queue=rng.choice(QUEUES),
            previous_contacts=float(rng.randint(0, 6)), open_issues=float(rng.random() < 0.1),
            hour=float(rng.randint(0, 23)), weekday=rng.choice(WEEKDAYS))
        history = [Impression(action_id=f"a{rng.randrange(1000):04d}", contact_id=f"k{n}-{i}",
                              at=NOW - rng.uniform(0, 60) * DAY,
                              outcome=rng.choice((Outcome.SHOWN, Outcome.SHOWN, Outcome.ACCEPTED, Outcome.DECLINED)))
                   for i in range(rng.randint(0, 5))]
        out.append((snapshot, snapshot.queue, history))
    return out


def naive_match(actions: list[Action], snapshot: Snapshot, queue: str) -> list[str]:
    """Every condition parsed at every match: what compiling once saves."""
    context = snapshot_context(snapshot)
    shown = []
    for action in actions:
        if action.queues and queue not in action.queues:
            continue
        ok = True
        for text in (action.eligibility, action.applicability, action.suitability):
            if text and ok:
                try:
                    ok = bool(rule_engine.Rule(text, context=rule_context()).evaluate(context))
                except rule_engine.EngineError:
                    ok = False
        if ok:
            shown.append(action.id)
    return shown


def timed(catalogue: Catalogue, contacts, *, explain: bool) -> tuple[list[float], int, int]:
    samples, errors, timeouts = [], 0, 0
    for snapshot, queue, history in contacts:
        start = time.perf_counter()
        decision = catalogue.match(snapshot, history, now=NOW, queue=queue, explain=explain, budget=None)
        samples.append((time.perf_counter() - start) * 1000)
        errors += decision.errors
        timeouts += decision.timed_out
    return samples, errors, timeouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=1_000)
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=20, help="contacts matched naively (each takes ~0.5 s)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    actions = catalogue_actions(args.actions, rng)
    contacts = snapshots(args.snapshots, rng)

    start = time.perf_counter()
    catalogue = Catalogue.compile(actions, version=1)
    compile_s = time.perf_counter() - start
    unindexed = Catalogue.compile(actions, version=1, index=False)
    guarded = sum(1 for item in catalogue.actions if item.guard is not None)

    # The same decisions with and without the index, on a sample (the index only skips work).
    for snapshot, queue, history in contacts[:300]:
        one = catalogue.match(snapshot, history, now=NOW, queue=queue, budget=None)
        two = unindexed.match(snapshot, history, now=NOW, queue=queue, budget=None)
        assert one.suggestions == two.suggestions, "the index changed a decision"
        assert sorted((e.action_id, e.stage) for e in one.excluded) == \
            sorted((e.action_id, e.stage) for e in two.excluded), "the index changed an explanation"

    gc.collect()
    gc.freeze()  # as the app does after start-up
    compiled, errors, timeouts = timed(catalogue, contacts, explain=False)
    explained, _, _ = timed(catalogue, contacts, explain=True)
    no_index, _, _ = timed(unindexed, contacts[: max(1, len(contacts) // 5)], explain=False)
    naive = []
    for snapshot, queue, _history in contacts[: args.naive]:
        start = time.perf_counter()
        naive_match(actions, snapshot, queue)
        naive.append((time.perf_counter() - start) * 1000)

    c, e, u, n = summary(compiled), summary(explained), summary(no_index), summary(naive)
    print(f"{args.actions} actions ({guarded} indexed by a fact, {args.actions - guarded} evaluated at every "
          f"match), compiled in {compile_s:.2f} s; {args.snapshots} snapshots")
    print(f"compiled (the desk)        p50 {c['p50']:.3f} ms  p99 {c['p99']:.3f} ms  max {c['max']:.2f} ms")
    print(f"compiled, explained        p50 {e['p50']:.3f} ms  p99 {e['p99']:.3f} ms")
    print(f"compiled, no index ({u['n']})   p50 {u['p50']:.3f} ms  p99 {u['p99']:.3f} ms")
    print(f"naive, parsed each time ({n['n']}) p50 {n['p50']:.1f} ms  p99 {n['p99']:.1f} ms")
    print(f"naive / compiled (p50): {n['p50'] / c['p50']:.0f}x; no index / compiled: {u['p50'] / c['p50']:.1f}x; "
          f"conditions that raised: {errors}; over budget: {timeouts}")
    print(json.dumps({
        "actions": args.actions, "snapshots": args.snapshots, "indexed_actions": guarded, "compile_s": round(compile_s, 3),
        "compiled_p50_ms": round(c["p50"], 4), "compiled_p99_ms": round(c["p99"], 4), "compiled_max_ms": round(c["max"], 3),
        "explained_p50_ms": round(e["p50"], 4), "explained_p99_ms": round(e["p99"], 4),
        "no_index_p50_ms": round(u["p50"], 3), "no_index_p99_ms": round(u["p99"], 3),
        "naive_p50_ms": round(n["p50"], 2), "naive_p99_ms": round(n["p99"], 2),
        "naive_over_compiled_p50_ratio": round(n["p50"] / c["p50"], 1),
        "no_index_over_compiled_p50_ratio": round(u["p50"] / c["p50"], 2),
        "errors_count": errors, "timeouts_count": timeouts,
    }))


if __name__ == "__main__":
    main()
