"""Conditions are checked at save: syntax, unknown names, wrong types, each with its position."""

import pytest

from desktop.rules.conditions import ConditionError, compile_condition
from desktop.rules.snapshot import FIELD_TYPES, Snapshot, snapshot_context


def error_of(text: str) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, field="eligibility")
    return caught.value


def test_an_empty_condition_always_holds():
    condition = compile_condition("   ")
    assert condition.always and condition.matches({})


def test_a_syntax_error_points_at_the_unexpected_token():
    error = error_of('tier == "gold" and and spend_90d > 1')
    assert error.position == 19 and (error.line, error.column) == (1, 20)
    assert "syntax error" in error.message and "'and'" in error.message


def test_a_condition_that_ends_early_points_at_its_end():
    error = error_of("spend_90d > ")
    assert error.position == len("spend_90d >") and "ends too early" in error.message


def test_an_unknown_field_is_named_with_a_suggestion_and_its_position():
    error = error_of('spend_90d > 10 and tierr == "gold"')
    assert error.position == 19
    assert "unknown field 'tierr'" in error.message and "tier" in error.message


def test_a_wrong_type_is_refused_at_the_operator_on_its_line():
    error = error_of('tier == "gold"\nand spend_90d > "lots"')
    assert (error.line, error.column) == (2, 15)
    assert "wrong type" in error.message


def test_comparing_text_with_a_number_is_refused_though_the_engine_allows_it():
    error = error_of('tier == 3')
    assert error.position == 5 and "string with a float" in error.message


def test_a_condition_must_be_true_or_false():
    assert "true or false" in error_of("spend_90d + 1").message


def test_the_error_knows_its_field_and_action():
    with pytest.raises(ConditionError) as caught:
        compile_condition("nope", field="suitability", action_id="bag")
    assert caught.value.as_dict()["field"] == "suitability" and caught.value.action_id == "bag"


def test_guards_come_from_the_top_level_and_chain_only():
    condition = compile_condition('"aurora-laptop-14" in cart_skus and tier == "gold" and at_risk '
                                  'and ("x" in owned or "y" in owned)')
    assert condition.guards[0] == ("cart_skus", "aurora-laptop-14")
    assert set(condition.guards) == {("cart_skus", "aurora-laptop-14"), ("tier", "gold"), ("at_risk", True)}
    assert compile_condition('tier == "gold" or at_risk').guards == ()
    assert compile_condition('not at_risk').guards == ()


def test_every_snapshot_field_is_typed_and_readable():
    assert set(FIELD_TYPES) == set(snapshot_context(Snapshot()))
    for field in FIELD_TYPES:  # compiles: every name resolves under its declared type
        compile_condition(f"{field} == {field}")


@pytest.mark.parametrize("text,expected", [
    ('"aurora-laptop-14" in cart_skus', True),
    ('cart_total > 1000 and cart_items >= 1', True),
    ('context&["campaign"] == "spring"', True),
    ('context&["missing"] == "spring"', False),
    ('message =~ ".*refund.*"', True),
    ('hour >= 18 and weekday in ["sat", "sun"]', True),
    ('days_since_last_order > 60', False),
])
def test_conditions_read_the_snapshot(text, expected):
    snapshot = Snapshot(cart_skus=("aurora-laptop-14",), cart_total=1299.0, cart_items=1.0,
                        context={"campaign": "spring"}, message="I want a refund please", hour=19.0,
                        weekday="sat", days_since_last_order=-1.0)
    assert compile_condition(text).matches(snapshot_context(snapshot)) is expected


def test_a_key_of_the_context_is_read_with_brackets():
    assert 'context&["key"]' in error_of('context.campaign == "x"').message
