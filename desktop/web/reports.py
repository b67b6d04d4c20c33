"""The reports: the page ``/reports`` and ``/api/v1/reports`` (JSON, and CSV of every table).

Who may read them: supervisors, admins and planners signed in to the desk, and
API keys with the ``read`` scope made for every site (the history is the whole
centre's). Query: ``from`` and ``to`` (local days, ``YYYY-MM-DD``, inclusive;
by default the last 7 full days) and ``period`` (``hour``, ``day``, ``week``).
A range the wrong way round, in the future, over two years, or hourly over
more than 31 days is a 422 saying which.

The figures are computed from the database's sums by
``desktop.analytics.history`` and shaped by ``desktop.analytics.report``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.analytics.history import (
    PeriodPlan,
    ReportRange,
    ReportRangeError,
    StateChange,
    StateTime,
    comparison_ranges,
    parse_range,
    state_time,
)
from desktop.analytics.kb_report import KB_TABLE, KB_TITLE, kb_table
from desktop.analytics.report import TABLES, build_report, table_csv
from desktop.analytics.satisfaction import satisfaction_table
from desktop.repository.history import HistoryQuery
from desktop.repository.history_rollups import fingerprint
from desktop.web.api.common import ApiError, Caller, endpoint
from desktop.web.pages import staff_page

__all__ = ["routes", "REPORT_ROLES", "report"]

#: The desk roles that read the reports ("planner" where that role exists).
REPORT_ROLES = ("supervisor", "admin", "planner")


#: The report's tables: the contact centre's, then self-service.
ALL_TABLES = {**TABLES, KB_TABLE: KB_TITLE}

#: Rows of a by-period table the JSON carries; past that, its CSV (which has them all).
PAGE_ROWS = 2000


async def report(repo: Any, settings: Any, *, first: str | None, last: str | None, period: str | None,
                 now: float, row_limit: int | None = PAGE_ROWS, rollups: bool = True) -> dict[str, Any]:
    """The report for the asked range (see the module); raises ``ReportRangeError``.

    ``rollups=False`` reads every row raw (the reference the rollups are tested against).

    By-period tables over ``row_limit`` rows come without them (``omitted``: how many).
    """
    zone = ZoneInfo(settings.time_zone)
    current, granularity = parse_range(first, last, period, zone=zone, now=now)
    plan = PeriodPlan.make(current.start, current.end, granularity, zone)
    queues = await repo.list_queues()
    targets = {queue.name: queue.service_level_target for queue in queues}
    # Closed periods come from the rollups made under these settings (when there are any).
    made_under = fingerprint(targets=targets, short_abandon=settings.short_abandon,
                             schedule_grace=settings.schedule_grace, time_zone=settings.time_zone) if rollups else None

    def query(over: ReportRange, plan_: PeriodPlan | None) -> HistoryQuery:
        return HistoryQuery(
            start=over.start, end=over.end,
            segments=plan_.segments if plan_ else ((over.start, 0),), period=plan_.granularity if plan_ else None,
            targets=targets, short_abandon=settings.short_abandon, schedule_grace=settings.schedule_grace,
            fingerprint=made_under, local_days=settings.time_zone)

    main = query(current, plan)
    earlier = comparison_ranges(current)
    agents = await repo.list_agents()
    # An agent a period is 18,000 rows for 200 agents over 90 days: past the page's limit the
    # agents' figures are summed over the whole range by the database (the CSV has the periods).
    possible = len(agents) * len(plan.keys())
    by_period = row_limit is None or possible <= row_limit
    agent_query = main if by_period else query(current, None)
    stop = min(current.end, now)
    (queue_rows, contact_rows, offer_rows, dispositions, presence, satisfaction, deflection,
     *compared_rows) = await asyncio.gather(
        repo.queue_sums(main), repo.agent_contact_sums(agent_query), repo.agent_offer_sums(agent_query),
        repo.dispositions(main),
        repo.agent_presence(current.start, current.end) if by_period
        else repo.staffed_seconds(agent_query, stop),
        # Ratings and "not solved" per queue and agent (desktop/aftercall), over the same range.
        repo.satisfaction_sums(query(current, None)),
        # Self-service beside the contact centre's tables: deflection per knowledge-base article.
        repo.kb_deflection(current.start, current.end),
        *(repo.queue_sums(query(other, None)) for other in earlier.values()),
    )
    if by_period:
        times = state_time((StateChange(row.agent_id, row.state, row.at) for row in presence), plan, now=now)
    else:
        times = {(agent_id, 0): StateTime(staffed=seconds) for agent_id, seconds in presence.items()}
    triples = lambda rows: [(row.key, row.period, row.sums) for row in rows]  # noqa: E731
    queue_titles = {queue.name: queue.title for queue in queues}
    agent_names = {agent.id: agent.display_name for agent in agents}
    found = build_report(
        current=current, plan=plan, queue_sums=triples(queue_rows), agent_contacts=triples(contact_rows),
        agent_offers=triples(offer_rows), agent_time=times, dispositions=dispositions,
        compared={name: (other, triples(rows)) for (name, other), rows in zip(earlier.items(), compared_rows)},
        queue_titles=queue_titles, agent_names=agent_names, row_limit=row_limit,
        agent_periods_omitted=None if by_period else possible,
    )
    found["tables"]["satisfaction"] = satisfaction_table(satisfaction, queue_titles=queue_titles,
                                                          agent_names=agent_names)
    found["tables"][KB_TABLE] = kb_table(deflection)
    return found


def _check_role(caller: Caller) -> None:
    if caller.role != "api" and caller.role not in REPORT_ROLES:
        raise ApiError(403, "forbidden", "the reports are for supervisors and planners")


async def _report(request: Request, caller: Caller, *, row_limit: int | None = PAGE_ROWS) -> dict[str, Any]:
    _check_role(caller)
    params = request.query_params
    try:
        return await report(request.app.state.repo, request.app.state.settings, first=params.get("from"),
                            last=params.get("to"), period=params.get("period"), now=time.time(),
                            row_limit=row_limit, rollups=request.app.state.settings.history_rollups)
    except ReportRangeError as error:
        raise ApiError(422, "invalid_range", str(error)) from None


async def report_json(request: Request, caller: Caller) -> Response:
    return JSONResponse(await _report(request, caller))


async def report_csv(request: Request, caller: Caller) -> Response:
    name = request.path_params["table"]
    if name not in ALL_TABLES:
        raise ApiError(404, "not_found", f"No table {name[:40]!r}; the tables are {', '.join(ALL_TABLES)}")
    found = await _report(request, caller, row_limit=None)
    span = found["range"]
    filename = f"otodesk-{name}-{span['from']}-{span['to']}-{span['period']}.csv"
    return Response(table_csv(found["tables"][name]), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


async def reports_page(request: Request) -> Response:
    return await staff_page(request, "reports.html", REPORT_ROLES,
                            extra={"tables": ALL_TABLES, "time_zone": request.app.state.settings.time_zone})


routes = [
    Route("/reports", reports_page),
    Route("/api/v1/reports", endpoint(report_json, scope="read", all_sites=True), methods=["GET"]),
    Route("/api/v1/reports/{table}.csv", endpoint(report_csv, scope="read", all_sites=True), methods=["GET"]),
]
