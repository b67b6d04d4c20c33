"""The person's rights over the API: erasure (``DELETE /api/v1/customers/{id}``), signing them
out of every browser, and the tombstones erasure leaves (``/api/v1/erasures``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desktop.contacts.privacy import erase_everywhere, sign_out_everywhere
from desktop.repository.errors import NotFound
from desktop.web.api.common import ApiError, Caller, limit_param
from desktop.web.api.responses import page_json

__all__ = ["erase_customer", "lift_erasure", "list_erasures", "sign_out_customer"]


async def erase_customer(request: Request, caller: Caller) -> Response:
    state = request.app.state
    result = await erase_everywhere(state.repo, state.bus, state.settings,
                                    request.path_params["customer_id"], requested_by=caller.actor)
    return JSONResponse({"erased": True, "counts": result.counts})


async def sign_out_customer(request: Request, caller: Caller) -> Response:
    """The site's server signs the person out of every browser (their visitor tokens revoked)."""
    customer_id = request.path_params["customer_id"]
    if await request.app.state.repo.resolve_customer(customer_id) is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    state = request.app.state
    count = await sign_out_everywhere(state.repo, state.bus, customer_id, reason=caller.actor)
    return JSONResponse({"signed_out": True, "visitors": count})


async def list_erasures(request: Request, caller: Caller) -> Response:
    """Tombstones of erased signed-in customers: the site's HMAC of each user id, oldest first."""
    text = request.query_params.get("since", "0")
    try:
        since = float(text)
    except ValueError:
        raise ApiError(422, "invalid", "since is epoch seconds") from None
    rows = await request.app.state.repo.list_erased_users(since=since, limit=limit_param(request))
    return JSONResponse(page_json([{"user_key": key, "erased_at": at} for key, at in rows], None))


async def lift_erasure(request: Request, caller: Caller) -> Response:
    """The person signed up again and asked to be known: identify may link their user id again."""
    if not await request.app.state.repo.lift_tombstone(request.path_params["user_key"]):
        raise NotFound("No erased user with that key")
    return Response(status_code=204)
