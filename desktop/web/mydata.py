""""My data" for an identified customer (seed 004: view, correct, delete), over HTTP.

The widget sends its signed visitor token in ``X-Otodesk-Visitor``. Only a
visitor linked to a *verified* customer (the site's HMAC through
``identify``) gets anything: an anonymous browser is not known to be anybody.

- ``GET /api/me``: everything held about the person, as JSON (the download);
- ``PATCH /api/me``: correct name, e-mail, phone;
- ``POST /api/me/erase``: erase the person everywhere (:func:`desktop.privacy.erase_everywhere`).
"""

from __future__ import annotations

import dataclasses
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.privacy import erase_everywhere
from desktop.repository.timeline import event_json
from desktop.web.api import ApiError, CustomerPatch, _body, _phone, error_response

__all__ = ["routes"]

VISITOR_HEADER = "x-otodesk-visitor"


async def _me(request: Request) -> str:
    """The head customer id of the identified visitor, or ApiError 401/403."""
    state = request.app.state
    visitor_id = state.signer.read_visitor(request.headers.get(VISITOR_HEADER))
    if visitor_id is None:
        raise ApiError(401, "unauthorized", f"send the widget's visitor token in {VISITOR_HEADER}")
    visitor = await state.repo.get_visitor(visitor_id)
    customer = await state.repo.resolve_customer(visitor.customer_id) if visitor else None
    if customer is None or not any(i.kind == "user_id" and i.verified
                                   for i in await state.repo.identities(customer.id)):
        raise ApiError(403, "not_identified", "My data is for customers signed in on the site")
    return customer.id


def _guarded(handler):
    async def run(request: Request) -> Response:
        try:
            return await handler(request, await _me(request))
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except ValueError as exc:
            return error_response(422, "invalid", str(exc))
    return run


async def my_data(request: Request, customer_id: str) -> Response:
    repo = request.app.state.repo
    summary = await repo.customer_summary(customer_id)
    events, cursor = [], None
    while True:  # everything, page by page
        page = await repo.customer_timeline(customer_id, limit=200, cursor=cursor)
        events += [event_json(e) for e in page.events]
        cursor = page.next_cursor
        if cursor is None or len(events) >= 100_000:
            break
    orders = await repo.list_orders(customer_id=customer_id, limit=10_000)
    return JSONResponse({
        "exported_at": time.time(),
        "customer": summary["customer"],
        "identities": summary["identities"],
        "orders": [dataclasses.asdict(o) for o in orders],
        "timeline": events,
    }, headers={"Cache-Control": "no-store"})


async def correct(request: Request, customer_id: str) -> Response:
    body = await _body(request, CustomerPatch)
    email = body.email.strip().lower() if body.email else None
    if email is not None:
        from desktop.repository.identities import check_identity
        email = check_identity("email", email)
    customer = await request.app.state.repo.update_customer(
        customer_id, name=(body.name or "").strip() or None, email=email, phone=_phone(request, body.phone))
    return JSONResponse({"id": customer.id, "name": customer.name, "email": customer.email,
                         "phone": customer.phone})


async def erase(request: Request, customer_id: str) -> Response:
    state = request.app.state
    result = await erase_everywhere(state.repo, state.bus, state.settings, customer_id,
                                    requested_by="customer")
    return JSONResponse({"erased": True, "counts": result.counts})


routes = [
    Route("/api/me", _guarded(my_data), methods=["GET"]),
    Route("/api/me", _guarded(correct), methods=["PATCH"]),
    Route("/api/me/erase", _guarded(erase), methods=["POST"]),
]
