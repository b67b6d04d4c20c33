"""Properties over generated catalogues, customers and histories.

Matched with no time budget (``budget=None``): these are properties of the decision, and a
loaded CI machine once took over the default 50 ms on a 12-action catalogue, so ``match``
fell back (no exclusions listed) and the property read as broken (test_catalogue.py tests
the budget itself)."""

from hypothesis import given, settings, strategies as st

from desktop.rules import (
    Action, Catalogue, CatalogueSettings, ContactPolicy, Impression, Outcome, Snapshot, Stage, compile_condition,
    snapshot_context,
)

DAY = 86400.0
NOW = 1_800_000_000.0
SKUS = ("p1", "p2", "p3")
TIERS = ("standard", "silver", "gold")
CONDITIONS = ("", 'tier == "gold"', 'tier != "standard"', '"p1" in cart_skus', '"p2" in cart_skus and cart_total > 50',
              "spend_90d > 100", "at_risk", "not at_risk", 'tier == "silver" or "p3" in cart_skus')

actions = st.builds(
    lambda i, eligibility, applicability, value, lever, cap, refusal: Action(
        id=f"a{i}", kind="cross-sell", title=f"A{i}", eligibility=eligibility, applicability=applicability,
        value=value, lever=lever, policy=ContactPolicy(max_impressions=cap, window_days=10, refusal_days=refusal)),
    st.integers(), st.sampled_from(CONDITIONS), st.sampled_from(CONDITIONS),
    st.sampled_from((1.0, 2.0, 5.0)), st.sampled_from((1.0, 2.0)), st.sampled_from((None, 1, 2, 3)),
    st.sampled_from((None, 5.0, 30.0)))
catalogues = st.lists(actions, max_size=12, unique_by=lambda a: a.id).map(
    lambda items: [Action(**{**{f: getattr(a, f) for f in a.__struct_fields__}, "id": f"a{n}"})
                   for n, a in enumerate(items)])
snapshots = st.builds(lambda tier, cart, total, spend, risk: Snapshot(
    tier=tier, cart_skus=tuple(cart), cart_total=total, spend_90d=spend, at_risk=risk),
    st.sampled_from(TIERS), st.lists(st.sampled_from(SKUS), unique=True), st.sampled_from((0.0, 60.0)),
    st.sampled_from((0.0, 150.0)), st.booleans())
histories = st.lists(st.builds(lambda n, contact, days, outcome: Impression(
    action_id=f"a{n}", contact_id=f"c{contact}", at=NOW - days * DAY, outcome=outcome),
    st.integers(0, 11), st.integers(0, 6), st.floats(0, 40), st.sampled_from(list(Outcome))), max_size=20)


@settings(max_examples=150, deadline=None)
@given(catalogues, snapshots, histories)
def test_a_customer_who_fails_eligibility_never_sees_the_action(items, snapshot, history):
    catalogue = Catalogue.compile(items)
    decision = catalogue.match(snapshot, history, now=NOW, limit=12, budget=None)
    for action in items:
        # The action's eligibility evaluated on its own, outside the catalogue and its index.
        if not compile_condition(action.eligibility).matches(snapshot_context(snapshot)):
            assert action.id not in {s.action_id for s in decision.suggestions}
            assert {e.action_id: e.stage for e in decision.excluded}[action.id] == Stage.ELIGIBILITY


@settings(max_examples=150, deadline=None)
@given(catalogues, snapshots, histories)
def test_the_contact_policy_is_never_exceeded(items, snapshot, history):
    decision = Catalogue.compile(items).match(snapshot, history, now=NOW, limit=12, budget=None)
    by_id = {a.id: a for a in items}
    for suggestion in decision.suggestions:
        policy = by_id[suggestion.action_id].policy
        mine = [i for i in history if i.action_id == suggestion.action_id]
        if policy.max_impressions is not None:
            recent = {i.contact_id for i in mine if i.at > NOW - policy.window_days * DAY}
            assert len(recent) + 1 <= policy.max_impressions  # this contact is one more
        if policy.refusal_days is not None:
            assert not any(i.outcome == Outcome.DECLINED and i.at > NOW - policy.refusal_days * DAY for i in mine)


@settings(max_examples=150, deadline=None)
@given(catalogues, snapshots, histories, st.randoms(use_true_random=False))
def test_the_order_is_stable_and_every_action_is_accounted_for(items, snapshot, history, random):
    catalogue = Catalogue.compile(items, settings=CatalogueSettings(max_per_contact=3))
    first = catalogue.match(snapshot, history, now=NOW, budget=None)
    again = catalogue.match(snapshot, list(reversed(history)), now=NOW, budget=None)
    assert first.suggestions == again.suggestions
    scores = [s.score for s in first.suggestions]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 3
    named = [s.action_id for s in first.suggestions] + [e.action_id for e in first.excluded]
    assert sorted(named) == sorted(a.id for a in items)  # each exactly once
    # The same actions in another order rank the same, except exact ties (broken by order).
    shuffled = list(items)
    random.shuffle(shuffled)
    other = Catalogue.compile(shuffled, settings=CatalogueSettings(max_per_contact=3)).match(
        snapshot, history, now=NOW, budget=None)
    assert [s.score for s in other.suggestions] == scores
