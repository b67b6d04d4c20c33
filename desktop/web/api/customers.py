"""``/api/v1/customers``: a person's record, their identities, timeline events and merges."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desktop.repository.changes import EventCursor, decode_cursor, encode_cursor
from desktop.repository.errors import NotFound
from desktop.repository.timeline import event_json
from desktop.web.api.common import MAX_LIMIT, ApiError, Caller, check_visible, checked_phone, json_body, limit_param
from desktop.web.api.responses import customer_json, identity_json, merge_json, page_json
from desktop.web.api.schemas import CustomerIn, CustomerPatch, EventIn, IdentityIn, MergeIn, UnmergeIn

__all__ = ["add_event", "add_identity", "create_customer", "events_feed", "get_customer", "list_customers", "list_events",
           "list_identities", "merge", "merges", "patch_customer", "remove_identity", "unmerge"]


async def list_customers(request: Request, caller: Caller) -> Response:
    repo = request.app.state.repo
    limit = limit_param(request)
    query = request.query_params.get("q")
    changed_since = request.query_params.get("changed_since")
    if changed_since is not None:
        if query is not None or request.query_params.get("cursor") is not None:
            raise ApiError(422, "invalid", "changed_since goes alone: not with q or cursor")
        return await _changed_since(request, caller, changed_since, limit)
    if query is not None:
        found = await repo.search_customers(query, default_region=request.app.state.settings.default_region,
                                            limit=limit)
        return JSONResponse(page_json([customer_json(c) for c in found if caller.sees(c)], None))
    customers = await repo.list_customers(limit=limit, after=request.query_params.get("cursor"),
                                          site=caller.site)
    cursor = customers[-1].id if len(customers) == limit else None
    return JSONResponse(page_json([customer_json(c) for c in customers], cursor))


async def _changed_since(request: Request, caller: Caller, cursor: str, limit: int) -> Response:
    """The change feed: customers written since ``cursor``, oldest change first (merged ones
    too, with ``merged_into``). ``next_cursor`` is always given: poll with it again later."""
    try:
        after = decode_cursor(cursor)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    customers = await request.app.state.repo.customers_changed_since(after, limit=limit, site=caller.site)
    last = customers[-1].change_seq if customers else after
    items = [{**customer_json(c), "merged_into": c.merged_into} for c in customers]
    return JSONResponse(page_json(items, encode_cursor(last)))


async def create_customer(request: Request, caller: Caller) -> Response:
    body = await json_body(request, CustomerIn)
    customer = await request.app.state.repo.create_customer(
        name=body.name, email=body.email, phone=checked_phone(request, body.phone), user_id=body.user_id,
        source=caller.actor, site=caller.site or "default")
    return JSONResponse(customer_json(customer), status_code=201)


async def get_customer(request: Request, caller: Caller) -> Response:
    text = request.query_params.get("timeline", "0")
    if not text.isdigit() or int(text) > MAX_LIMIT:
        raise ApiError(422, "invalid", f"timeline must be an integer from 0 to {MAX_LIMIT}")
    summary = await request.app.state.repo.customer_summary(request.path_params["customer_id"],
                                                            timeline=int(text))
    if summary.get("timeline"):
        await _name_agents(request.app.state.repo, summary["timeline"]["items"])
    return JSONResponse(summary)


async def _name_agents(repo, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who did each thing, by name (``agent_name``): a person can't read an agent id."""
    if any(event.get("agent_id") for event in events):
        names = {agent.id: agent.display_name for agent in await repo.list_agents()}
        for event in events:
            if event.get("agent_id"):
                event["agent_name"] = names.get(event["agent_id"])
    return events


async def patch_customer(request: Request, caller: Caller) -> Response:
    body = await json_body(request, CustomerPatch)
    repo = request.app.state.repo
    head = await repo.resolve_customer(request.path_params["customer_id"])
    if head is None:
        raise NotFound(f"No customer with id {request.path_params['customer_id']!r}")
    email = body.email
    if email:
        from desktop.repository.identities import check_identity

        email = check_identity("email", email)
    customer = await repo.update_customer(head.id, name=body.name, email=email,
                                          phone=checked_phone(request, body.phone))
    return JSONResponse(customer_json(customer))


async def list_identities(request: Request, caller: Caller) -> Response:
    repo = request.app.state.repo
    customer_id = request.path_params["customer_id"]
    if await repo.resolve_customer(customer_id) is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    return JSONResponse(page_json([identity_json(i) for i in await repo.identities(customer_id)], None))


async def add_identity(request: Request, caller: Caller) -> Response:
    body = await json_body(request, IdentityIn)
    value = checked_phone(request, body.value) if body.kind == "phone" else body.value
    identity = await request.app.state.repo.add_identity(
        request.path_params["customer_id"], body.kind, value, verified=body.verified, source=caller.actor)
    return JSONResponse(identity_json(identity), status_code=201)


async def remove_identity(request: Request, caller: Caller) -> Response:
    text = request.path_params["identity_id"]
    if not text.isdigit() or len(text) > 18:
        raise ApiError(404, "not_found", f"No identity {text!r}")
    await request.app.state.repo.remove_identity(request.path_params["customer_id"], int(text))
    return Response(status_code=204)


async def list_events(request: Request, caller: Caller) -> Response:
    params = request.query_params
    kinds = [k for value in params.getlist("kind") for k in value.split(",") if k]
    channels = [c for value in params.getlist("channel") for c in value.split(",") if c]
    page = await request.app.state.repo.customer_timeline(
        request.path_params["customer_id"], limit=limit_param(request), cursor=params.get("cursor") or None,
        kinds=kinds or None, channels=channels or None)
    items = await _name_agents(request.app.state.repo, [event_json(e) for e in page.events])
    return JSONResponse(page_json(items, page.next_cursor))


async def events_feed(request: Request, caller: Caller) -> Response:
    """Every customer's timeline entries added since ``changed_since`` (``0``: all), oldest first:
    what a CRM polls to follow contacts. ``next_cursor`` is always given: poll with it again."""
    text = request.query_params.get("changed_since", "0")
    try:
        after = EventCursor.parse(text)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    found = await request.app.state.repo.events_added_since(after, limit=limit_param(request), site=caller.site)
    items = await _name_agents(request.app.state.repo, [event_json(event) for event, _ in found])
    return JSONResponse(page_json(items, str(found[-1][1] if found else after)))


async def add_event(request: Request, caller: Caller) -> Response:
    body = await json_body(request, EventIn)
    if len(msgspec.json.encode(body.data)) > 16 * 1024:
        raise ApiError(413, "too_large", "data is over 16 KB")
    data = dict(body.data)
    if body.summary:
        data["summary"] = body.summary
    event = await request.app.state.repo.log_contact(
        request.path_params["customer_id"], kind=body.kind, at=body.at or time.time(),
        agent_id=caller.agent_id, channel=body.channel, data={**data, "logged_by": caller.actor})
    return JSONResponse(event_json(event), status_code=201)


async def merge(request: Request, caller: Caller) -> Response:
    body = await json_body(request, MergeIn)
    await check_visible(request, caller, body.source_id)
    record = await request.app.state.repo.merge_customers(
        body.source_id, request.path_params["customer_id"], actor=caller.actor, reason=body.reason)
    return JSONResponse(merge_json(record), status_code=201)


async def unmerge(request: Request, caller: Caller) -> Response:
    body = await json_body(request, UnmergeIn)
    record = await request.app.state.repo.unmerge_customer(
        request.path_params["customer_id"], actor=caller.actor, reason=body.reason)
    return JSONResponse(merge_json(record), status_code=201)


async def merges(request: Request, caller: Caller) -> Response:
    repo = request.app.state.repo
    customer_id = request.path_params["customer_id"]
    if await repo.resolve_customer(customer_id) is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    return JSONResponse(page_json([merge_json(m) for m in await repo.merge_history(customer_id)], None))
