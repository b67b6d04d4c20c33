"""``/api/v1/admin/webhooks``: webhook subscriptions, their delivery log and replay (admins only).

A subscription names a receiver URL (http or https; private addresses only when
``OTODESK_WEBHOOK_ALLOW_PRIVATE`` says so) and the event types it wants (``*``: all). Its
signing secret is returned once, when it is added; store it on the receiver's side. What is
sent and how to verify it: docs/operations.md, "Webhooks".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.staff import StaffSession
from desktop.repository.outbox import EVENT_TYPES
from desktop.web.admin import actor_of, admin_endpoint, admin_operations
from desktop.web.client import ApiError, json_body
from desktop.webhooks.targets import TargetRefused, check_url

__all__ = ["BODIES", "openapi_paths", "routes"]

EventType = Literal[("*", *EVENT_TYPES)]  # type: ignore[valid-type]


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    events: Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=20)]
    description: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RotateIn(msgspec.Struct, forbid_unknown_fields=True):
    #: Hours the old secret keeps signing beside the new one (0: stop at once; a week at most).
    overlap_hours: Annotated[float, msgspec.Meta(ge=0, le=168)] = 24.0


BODIES = (WebhookIn, RotateIn)


async def list_webhooks(request: Request, session: StaffSession) -> Response:
    return JSONResponse({"items": await request.app.state.repo.list_webhooks(), "event_types": list(EVENT_TYPES)})


async def add_webhook(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, WebhookIn)
    try:
        url = check_url(data.url.strip(), allow_private=request.app.state.settings.webhook_allow_private)
    except TargetRefused as exc:
        raise ApiError(422, "invalid_url", f"url: {exc}", detail={"reason": exc.reason}) from None
    subscription, secret = await request.app.state.repo.add_webhook(
        url=url, events=list(data.events), description=data.description.strip(), actor=actor_of(session))
    # The only time the secret leaves the server.
    return JSONResponse({**subscription, "secret": secret}, status_code=201)


async def remove_webhook(request: Request, session: StaffSession) -> Response:
    return JSONResponse(await request.app.state.repo.disable_webhook(request.path_params["webhook_id"],
                                                                     actor=actor_of(session)))


async def rotate_secret(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, RotateIn) if await request.body() else RotateIn()
    subscription, secret = await request.app.state.repo.rotate_webhook_secret(
        request.path_params["webhook_id"], overlap=data.overlap_hours * 3600, actor=actor_of(session))
    # The only time the new secret leaves the server.
    return JSONResponse({**subscription, "secret": secret})


def _int_param(request: Request, name: str, default: int | None, high: int) -> int | None:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise ApiError(422, "invalid", f"{name} must be an integer from 1 to {high}")
    return int(text)


async def deliveries(request: Request, session: StaffSession) -> Response:
    items = await request.app.state.repo.webhook_deliveries(
        request.path_params["webhook_id"], limit=_int_param(request, "limit", 50, 500),
        before=_int_param(request, "before", None, 2**62))
    return JSONResponse({"items": items})


async def replay(request: Request, session: StaffSession) -> Response:
    text = request.path_params["delivery_id"]
    if not text.isdigit() or len(text) > 18:
        raise ApiError(404, "not_found", f"No webhook delivery {text!r}")
    return JSONResponse(await request.app.state.repo.replay_webhook_delivery(int(text), actor=actor_of(session)),
                        status_code=201)


_W = "/api/v1/admin/webhooks/{webhook_id}"
routes = [
    Route("/api/v1/admin/webhooks", admin_endpoint(list_webhooks), methods=["GET"]),
    Route("/api/v1/admin/webhooks", admin_endpoint(add_webhook), methods=["POST"]),
    Route(_W, admin_endpoint(remove_webhook), methods=["DELETE"]),
    Route(f"{_W}/deliveries", admin_endpoint(deliveries), methods=["GET"]),
    Route(f"{_W}/rotate-secret", admin_endpoint(rotate_secret), methods=["POST"]),
    Route("/api/v1/admin/webhook-deliveries/{delivery_id}/replay", admin_endpoint(replay), methods=["POST"]),
]


def openapi_paths(op: Callable[..., dict[str, Any]], ok: Callable[..., dict[str, Any]],
                  ref: Callable[[str], dict[str, Any]], path: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    items = {"type": "object", "properties": {"items": {"type": "array"}}}
    webhook_id = [path("webhook_id")]
    paths = {
        "/api/v1/admin/webhooks": {
            "get": op("Every webhook subscription (never its secret) and the event types", {"200": ok("Webhooks", items)}),
            "post": op("Add a subscription; the answer holds its signing secret, shown this once",
                       {"201": ok("Added", ref("AdminWebhook"))}, body="WebhookIn"),
        },
        _W: {"delete": op("Remove a subscription: nothing more is queued or sent (its log stays)",
                          {"200": ok("Removed", ref("AdminWebhook"))}, parameters=webhook_id)},
        f"{_W}/rotate-secret": {"post": op(
            "A new signing secret, shown this once; the old one signs beside it (a second v1=) for "
            "overlap_hours (default 24), so the receiver can switch at its pace",
            {"200": ok("Rotated", ref("AdminWebhook"))}, body="RotateIn", parameters=webhook_id)},
        f"{_W}/deliveries": {"get": op(
            "The delivery log, newest first: state, attempts (status code, error, duration)",
            {"200": ok("Deliveries", items)}, parameters=[*webhook_id,
             {"name": "limit", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
             {"name": "before", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
              "description": "deliveries older than this id"}])},
        "/api/v1/admin/webhook-deliveries/{delivery_id}/replay": {"post": op(
            "Send a delivery's event again (a new delivery, same event id)", {"201": ok("Queued", items)},
            parameters=[path("delivery_id")])},
    }
    return admin_operations(paths)


def openapi_components() -> dict[str, Any]:
    return {"AdminWebhook": {"type": "object", "required": ["id", "url", "events"], "properties": {
        "id": {"type": "string"}, "url": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string"}, "created_at": {"type": "number"},
        "disabled_at": {"type": ["number", "null"]},
        "previous_until": {"type": ["number", "null"],
                           "description": "until when the secret before the last rotation signs too"},
        "secret": {"type": "string", "description": "only in the answers to POST (add, rotate-secret)"}}}}
