"""The reports page's tables: sums in, figures out, one shape for the page, the API and CSV.

Pure. The web layer reads the sums (``desktop.repository.history``) for the
range and for the ranges it is compared with, and hands them here as
``(key, period, sums)`` triples. Every table is ``{"columns": [...], "rows":
[...]}``: a column has a ``key``, a ``label`` and a ``unit`` (``text``,
``count``, ``percent`` (a ratio 0-1), ``seconds``, ``hours`` (given in
seconds)); rows hold raw values. :func:`cell` is how a value is written out, in
CSV and (the same rule, in ``static/reports/format.js``) on the page, so the
two read alike.
"""

from __future__ import annotations

import csv
import decimal
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from desktop.analytics.history import (
    AgentSums,
    Granularity,
    PeriodPlan,
    QueueSums,
    ReportRange,
    StateTime,
    period_label,
)

__all__ = ["Sums", "TABLES", "queue_sums_of", "build_report", "cell", "table_csv"]

#: ``(queue or agent id, period key or None, sums by name)`` as the repository returns them.
Sums = tuple[str | None, int | None, Mapping[str, float]]

_QUEUE_FIELDS = ("offered", "answered", "answered_within_target", "abandoned", "short_abandoned", "handled",
                 "scheduled_kept", "scheduled_missed", "browser", "phone", "phone_inbound", "closed")
_QUEUE_SECONDS = ("wait_seconds", "talk_seconds", "hold_seconds", "wrap_up_seconds")


def queue_sums_of(sums: Mapping[str, float]) -> QueueSums:
    values: dict[str, Any] = {name: int(sums.get(name, 0)) for name in _QUEUE_FIELDS}
    values.update({name: float(sums.get(name, 0.0)) for name in _QUEUE_SECONDS})
    return QueueSums(**values)


def _col(key: str, label: str, unit: str = "count") -> dict[str, str]:
    return {"key": key, "label": label, "unit": unit}


_QUEUE_FIGURES = [
    _col("offered", "Offered"), _col("answered", "Answered"), _col("abandoned", "Abandoned"),
    _col("short_abandoned", "Short abandons"), _col("service_level", "Service level", "percent"),
    _col("abandon_rate", "Abandon rate", "percent"), _col("average_speed_of_answer", "ASA", "seconds"),
    _col("average_handle_time", "AHT", "seconds"), _col("average_talk", "Talk", "seconds"),
    _col("average_hold", "Hold", "seconds"), _col("average_wrap_up", "Wrap-up", "seconds"),
    _col("scheduled_kept", "Scheduled kept"), _col("scheduled_missed", "Scheduled missed"),
    _col("browser", "Browser"), _col("phone", "Phone"), _col("phone_inbound", "Phoned in"),
    _col("closed", "Called while closed"),
]
#: The figures of the by-period table (the first eight).
_PERIOD_FIGURE_KEYS = frozenset(column["key"] for column in _QUEUE_FIGURES[:8])
_AGENT_FIGURES = [
    _col("offers", "Offers"), _col("accepted", "Accepted"), _col("declined", "Declined"),
    _col("missed", "Missed"), _col("answered", "Answered"),
    _col("average_handle_time", "AHT", "seconds"), _col("average_talk", "Talk", "seconds"),
    _col("average_hold", "Hold", "seconds"), _col("average_wrap_up", "Wrap-up", "seconds"),
    _col("staffed_seconds", "Staffed", "hours"), _col("occupancy", "Occupancy", "percent"),
]
_COMPARED = ["offered", "answered", "abandoned", "service_level", "average_speed_of_answer", "average_handle_time"]

#: Every table of a report, in the page's order, with its title.
TABLES = {
    "comparison": "Compared with earlier",
    "queues": "Queues",
    "queue_periods": "Queues by period",
    "agents": "Agents",
    "agent_periods": "Agents by period",
    "dispositions": "Dispositions",
    # Built by desktop/analytics/satisfaction.py (the web layer adds it to the report).
    "satisfaction": "Ratings and reopens",
}


def _queue_row(sums: QueueSums) -> dict[str, Any]:
    figures = sums.figures()
    return {column["key"]: figures[column["key"]] for column in _QUEUE_FIGURES}


def _agent_row(sums: AgentSums) -> dict[str, Any]:
    figures = sums.figures()
    return {column["key"]: figures[column["key"]] for column in _AGENT_FIGURES}


def build_report(
    *,
    current: ReportRange,
    plan: PeriodPlan,
    queue_sums: Iterable[Sums],
    agent_contacts: Iterable[Sums],
    agent_offers: Iterable[Sums],
    agent_time: Mapping[tuple[str, int], StateTime],
    dispositions: Iterable[tuple[str, str, int]],
    compared: Mapping[str, tuple[ReportRange, Iterable[Sums]]],
    queue_titles: Mapping[str, str],
    agent_names: Mapping[str, str],
    row_limit: int | None = None,
    agent_periods_omitted: int | None = None,
) -> dict[str, Any]:
    """The whole report: range, totals, chart series and every table of :data:`TABLES`.

    With ``row_limit``, a by-period table longer than that has no rows but
    ``omitted`` (its length): a page shows hundreds of rows, a CSV any number.
    ``agent_periods_omitted`` says the agents' sums were read for the whole range
    (not by period) and how many agent-periods the range could have.

    ``compared`` maps a name (``previous_week``...) to its range and its queue
    sums over that range as one period. Queues with a title come first, in
    the order given, then any other queue with contacts; agents by name.
    """
    granularity: Granularity = plan.granularity
    periods = plan.keys()
    by_queue: dict[str, QueueSums] = {queue: QueueSums() for queue in queue_titles}
    by_queue_period: dict[tuple[str, int], QueueSums] = {}
    by_period: dict[int, QueueSums] = {period: QueueSums() for period in periods}
    for queue, period, raw in queue_sums:
        sums = queue_sums_of(raw)
        queue = queue or ""
        by_queue.setdefault(queue, QueueSums()).add(sums)
        by_queue_period.setdefault((queue, period or 0), QueueSums()).add(sums)
        by_period.setdefault(period or 0, QueueSums()).add(sums)
    total = QueueSums()
    for sums in by_queue.values():
        total.add(sums)

    agents: dict[str, AgentSums] = {}
    agent_periods: dict[tuple[str, int], AgentSums] = {}

    def agent(agent_id: str, period: int) -> tuple[AgentSums, AgentSums]:
        return (agents.setdefault(agent_id, AgentSums()),
                agent_periods.setdefault((agent_id, period), AgentSums()))

    for agent_id, period, raw in agent_offers:
        for target in agent(agent_id or "", period or 0):
            for name in ("offers", "accepted", "declined", "missed", "withdrawn"):
                setattr(target, name, getattr(target, name) + int(raw.get(name, 0)))
    for agent_id, period, raw in agent_contacts:
        sums = queue_sums_of(raw)
        sums.answered = int(raw.get("answered", 0))
        for target in agent(agent_id or "", period or 0):
            target.contacts.add(sums)
    for (agent_id, period), time in agent_time.items():
        if time.staffed or time.away:
            for target in agent(agent_id, period):
                target.time.add(time)

    def agent_order(agent_id: str) -> tuple[str, str]:
        return (agent_names.get(agent_id, agent_id).lower(), agent_id)

    queue_order = [*queue_titles, *sorted(set(by_queue) - set(queue_titles))]
    label = lambda period: period_label(period, granularity)  # noqa: E731
    comparison_rows = [{"name": "this_range", "label": "This range", "from": current.first.isoformat(),
                        "to": current.last.isoformat(), **_compared_figures(total)}]
    for name, (other, other_sums) in compared.items():
        sums = QueueSums()
        for _, _, raw in other_sums:
            sums.add(queue_sums_of(raw))
        comparison_rows.append({"name": name, "label": name.replace("_", " ").capitalize(),
                                "from": other.first.isoformat(), "to": other.last.isoformat(),
                                **_compared_figures(sums)})
    figures = {column["key"]: column for column in _QUEUE_FIGURES}
    dispositions = list(dispositions)
    answered_by_queue = {queue: sums.answered for queue, sums in by_queue.items()}
    return {
        "range": {"from": current.first.isoformat(), "to": current.last.isoformat(), "days": current.days,
                  "time_zone": current.zone.key, "period": granularity, "start": current.start, "end": current.end},
        "totals": total.figures(),
        "chart": {
            "periods": periods, "labels": [label(p) for p in periods],
            "offered": [by_period.get(p, QueueSums()).offered for p in periods],
            "answered": [by_period.get(p, QueueSums()).answered for p in periods],
            "abandoned": [by_period.get(p, QueueSums()).abandoned for p in periods],
            "service_level": [by_period.get(p, QueueSums()).service_level for p in periods],
        },
        "tables": {
            "comparison": {
                "columns": [_col("label", "Range", "text"), _col("from", "From", "text"), _col("to", "To", "text"),
                            *(figures[key] for key in _COMPARED)],
                "rows": comparison_rows,
            },
            "queues": {
                "columns": [_col("queue", "Queue", "text"), *_QUEUE_FIGURES],
                "rows": [{"queue": queue_titles.get(queue, queue), **_queue_row(by_queue[queue])}
                         for queue in queue_order]
                + [{"queue": "All queues", **_queue_row(total)}],
            },
            "queue_periods": _limited(
                row_limit, len(by_queue_period),
                [_col("period", "Period", "text"), _col("queue", "Queue", "text"), *_QUEUE_FIGURES[:8]],
                lambda: [{"period": label(period), "queue": queue_titles.get(queue, queue),
                          **{k: v for k, v in _queue_row(sums).items() if k in _PERIOD_FIGURE_KEYS}}
                         for (queue, period), sums in sorted(by_queue_period.items(),
                                                             key=lambda item: (item[0][1], queue_order.index(item[0][0])))]),
            "agents": {
                "columns": [_col("agent", "Agent", "text"), *_AGENT_FIGURES],
                "rows": [{"agent": agent_names.get(agent_id, agent_id), **_agent_row(agents[agent_id])}
                         for agent_id in sorted(agents, key=agent_order)],
            },
            "agent_periods": _limited(
                row_limit, agent_periods_omitted or len(agent_periods),
                [_col("period", "Period", "text"), _col("agent", "Agent", "text"), *_AGENT_FIGURES],
                lambda: [{"period": label(period), "agent": agent_names.get(agent_id, agent_id),
                          **_agent_row(sums)}
                         for (agent_id, period), sums in sorted(agent_periods.items(),
                                                                key=lambda item: (item[0][1], agent_order(item[0][0])))]),
            "dispositions": {
                "columns": [_col("queue", "Queue", "text"), _col("disposition", "Disposition", "text"),
                            _col("count", "Contacts"), _col("share", "Share of answered", "percent")],
                "rows": [{"queue": queue_titles.get(queue, queue), "disposition": disposition, "count": count,
                          "share": count / answered_by_queue[queue] if answered_by_queue.get(queue) else None}
                         for queue, disposition, count in dispositions],
            },
        },
    }


def _limited(limit: int | None, count: int, columns: list[dict[str, str]], rows: Any) -> dict[str, Any]:
    """The table, or past ``limit`` rows its columns and how many rows it has (not built:
    their cost is the point of the limit)."""
    if limit is None or count <= limit:
        return {"columns": columns, "rows": rows()}
    return {"columns": columns, "rows": [], "omitted": count}


def _compared_figures(sums: QueueSums) -> dict[str, Any]:
    figures = sums.figures()
    return {key: figures[key] for key in _COMPARED}


def cell(value: Any, unit: str) -> str:
    """How a value is written in CSV and shown on the page (``static/reports/format.js``)."""
    if value is None:
        return ""
    if unit == "percent":
        return _one_decimal(value * 100)
    if unit == "seconds":
        return _one_decimal(value)
    if unit == "hours":
        return _one_decimal(value / 3600)
    if unit == "count":
        return str(int(value))
    return str(value)


def _one_decimal(value: float) -> str:
    # As JavaScript's toFixed(1) on the page: the exact binary value, a tie rounded up
    # (Python's format would round 81.25 to even, 81.2, where the page shows 81.3).
    return str(decimal.Decimal(value).quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP))


def _header(column: Mapping[str, str]) -> str:
    suffix = {"percent": " (%)", "seconds": " (s)", "hours": " (h)"}.get(column["unit"], "")
    return f"{column['label']}{suffix}"


def table_csv(table: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """A table as CSV: a header of labels (with units), then its rows as :func:`cell` writes them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = table["columns"]
    writer.writerow([_header(column) for column in columns])
    for row in table["rows"]:
        writer.writerow([_safe(cell(row.get(column["key"]), column["unit"])) for column in columns])
    return out.getvalue()


def _safe(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula: a queue or disposition
    # name is text typed by people.
    return f"'{text}" if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not _number(text)) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
