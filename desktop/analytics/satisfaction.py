"""The customers' word after their contacts, per queue and per agent: the reports' table
``satisfaction`` (pure: the repository's sums in, the table out, in report.py's shape).

A contact counts in the range it was wrapped up in. ``rated_share`` is of the contacts given
a summary (only those are asked); ``reopen_rate`` of all contacts wrapped up ("Not solved"
pressed on the customer's widget).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["satisfaction_table", "COLUMNS"]

_FIELDS = ("contacts", "summaries", "rated", "rating_sum", "reopened")


def _col(key: str, label: str, unit: str = "count") -> dict[str, str]:
    return {"key": key, "label": label, "unit": unit}


COLUMNS = [
    _col("by", "By", "text"), _col("name", "Queue or agent", "text"), _col("contacts", "Contacts wrapped up"),
    _col("summaries", "With a summary"), _col("rated", "Rated"), _col("rated_share", "Rated", "percent"),
    # Rounded here (two decimals, as written): the reports' units have no one for a score.
    _col("average_rating", "Average rating (1-5)", "text"),
    _col("reopened", "Not solved"), _col("reopen_rate", "Reopen rate", "percent"),
]


def _figures(sums: Mapping[str, int]) -> dict[str, Any]:
    contacts, summaries, rated = sums["contacts"], sums["summaries"], sums["rated"]
    return {
        "contacts": contacts, "summaries": summaries, "rated": rated,
        "rated_share": rated / summaries if summaries else None,
        "average_rating": round(sums["rating_sum"] / rated, 2) if rated else None,
        "reopened": sums["reopened"],
        "reopen_rate": sums["reopened"] / contacts if contacts else None,
    }


def satisfaction_table(rows: Iterable[Mapping[str, Any]], *, queue_titles: Mapping[str, str],
                       agent_names: Mapping[str, str]) -> dict[str, Any]:
    """``rows``: ``{queue, agent_id, contacts, summaries, rated, rating_sum, reopened}`` (the
    repository's ``satisfaction_sums``). Queues in ``queue_titles``' order, then agents by name,
    then all contacts."""
    by_queue: dict[str, dict[str, int]] = {}
    by_agent: dict[str, dict[str, int]] = {}
    total = dict.fromkeys(_FIELDS, 0)
    for row in rows:
        for target in (by_queue.setdefault(row["queue"] or "", dict.fromkeys(_FIELDS, 0)),
                       by_agent.setdefault(row["agent_id"] or "", dict.fromkeys(_FIELDS, 0)), total):
            for name in _FIELDS:
                target[name] += int(row.get(name) or 0)
    queues = [*[q for q in queue_titles if q in by_queue], *sorted(set(by_queue) - set(queue_titles))]
    agents = sorted(by_agent, key=lambda a: (agent_names.get(a, a).lower(), a))
    return {
        "columns": COLUMNS,
        "rows": [{"by": "Queue", "name": queue_titles.get(q, q), **_figures(by_queue[q])} for q in queues]
        + [{"by": "Agent", "name": agent_names.get(a, a), **_figures(by_agent[a])} for a in agents]
        + [{"by": "All", "name": "All contacts", **_figures(total)}],
    }
