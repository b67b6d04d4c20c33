"""Business rules: the planner's actions, their conditions, and the pure matcher.

Nothing here does I/O: the repository stores actions and published versions
(``desktop/repository/rules.py``), ``desktop/leader/live_rules.py`` holds the compiled
catalogue of each process, and the desk builds the snapshot the matcher reads.
"""

from desktop.rules.actions import (
    Action, CatalogueSettings, ContactPolicy, Impression, Kind, Outcome, Push, PushKind, Stage, decode_action,
)
from desktop.rules.catalogue import Catalogue, Decision, Exclusion, Suggestion
from desktop.rules.conditions import ConditionError, compile_condition
from desktop.rules.script import render_script
from desktop.rules.snapshot import FIELD_TYPES, Snapshot, snapshot_context
from desktop.rules.validation import validate_action

__all__ = [
    "Action", "CatalogueSettings", "ContactPolicy", "Impression", "Kind", "Outcome", "Push", "PushKind", "Stage",
    "decode_action", "Catalogue", "Decision", "Exclusion", "Suggestion", "ConditionError", "compile_condition",
    "render_script", "FIELD_TYPES", "Snapshot", "snapshot_context", "validate_action",
]
