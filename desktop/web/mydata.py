""""My data" for an identified customer (seed 004: view, correct, delete), over HTTP.

The widget sends the short-lived token of a verified ``identify`` (its ack's
``me_token``, 15 minutes) in ``X-Otodesk-Me``. The year-long visitor token only
recognises a browser and opens nothing here: the whole record needs the site's
fresh word (its HMAC) that this person is signed in now, and a browser that was
signed out (``otodesk.reset()``) or erased is refused even with a fresh token.

- ``GET /api/me``: everything held about the person, as JSON (the download);
- ``PATCH /api/me``: correct name, e-mail, phone; the correction wins over the
  site's later ``identify`` hints (the site is told in identify's ack);
- ``POST /api/me/erase``: erase the person everywhere (:func:`desktop.contacts.privacy.erase_everywhere`):
  their browsers are signed out and the site's next ``identify`` recreates nothing;
- ``POST /api/me/sign-out``: revoke this browser's visitor token (``X-Otodesk-Visitor``),
  what the widget's ``reset()`` does at the site's sign-out.
"""

from __future__ import annotations

import dataclasses
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from signaling.protocol.outbound import OutSignedOut

from desktop.contacts.privacy import erase_everywhere
from desktop.rooms import visitor_room
from desktop.repository.timeline import event_json
from desktop.web.api import ApiError, CustomerPatch, _body, _phone, error_response
from desktop.web.auth import ME_MAX_AGE

__all__ = ["routes"]

VISITOR_HEADER = "x-otodesk-visitor"
ME_HEADER = "x-otodesk-me"


async def _me(request: Request) -> str:
    """The head customer id of the identified visitor, or ApiError 401/403."""
    state = request.app.state
    me = state.signer.read_me(request.headers.get(ME_HEADER))
    if me is None:
        raise ApiError(401, "unauthorized", "send the My data token of a verified identify "
                       f"(valid {ME_MAX_AGE // 60} minutes) in X-Otodesk-Me")
    visitor_id, token_customer = me
    if await state.repo.visitor_revoked(visitor_id):
        raise ApiError(401, "signed_out", "this browser was signed out; sign in on the site again")
    visitor = await state.repo.get_visitor(visitor_id)
    customer = await state.repo.resolve_customer(visitor.customer_id) if visitor else None
    signed_in_as = await state.repo.resolve_customer(token_customer)
    if (customer is None or signed_in_as is None or customer.id != signed_in_as.id
            or not any(i.kind == "user_id" and i.verified for i in await state.repo.identities(customer.id))):
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
        customer_id, name=(body.name or "").strip() or None, email=email, phone=_phone(request, body.phone),
        by_customer=True)
    return JSONResponse({"id": customer.id, "name": customer.name, "email": customer.email,
                         "phone": customer.phone})


async def erase(request: Request, customer_id: str) -> Response:
    state = request.app.state
    result = await erase_everywhere(state.repo, state.bus, state.settings, customer_id,
                                    requested_by="customer")
    # The server has signed every browser of theirs out (tokens revoked); the widget
    # starts afresh as an anonymous visitor and tells the site ("erased" event).
    return JSONResponse({"erased": True, "signed_out": True, "counts": result.counts})


async def sign_out(request: Request) -> Response:
    """Revoke the visitor token in X-Otodesk-Visitor: it opens nothing from now on.

    Holding a token is the right to end it; an unknown or forged one is a no-op (204 either way).
    """
    state = request.app.state
    visitor_id = state.signer.read_visitor(request.headers.get(VISITOR_HEADER))
    if visitor_id is not None:
        await state.repo.revoke_visitors([visitor_id], reason="sign_out")
        # The same browser's other tabs start afresh too (their widgets hear it).
        await state.bus.publish(visitor_room(visitor_id), OutSignedOut(reason="signed_out").to_dict())
    return Response(status_code=204)


routes = [
    Route("/api/me", _guarded(my_data), methods=["GET"]),
    Route("/api/me", _guarded(correct), methods=["PATCH"]),
    Route("/api/me/erase", _guarded(erase), methods=["POST"]),
    Route("/api/me/sign-out", sign_out, methods=["POST"]),
]
