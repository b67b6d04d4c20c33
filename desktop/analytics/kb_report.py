"""The reports' self-service table: what each knowledge-base article did for customers.

A row an article read in the range (``Repository.kb_deflection``): readers (visitors who
opened it), "solved" answers, "No, I still want a call" answers, calls asked within an hour
of reading it, and the deflection: the share of its readers who asked for no call.
Kept apart from ``report.py`` (the contact-centre tables) and added to the report beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KB_TABLE", "KB_TITLE", "kb_table"]

KB_TABLE = "kb_deflection"
KB_TITLE = "Self-service: articles"

_COLUMNS = [
    {"key": "title", "label": "Article", "unit": "text"},
    {"key": "language", "label": "Language", "unit": "text"},
    {"key": "views", "label": "Views", "unit": "count"},
    {"key": "readers", "label": "Readers", "unit": "count"},
    {"key": "solved", "label": "Solved", "unit": "count"},
    {"key": "still_wanted_call", "label": "Still wanted a call", "unit": "count"},
    {"key": "calls_after_reading", "label": "Calls after reading", "unit": "count"},
    {"key": "solved_rate", "label": "Solved rate", "unit": "percent"},
    {"key": "deflection_rate", "label": "Deflection", "unit": "percent"},
]


def kb_table(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The table as the report's other tables are: ``columns`` and ``rows``."""
    return {"columns": _COLUMNS, "rows": [dict(row) for row in rows]}
