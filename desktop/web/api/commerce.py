"""``/api/v1/orders`` and ``/api/v1/products``: what customers bought, what there is to buy."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desktop.repository.errors import NotFound
from desktop.web.api.common import ApiError, Caller, check_visible, json_body, limit_param
from desktop.web.api.responses import order_json, page_json, product_json
from desktop.web.api.schemas import OrderIn, ProductIn

__all__ = ["create_order", "get_order", "get_product", "list_orders", "list_products", "put_product"]


async def list_orders(request: Request, caller: Caller) -> Response:
    limit = limit_param(request)
    customer_id = request.query_params.get("customer_id")
    if caller.site is not None:
        if customer_id is None:
            raise ApiError(422, "invalid", "a key made for one site lists orders by customer_id")
        await check_visible(request, caller, customer_id)
    orders = await request.app.state.repo.list_orders(
        customer_id=request.query_params.get("customer_id"), limit=limit,
        after=request.query_params.get("cursor"))
    cursor = orders[-1].id if len(orders) == limit else None
    return JSONResponse(page_json([order_json(o) for o in orders], cursor))


async def create_order(request: Request, caller: Caller) -> Response:
    body = await json_body(request, OrderIn)
    await check_visible(request, caller, body.customer_id)
    order = await request.app.state.repo.add_order(
        id=body.id, customer_id=body.customer_id, placed_at=body.placed_at,
        total_cents=body.total_cents, currency=body.currency, status=body.status,
        items=[msgspec.structs.asdict(i) for i in body.items])
    return JSONResponse(order_json(order), status_code=201)


async def get_order(request: Request, caller: Caller) -> Response:
    order = await request.app.state.repo.get_order(request.path_params["order_id"])
    if order is None:
        raise NotFound(f"No order with id {request.path_params['order_id']!r}")
    try:
        await check_visible(request, caller, order.customer_id)
    except NotFound:
        raise NotFound(f"No order with id {request.path_params['order_id']!r}") from None
    return JSONResponse(order_json(order))


async def list_products(request: Request, caller: Caller) -> Response:
    limit = limit_param(request)
    products = await request.app.state.repo.list_products(limit=limit, after=request.query_params.get("cursor"))
    cursor = products[-1].sku if len(products) == limit else None
    return JSONResponse(page_json([product_json(p) for p in products], cursor))


async def put_product(request: Request, caller: Caller) -> Response:
    body = await json_body(request, ProductIn)
    sku = request.path_params["sku"]
    if len(sku) > 200:
        raise ApiError(422, "invalid", "a sku has at most 200 characters")
    product = await request.app.state.repo.put_product(
        sku=sku, name=body.name, price_cents=body.price_cents, currency=body.currency,
        category=body.category)
    return JSONResponse(product_json(product))


async def get_product(request: Request, caller: Caller) -> Response:
    product = await request.app.state.repo.get_product(request.path_params["sku"])
    if product is None:
        raise NotFound(f"No product with sku {request.path_params['sku']!r}")
    return JSONResponse(product_json(product))
