"""The matcher, stage by stage: what is suggested, in what order, and why the rest is not."""

import itertools

import pytest

from desktop.rules import (
    Action, Catalogue, CatalogueSettings, ConditionError, ContactPolicy, Impression, Outcome, Push, PushKind,
    Snapshot, Stage,
)

DAY = 86400.0
NOW = 1_800_000_000.0
LAPTOP = "aurora-laptop-14"


def action(id, **fields) -> Action:
    return Action(id=id, kind=fields.pop("kind", "cross-sell"), title=fields.pop("title", id.title()), **fields)


def stages(decision) -> dict[str, Stage]:
    return {e.action_id: e.stage for e in decision.excluded}


def shown(decision) -> list[str]:
    return [s.action_id for s in decision.suggestions]


def test_each_stage_drops_its_action_and_says_so():
    catalogue = Catalogue.compile([
        action("off", enabled=False),
        action("billing-only", queues=("billing",)),
        action("expired", valid_until=NOW - 1),
        action("not-yet", valid_from=NOW + 1),
        action("gold-only", eligibility='tier == "gold"'),
        action("needs-laptop", applicability=f'"{LAPTOP}" in cart_skus'),
        action("rich-only", suitability="spend_365d > 5000"),
        action("declined", policy=ContactPolicy(refusal_days=30)),
        action("ok"),
    ], version=4)
    history = [Impression(action_id="declined", contact_id="c0", at=NOW - 2 * DAY, outcome=Outcome.DECLINED)]
    decision = catalogue.match(Snapshot(tier="silver"), history, now=NOW, queue="sales")
    assert shown(decision) == ["ok"] and decision.version == 4
    assert stages(decision) == {
        "off": Stage.DISABLED, "billing-only": Stage.QUEUE, "expired": Stage.VALIDITY, "not-yet": Stage.VALIDITY,
        "gold-only": Stage.ELIGIBILITY, "needs-laptop": Stage.APPLICABILITY, "rich-only": Stage.SUITABILITY,
        "declined": Stage.CONTACT_POLICY,
    }
    reasons = {e.action_id: e.reason for e in decision.excluded}
    assert "billing" in reasons["billing-only"] and "sales" in reasons["billing-only"]
    assert "gold" in reasons["gold-only"] and "spend_365d > 5000" in reasons["rich-only"]
    assert "declined 2 days ago" in reasons["declined"]


def test_the_first_failing_stage_is_the_one_named():
    catalogue = Catalogue.compile([action("both", eligibility='tier == "gold"',
                                          applicability=f'"{LAPTOP}" in cart_skus')])
    assert stages(catalogue.match(Snapshot(), now=NOW))["both"] == Stage.ELIGIBILITY
    assert stages(catalogue.match(Snapshot(tier="gold"), now=NOW))["both"] == Stage.APPLICABILITY
    assert shown(catalogue.match(Snapshot(tier="gold", cart_skus=(LAPTOP,)), now=NOW)) == ["both"]


def test_no_queue_given_means_no_queue_filter():
    catalogue = Catalogue.compile([action("billing-only", queues=("billing",))])
    assert shown(catalogue.match(Snapshot(), now=NOW, queue=None)) == ["billing-only"]
    assert shown(catalogue.match(Snapshot(), now=NOW, queue="billing")) == ["billing-only"]


def test_arbitration_ranks_by_priority_value_and_lever_then_specificity_then_order():
    catalogue = Catalogue.compile([
        action("cheap", value=10),
        action("lever", value=10, lever=3),             # 30
        action("priority", value=10, priority=2),       # 20
        action("specific", value=10, eligibility='tier == "gold" and spend_90d > 0'),  # 10, 2 clauses
        action("later-twin", value=10),
    ], settings=CatalogueSettings(max_per_contact=5))
    decision = catalogue.match(Snapshot(tier="gold", spend_90d=5.0), now=NOW, limit=5)
    assert shown(decision) == ["lever", "priority", "specific", "cheap", "later-twin"]
    assert [s.score for s in decision.suggestions] == [30, 20, 10, 10, 10]


def test_at_most_the_global_limit_and_the_rest_is_excluded_by_arbitration():
    catalogue = Catalogue.compile([action(f"a{i}", value=10 - i) for i in range(6)],
                                  settings=CatalogueSettings(max_per_contact=2))
    decision = catalogue.match(Snapshot(), now=NOW, limit=3)
    assert shown(decision) == ["a0", "a1"]
    assert [e.stage for e in decision.excluded] == [Stage.ARBITRATION] * 4
    assert "ranked 3" in decision.excluded[0].reason


def test_impressions_cap_per_window_and_the_current_contact_does_not_count():
    catalogue = Catalogue.compile([action("capped", policy=ContactPolicy(max_impressions=2, window_days=7))])
    old = Impression(action_id="capped", contact_id="c0", at=NOW - 8 * DAY)
    recent = [Impression(action_id="capped", contact_id=f"c{i}", at=NOW - i * DAY) for i in (1, 2)]
    assert shown(catalogue.match(Snapshot(), [old, recent[0]], now=NOW)) == ["capped"]
    decision = catalogue.match(Snapshot(), [old, *recent], now=NOW)
    assert stages(decision) == {"capped": Stage.CONTACT_POLICY}
    assert "at most 2" in decision.excluded[0].reason
    # Matching again during contact c1 (the cart changed) keeps what it showed.
    assert shown(catalogue.match(Snapshot(), [old, *recent], now=NOW, contact_id="c1")) == ["capped"]


def test_a_refusal_blocks_for_its_days_then_no_more():
    catalogue = Catalogue.compile([action("once", policy=ContactPolicy(refusal_days=30))])
    declined = [Impression(action_id="once", contact_id="c0", at=NOW - 31 * DAY, outcome=Outcome.DECLINED)]
    assert shown(catalogue.match(Snapshot(), declined, now=NOW)) == ["once"]
    assert shown(catalogue.match(Snapshot(), declined, now=NOW - 2 * DAY)) == []


def test_a_rule_that_raises_is_skipped_and_counted_never_the_offer():
    catalogue = Catalogue.compile([
        action("breaks", eligibility='context["campaign"] == "spring"'),  # a missing key raises
        action("fine"),
    ])
    decision = catalogue.match(Snapshot(), now=NOW)
    assert shown(decision) == ["fine"] and decision.errors == 1
    assert stages(decision) == {"breaks": Stage.ERROR}


def test_the_script_is_filled_with_fallbacks_and_never_shows_braces():
    catalogue = Catalogue.compile([action(
        "bag", product_name="Voyager Laptop Bag", product_sku="voyager-laptop-bag",
        push=Push(kind=PushKind.PAGE, target="/shop/products/voyager-laptop-bag"),
        script="Hello {first_name|there}! {product} fits your {cart_names|laptop}. {context.campaign|}"
               " You spent {spend_90d} lately.")])
    anonymous = catalogue.match(Snapshot(spend_90d=12.5), now=NOW).suggestions[0]
    assert anonymous.script == "Hello there! Voyager Laptop Bag fits your laptop.  You spent 12.50 lately."
    known = catalogue.match(Snapshot(first_name="Ada", cart_names=("Aurora Laptop 14",), spend_90d=1299.0,
                                     context={"campaign": "Spring!"}), now=NOW).suggestions[0]
    assert known.script == "Hello Ada! Voyager Laptop Bag fits your Aurora Laptop 14. Spring! You spent 1299 lately."
    assert known.push.target.endswith("voyager-laptop-bag") and known.product_sku == "voyager-laptop-bag"


def test_a_bad_catalogue_does_not_compile_and_names_the_action():
    with pytest.raises(ConditionError) as caught:
        Catalogue.compile([action("ok"), action("bad", suitability="spend_90d >")])
    assert caught.value.action_id == "bad" and caught.value.field == "suitability"
    with pytest.raises(ConditionError):
        Catalogue.compile([action("bad-script", script="Hi {frist_name}")])
    with pytest.raises(ValueError, match="two actions"):
        Catalogue.compile([action("twin"), action("twin")])


def test_over_budget_falls_back_to_the_last_result_and_says_so():
    catalogue = Catalogue.compile([action(f"a{i}") for i in range(20)], version=2)
    last = catalogue.match(Snapshot(), now=NOW)
    ticks = itertools.count(step=1.0)  # every clock read is a second later
    decision = catalogue.match(Snapshot(), now=NOW, budget=0.5, fallback=last, clock=lambda: next(ticks))
    assert decision.timed_out and shown(decision) == shown(last)
    assert catalogue.match(Snapshot(), now=NOW, budget=0.5, clock=lambda: next(ticks)).suggestions == []


def test_the_index_skips_actions_without_changing_the_answer():
    actions = [action(f"sku{i}", applicability=f'"p{i}" in cart_skus and cart_total > {i}') for i in range(50)]
    actions += [action("gold", eligibility='tier == "gold"'), action("risk", eligibility="at_risk")]
    catalogue = Catalogue.compile(actions)
    snapshot = Snapshot(cart_skus=("p3", "p7"), cart_total=5.0, tier="gold", at_risk=False)
    decision = catalogue.match(snapshot, now=NOW, limit=10)
    assert sorted(shown(decision)) == ["gold", "sku3"]
    assert len(decision.excluded) == len(actions) - 2
    assert "'p0' is not in cart_skus" in next(e.reason for e in decision.excluded if e.action_id == "sku0")
    assert "cart_total > 7" in next(e.reason for e in decision.excluded if e.action_id == "sku7")
    assert stages(decision)["risk"] == Stage.ELIGIBILITY
    quiet = catalogue.match(snapshot, now=NOW, limit=10, explain=False)
    assert shown(quiet) == shown(decision) and {e.action_id for e in quiet.excluded} == {"sku7"}


def test_the_empty_catalogue_suggests_nothing():
    decision = Catalogue.empty().match(Snapshot(), now=NOW)
    assert decision.suggestions == [] and decision.excluded == [] and decision.version == 0


def test_a_guard_in_a_later_stage_still_names_the_first_stage_that_fails():
    catalogue = Catalogue.compile([action("late", eligibility="spend_365d > 100",
                                          applicability='"p1" in cart_skus', suitability='not ("p2" in owned)')])
    assert catalogue.actions[0].guard == ("cart_skus", "p1")
    assert stages(catalogue.match(Snapshot(), now=NOW))["late"] == Stage.ELIGIBILITY
    assert stages(catalogue.match(Snapshot(spend_365d=200.0), now=NOW))["late"] == Stage.APPLICABILITY
    assert stages(catalogue.match(Snapshot(spend_365d=200.0, cart_skus=("p1",), owned=("p2",)),
                                  now=NOW))["late"] == Stage.SUITABILITY
    assert shown(catalogue.match(Snapshot(spend_365d=200.0, cart_skus=("p1",)), now=NOW)) == ["late"]
    assert catalogue.match(Snapshot(), now=NOW, explain=False).excluded == []  # skipped unexplained
