"""``GET /api/v1/rules/stats``: what the suggestions achieved, for the planner's Results tab.

Query: ``from`` and ``to`` (``YYYY-MM-DD``, UTC days, both included; default the
last 28 days), optionally ``action_id``. The figures are
:func:`desktop.suggestions.results.results` over the interaction history, with
the orders attributed by :func:`desktop.suggestions.attribution.attribute`
(``OTODESK_RULES_ATTRIBUTION_DAYS``). For planners, admins and supervisors
signed in to the desk (or an API key with the ``read`` scope).
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.suggestions.attribution import attribute
from desktop.suggestions.results import WEEK, results
from desktop.web.api.common import ApiError, Caller, endpoint

__all__ = ["routes", "stats_schema"]

DAY = 86400.0
DEFAULT_DAYS = 28
MAX_DAYS = 366
STAFF_ROLES = frozenset({"planner", "admin", "supervisor"})


def _day(request: Request, name: str, default: float) -> float:
    text = request.query_params.get(name)
    if not text:
        return default
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid", f"{name} must be a date like 2026-12-01, not {text!r}") from None
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp()


def period(request: Request, now: float) -> tuple[float, float]:
    """[start, end) in epoch seconds: whole UTC days, ``to`` included."""
    today = datetime.datetime.fromtimestamp(now, datetime.UTC).replace(
        hour=0, minute=0, second=0, microsecond=0).timestamp()
    end = _day(request, "to", today) + DAY
    start = _day(request, "from", end - DEFAULT_DAYS * DAY)
    if start >= end:
        raise ApiError(422, "invalid", "from must be on or before to")
    if end - start > MAX_DAYS * DAY:
        raise ApiError(422, "invalid", f"a period is at most {MAX_DAYS} days")
    return start, end


async def rule_stats(request: Request, caller: Caller) -> Response:
    if caller.role != "api" and caller.role not in STAFF_ROLES:
        raise ApiError(403, "forbidden", "the results are for planners, supervisors and admins")
    repo, settings = request.app.state.repo, request.app.state.settings
    start, end = period(request, time.time())
    weeks = max(2, round((end - start) / WEEK))
    window = settings.rules_attribution_days * DAY
    first = min(start, end - weeks * WEEK)
    # Acceptances up to a window before the period still earn the orders placed in it.
    interactions = await repo.interactions_between(first - window, end)
    action_id = request.query_params.get("action_id")
    if action_id:
        interactions = [i for i in interactions if i.action_id == action_id]
    accepted = [i for i in interactions if i.outcome == "accepted" and i.product]
    orders = await repo.orders_of_customers({i.customer_id for i in accepted}, start=first, end=end) if accepted else []
    attributions = attribute(accepted, orders, window=window)
    body: dict[str, Any] = results([i for i in interactions if i.at >= first], attributions,
                                   start=start, end=end, weeks=weeks)
    body["attribution_days"] = settings.rules_attribution_days
    body["titles"] = await _titles(repo)
    published = await _version_titles(repo, {a["version"] for a in body["actions"]})
    for action in body["actions"]:
        key = (action["action_id"], action["version"])
        action["title"] = published.get(key) or body["titles"].get(action["action_id"]) or action["action_id"]
    return JSONResponse(body)


async def _titles(repo) -> dict[str, str]:
    """The actions' titles as the planner names them now (drafts), by id."""
    try:
        return {action.id: action.title for action in await repo.rule_actions()}
    except Exception:  # the titles are a courtesy: the figures stand without them
        return {}


async def _version_titles(repo, versions: set[int]) -> dict[tuple[str, int], str]:
    """(action id, version) -> the title that version was published with: the results of
    version 3 are about what agents saw then, whatever the draft is called today."""
    titles: dict[tuple[str, int], str] = {}
    for number in sorted(versions):
        try:
            record = await repo.rule_version(number)
        except LookupError:  # no such version (NotFound): the caller falls back to the draft's title
            continue
        titles.update({(action.id, number): action.title for action in record.actions})
    return titles


def stats_schema() -> dict[str, Any]:
    """The response's JSON schema, for the OpenAPI document."""
    number, rate = {"type": "number"}, {"type": ["number", "null"]}
    figures = {
        "impressions": {"type": "integer"}, "presented": {"type": "integer"},
        "accepted": {"type": "integer"}, "declined": {"type": "integer"},
        "presentation_rate": rate, "acceptance_rate": rate,
        "acceptance_interval": {"type": ["array", "null"], "items": number, "minItems": 2, "maxItems": 2,
                                "description": "95% Wilson score interval of the acceptance rate"},
        "attributed_revenue_cents": {"type": "integer"}, "attributed_orders": {"type": "integer"},
    }
    row = {"type": "object", "properties": {"key": {"type": "string"}, **figures}}
    return {"type": "object", "required": ["start", "end", "actions", "attribution_days"], "properties": {
        "start": number, "end": number, "attribution_days": number,
        "titles": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "the drafts' titles by action id (what the planner calls them now)"},
        "actions": {"type": "array", "items": {"type": "object", "properties": {
            "action_id": {"type": "string"}, "version": {"type": "integer"},
            "title": {"type": "string", "description": "the title this version was published with"},
            **figures,
            "decline_reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_queue": {"type": "array", "items": row}, "by_tier": {"type": "array", "items": row},
            "weeks": {"type": "array", "items": {"type": "object", "properties": {
                "start": number, "end": number, **figures}}},
            "trend": {"type": ["object", "null"], "description": "the last week against the one before"},
        }}},
    }}


routes = [Route("/api/v1/rules/stats", endpoint(rule_stats, scope="read"), methods=["GET"])]
