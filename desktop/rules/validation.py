"""Checking an action before it is saved: every problem, each with its position."""

from __future__ import annotations

from desktop.rules.actions import Action
from desktop.rules.conditions import ConditionError, compile_condition
from desktop.rules.script import script_errors

__all__ = ["validate_action", "ID_PATTERN"]

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


def validate_action(action: Action) -> list[ConditionError]:
    """All the problems of ``action`` (conditions, script, window), empty when it is fine."""
    import re

    problems: list[ConditionError] = []
    if not re.match(ID_PATTERN, action.id):
        problems.append(ConditionError("an id is 1-64 lower-case letters, digits or dashes",
                                       text=action.id, position=0, field="id", action_id=action.id))
    if not action.title.strip():
        problems.append(ConditionError("a title is needed", text="", position=0, field="title",
                                       action_id=action.id))
    for field in ("eligibility", "applicability", "suitability"):
        try:
            compile_condition(getattr(action, field), field=field, action_id=action.id)
        except ConditionError as error:
            problems.append(error)
    for position, message in script_errors(action.script):
        problems.append(ConditionError(message, text=action.script, position=position, field="script",
                                       action_id=action.id))
    if action.valid_from is not None and action.valid_until is not None and action.valid_until <= action.valid_from:
        problems.append(ConditionError("the validity window ends before it starts", text="", position=0,
                                       field="valid_until", action_id=action.id))
    policy = action.policy
    if (policy.max_impressions is not None and policy.max_impressions < 1) or policy.window_days <= 0 \
            or (policy.refusal_days is not None and policy.refusal_days < 0):
        problems.append(ConditionError("a contact policy needs at least 1 impression over a positive window",
                                       text="", position=0, field="policy", action_id=action.id))
    return problems
