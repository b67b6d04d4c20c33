"""The REST API of the Customer Contact Repository (``/api/v1``), described at ``/api/openapi.json``.

Two ways in:

- a site's API key, ``Authorization: Bearer otk_...`` (``otodesk apikey create``): it may
  do what its scopes say (``read`` for GET, ``write`` for changes, ``erase`` for erasures)
  and, made for one site, sees only that site's customers (others are 404);
- the desk's session cookie; then every request that changes something must
  carry ``X-CSRF-Token`` (the desk page's token), and erasure needs an admin.

Lists are paginated: ``limit`` (1-200, default 50) and the ``next_cursor`` of
the previous page. Errors are JSON, ``{"error": {"code", "message"}}``, with a
precise 4xx status: 400 malformed, 401 no or bad credentials, 403 not allowed,
404 unknown, 409 conflict, 413 too large, 415 not JSON, 422 invalid values.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.customers.phones import PhoneRejected, normalize_phone
from desktop.contacts.privacy import erase_everywhere, sign_out_everywhere
from desktop.repository.apikeys import ALL_SITES, API_SCOPES
from desktop.repository.errors import Conflict, NotFound
from desktop.repository.timeline import event_json
from desktop.web.client import read_body
from desktop.web.api.schemas import CustomerIn, CustomerPatch, EventIn, IdentityIn, MergeIn, OrderIn, ProductIn, UnmergeIn
from desktop.auth.staff import BadCsrf, NotSignedIn, require_staff

__all__ = ["routes", "ApiError", "Caller", "checked_phone", "error_response", "json_body"]

MAX_BODY = 64 * 1024
MAX_LIMIT = 200


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclasses.dataclass(frozen=True)
class Caller:
    #: ``api:<key id>`` or ``agent:<agent id>``: what the audit records.
    actor: str
    #: ``api``, or the agent's role.
    role: str
    agent_id: str | None = None
    #: What the caller may do (an API key's scopes; every scope for the desk).
    scopes: tuple[str, ...] = API_SCOPES
    #: The only site whose customers the caller sees; None for every site.
    site: str | None = None

    def sees(self, customer) -> bool:
        return self.site is None or customer.site == self.site


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _caller(request: Request) -> Caller:
    repo = request.app.state.repo
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <API key>'")
        record = await repo.check_api_key(key.strip())
        if record is None:
            raise ApiError(401, "unauthorized", "unknown or revoked API key")
        return Caller(actor=f"api:{record.id}", role="api", scopes=record.scopes,
                      site=None if record.site == ALL_SITES else record.site)
    try:
        session = await require_staff(request, csrf=request.method not in ("GET", "HEAD"))
    except NotSignedIn:
        raise ApiError(401, "unauthorized", "an API key (Authorization: Bearer) or a desk login is needed") from None
    except BadCsrf:
        raise ApiError(403, "csrf", "a desk request that changes something needs X-CSRF-Token") from None
    agent = session.agent
    return Caller(actor=f"agent:{agent.id}", role=agent.role, agent_id=agent.id)


async def json_body(request: Request, schema: type[msgspec.Struct]) -> Any:
    """The JSON body decoded into ``schema``; ApiError 415 / 413 / 422 / 400 otherwise."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    body = await read_body(request, MAX_BODY)
    if body is None:
        raise ApiError(413, "too_large", f"the body is over {MAX_BODY} bytes")
    if b"\\u0000" in body or b"\x00" in body:
        raise ApiError(422, "invalid", "NUL characters are not accepted")
    try:
        return msgspec.json.decode(body, type=schema)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"the body is not JSON: {exc}") from None


def _limit(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return 50
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiError(422, "invalid", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(text)


def checked_phone(request: Request, value: str | None) -> str | None:
    """``value`` in E.164 (the site's default region for a local number); ApiError 422 if it is no phone."""
    if not value:
        return None
    try:
        return normalize_phone(value, default_region=request.app.state.settings.default_region)
    except PhoneRejected as exc:
        raise ApiError(422, exc.code, f"phone: {exc}") from None


def _customer_json(customer) -> dict[str, Any]:
    return {"id": customer.id, "name": customer.name, "email": customer.email,
            "phone": customer.phone, "tier": customer.tier, "created_at": customer.created_at,
            "updated_at": customer.updated_at}


def _identity_json(identity) -> dict[str, Any]:
    return {"id": identity.id, "customer_id": identity.customer_id, "kind": identity.kind,
            "value": identity.value, "verified": identity.verified, "source": identity.source,
            "created_at": identity.created_at}


def _merge_json(merge) -> dict[str, Any]:
    return dataclasses.asdict(merge)


def _order_json(order) -> dict[str, Any]:
    return dataclasses.asdict(order)


def _product_json(product) -> dict[str, Any]:
    return dataclasses.asdict(product)


def _page(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


Handler = Callable[[Request, Caller], Awaitable[Response]]


def endpoint(handler: Handler, *, scope: str, admin: bool = False,
             all_sites: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, check the caller may (``scope``; ``admin`` for desk users; ``all_sites``
    for what no one site owns) and sees the path's customer, run ``handler``, and turn every
    expected failure into a JSON 4xx."""

    async def run(request: Request) -> Response:
        try:
            for value in (request.url.path, *request.query_params.values(), *request.path_params.values()):
                if "\x00" in str(value):
                    raise ApiError(400, "bad_request", "NUL characters are not accepted")
            caller = await _caller(request)
            if admin and caller.role not in ("api", "admin"):
                raise ApiError(403, "forbidden", "only an admin (or an API key) may do this")
            if scope not in caller.scopes:
                raise ApiError(403, "forbidden", f"this API key lacks the {scope!r} scope "
                               f"(it has: {', '.join(caller.scopes) or 'none'})")
            if all_sites and caller.site is not None:
                raise ApiError(403, "forbidden", "this is shared by every site: use a key made "
                               "for every site (otodesk apikey create NAME)")
            if "customer_id" in request.path_params:
                await _visible(request, caller, request.path_params["customer_id"])
            return await handler(request, caller)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except NotFound as exc:
            return error_response(404, "not_found", str(exc))
        except Conflict as exc:
            return error_response(409, "conflict", str(exc))
        except ValueError as exc:
            return error_response(422, "invalid", str(exc))

    return run


async def _visible(request: Request, caller: Caller, customer_id: str) -> None:
    """NotFound unless the caller's site holds this customer (another site's are not there)."""
    if caller.site is None:
        return
    customer = await request.app.state.repo.resolve_customer(customer_id)
    if customer is None or not caller.sees(customer):
        raise NotFound(f"No customer with id {customer_id!r}")


# -- customers -------------------------------------------------------------------


async def list_customers(request: Request, caller: Caller) -> Response:
    repo = request.app.state.repo
    limit = _limit(request)
    query = request.query_params.get("q")
    if query is not None:
        found = await repo.search_customers(query, default_region=request.app.state.settings.default_region,
                                            limit=limit)
        return JSONResponse(_page([_customer_json(c) for c in found if caller.sees(c)], None))
    customers = await repo.list_customers(limit=limit, after=request.query_params.get("cursor"),
                                          site=caller.site)
    cursor = customers[-1].id if len(customers) == limit else None
    return JSONResponse(_page([_customer_json(c) for c in customers], cursor))


async def create_customer(request: Request, caller: Caller) -> Response:
    body = await json_body(request, CustomerIn)
    customer = await request.app.state.repo.create_customer(
        name=body.name, email=body.email, phone=checked_phone(request, body.phone), user_id=body.user_id,
        source=caller.actor, site=caller.site or "default")
    return JSONResponse(_customer_json(customer), status_code=201)


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
    return JSONResponse(_customer_json(customer))


async def erase_customer(request: Request, caller: Caller) -> Response:
    state = request.app.state
    result = await erase_everywhere(state.repo, state.bus, state.settings,
                                    request.path_params["customer_id"], requested_by=caller.actor)
    return JSONResponse({"erased": True, "counts": result.counts})


async def list_identities(request: Request, caller: Caller) -> Response:
    repo = request.app.state.repo
    customer_id = request.path_params["customer_id"]
    if await repo.resolve_customer(customer_id) is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    return JSONResponse(_page([_identity_json(i) for i in await repo.identities(customer_id)], None))


async def add_identity(request: Request, caller: Caller) -> Response:
    body = await json_body(request, IdentityIn)
    value = checked_phone(request, body.value) if body.kind == "phone" else body.value
    identity = await request.app.state.repo.add_identity(
        request.path_params["customer_id"], body.kind, value, verified=body.verified, source=caller.actor)
    return JSONResponse(_identity_json(identity), status_code=201)


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
        request.path_params["customer_id"], limit=_limit(request), cursor=params.get("cursor") or None,
        kinds=kinds or None, channels=channels or None)
    items = await _name_agents(request.app.state.repo, [event_json(e) for e in page.events])
    return JSONResponse(_page(items, page.next_cursor))


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
    await _visible(request, caller, body.source_id)
    record = await request.app.state.repo.merge_customers(
        body.source_id, request.path_params["customer_id"], actor=caller.actor, reason=body.reason)
    return JSONResponse(_merge_json(record), status_code=201)


async def unmerge(request: Request, caller: Caller) -> Response:
    body = await json_body(request, UnmergeIn)
    record = await request.app.state.repo.unmerge_customer(
        request.path_params["customer_id"], actor=caller.actor, reason=body.reason)
    return JSONResponse(_merge_json(record), status_code=201)


async def merges(request: Request, caller: Caller) -> Response:
    repo = request.app.state.repo
    customer_id = request.path_params["customer_id"]
    if await repo.resolve_customer(customer_id) is None:
        raise NotFound(f"No customer with id {customer_id!r}")
    return JSONResponse(_page([_merge_json(m) for m in await repo.merge_history(customer_id)], None))


# -- orders and products ------------------------------------------------------------


async def list_orders(request: Request, caller: Caller) -> Response:
    limit = _limit(request)
    customer_id = request.query_params.get("customer_id")
    if caller.site is not None:
        if customer_id is None:
            raise ApiError(422, "invalid", "a key made for one site lists orders by customer_id")
        await _visible(request, caller, customer_id)
    orders = await request.app.state.repo.list_orders(
        customer_id=request.query_params.get("customer_id"), limit=limit,
        after=request.query_params.get("cursor"))
    cursor = orders[-1].id if len(orders) == limit else None
    return JSONResponse(_page([_order_json(o) for o in orders], cursor))


async def create_order(request: Request, caller: Caller) -> Response:
    body = await json_body(request, OrderIn)
    await _visible(request, caller, body.customer_id)
    order = await request.app.state.repo.add_order(
        id=body.id, customer_id=body.customer_id, placed_at=body.placed_at,
        total_cents=body.total_cents, currency=body.currency, status=body.status,
        items=[msgspec.structs.asdict(i) for i in body.items])
    return JSONResponse(_order_json(order), status_code=201)


async def get_order(request: Request, caller: Caller) -> Response:
    order = await request.app.state.repo.get_order(request.path_params["order_id"])
    if order is None:
        raise NotFound(f"No order with id {request.path_params['order_id']!r}")
    try:
        await _visible(request, caller, order.customer_id)
    except NotFound:
        raise NotFound(f"No order with id {request.path_params['order_id']!r}") from None
    return JSONResponse(_order_json(order))


async def list_products(request: Request, caller: Caller) -> Response:
    limit = _limit(request)
    products = await request.app.state.repo.list_products(limit=limit, after=request.query_params.get("cursor"))
    cursor = products[-1].sku if len(products) == limit else None
    return JSONResponse(_page([_product_json(p) for p in products], cursor))


async def put_product(request: Request, caller: Caller) -> Response:
    body = await json_body(request, ProductIn)
    sku = request.path_params["sku"]
    if len(sku) > 200:
        raise ApiError(422, "invalid", "a sku has at most 200 characters")
    product = await request.app.state.repo.put_product(
        sku=sku, name=body.name, price_cents=body.price_cents, currency=body.currency,
        category=body.category)
    return JSONResponse(_product_json(product))


async def get_product(request: Request, caller: Caller) -> Response:
    product = await request.app.state.repo.get_product(request.path_params["sku"])
    if product is None:
        raise NotFound(f"No product with sku {request.path_params['sku']!r}")
    return JSONResponse(_product_json(product))


# -- signing out and erasure tombstones ------------------------------------------------


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
    rows = await request.app.state.repo.list_erased_users(since=since, limit=_limit(request))
    return JSONResponse(_page([{"user_key": key, "erased_at": at} for key, at in rows], None))


async def lift_erasure(request: Request, caller: Caller) -> Response:
    """The person signed up again and asked to be known: identify may link their user id again."""
    if not await request.app.state.repo.lift_tombstone(request.path_params["user_key"]):
        raise NotFound("No erased user with that key")
    return Response(status_code=204)


# -- analytics (desktop/leader/analytics_job.py computes; desktop/web/api/analytics_views.py shapes) --


async def customer_analytics(request: Request, caller: Caller) -> Response:
    from desktop.web.api.analytics_views import customer_analytics_json, run_json

    repo = request.app.state.repo
    customer = await repo.resolve_customer(request.path_params["customer_id"])
    if customer is None:
        raise NotFound(f"No customer with id {request.path_params['customer_id']!r}")
    latest, current = await repo.analytics_status()
    score = await repo.customer_score(customer.id)
    names = {}
    for sku in score.data.get("recommendations", []) if score else ():
        product = await repo.get_product(sku)
        if product is not None:
            names[sku] = product.name
    # The run the scores come from, even if another finished between the two reads.
    run = run_json(latest, score.run if score else current)
    return JSONResponse(customer_analytics_json(customer.id, score, run, names))


async def associated_products(request: Request, caller: Caller) -> Response:
    from desktop.web.api.analytics_views import associated_json, run_json

    cart = request.query_params.getlist("sku")
    if not cart or len(cart) > 100 or any(len(s) > 200 for s in cart):
        raise ApiError(422, "invalid", "give the cart as 1 to 100 sku parameters (?sku=A&sku=B)")
    repo = request.app.state.repo
    found = associated_json(cart, await repo.product_rules(), run_json(*await repo.analytics_status()),
                            limit=min(_limit(request), 20) if "limit" in request.query_params else 5)
    for item in found["items"]:
        product = await repo.get_product(item["sku"])
        item["name"] = product.name if product else None
    return JSONResponse(found)


async def openapi(request: Request) -> Response:
    from desktop.web.api.openapi import openapi_document

    return JSONResponse(openapi_document())


_C = "/api/v1/customers/{customer_id}"
routes = [
    Route("/api/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/customers", endpoint(list_customers, scope="read"), methods=["GET"]),
    Route("/api/v1/customers", endpoint(create_customer, scope="write"), methods=["POST"]),
    Route(_C, endpoint(get_customer, scope="read"), methods=["GET"]),
    Route(_C, endpoint(patch_customer, scope="write"), methods=["PATCH"]),
    Route(_C, endpoint(erase_customer, scope="erase", admin=True), methods=["DELETE"]),
    Route(f"{_C}/identities", endpoint(list_identities, scope="read"), methods=["GET"]),
    Route(f"{_C}/identities", endpoint(add_identity, scope="write"), methods=["POST"]),
    Route(f"{_C}/identities/{{identity_id}}", endpoint(remove_identity, scope="write"), methods=["DELETE"]),
    Route(f"{_C}/events", endpoint(list_events, scope="read"), methods=["GET"]),
    Route(f"{_C}/events", endpoint(add_event, scope="write"), methods=["POST"]),
    Route(f"{_C}/merge", endpoint(merge, scope="write"), methods=["POST"]),
    Route(f"{_C}/unmerge", endpoint(unmerge, scope="write"), methods=["POST"]),
    Route(f"{_C}/merges", endpoint(merges, scope="read"), methods=["GET"]),
    Route(f"{_C}/sign-out", endpoint(sign_out_customer, scope="write"), methods=["POST"]),
    Route("/api/v1/erasures", endpoint(list_erasures, scope="read", all_sites=True), methods=["GET"]),
    Route("/api/v1/erasures/{user_key}", endpoint(lift_erasure, scope="erase", admin=True, all_sites=True),
          methods=["DELETE"]),
    Route("/api/v1/orders", endpoint(list_orders, scope="read"), methods=["GET"]),
    Route("/api/v1/orders", endpoint(create_order, scope="write"), methods=["POST"]),
    Route("/api/v1/orders/{order_id}", endpoint(get_order, scope="read"), methods=["GET"]),
    Route(f"{_C}/analytics", endpoint(customer_analytics, scope="read"), methods=["GET"]),
    Route("/api/v1/associations", endpoint(associated_products, scope="read"), methods=["GET"]),
    Route("/api/v1/products", endpoint(list_products, scope="read"), methods=["GET"]),
    Route("/api/v1/products/{sku}", endpoint(put_product, scope="write", all_sites=True), methods=["PUT"]),
    Route("/api/v1/products/{sku}", endpoint(get_product, scope="read"), methods=["GET"]),
]
