"""``/api/v1/customers/{id}/analytics`` and ``/api/v1/associations``: what the analytics job
(desktop/leader/analytics_job.py) computed; :mod:`desktop.web.api.analytics_views` shapes it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desktop.repository.errors import NotFound
from desktop.web.api.common import ApiError, Caller, limit_param

__all__ = ["associated_products", "customer_analytics"]


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
                            limit=min(limit_param(request), 20) if "limit" in request.query_params else 5)
    for item in found["items"]:
        product = await repo.get_product(item["sku"])
        item["name"] = product.name if product else None
    return JSONResponse(found)
