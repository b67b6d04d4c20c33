"""The REST API of the Customer Contact Repository (``/api/v1``), described at ``/api/openapi.json``.

One module a resource (``customers``, ``commerce``, ``privacy``, ``analytics``, ``rules``: the
planner's business rules, and ``rules_stats``, their results; staff only), what they share
in ``common``; request bodies in ``schemas``, response shapes in ``responses``, both apart from
the handlers; the OpenAPI document in ``openapi``.

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

from starlette.routing import Route

from desktop.web.api.analytics import associated_products, customer_analytics
from desktop.web.api.commerce import create_order, get_order, get_product, list_orders, list_products, put_product
from desktop.web.api.common import endpoint
from desktop.web.api.customers import (
    add_event, add_identity, create_customer, events_feed, get_customer, list_customers, list_events, list_identities,
    merge, merges, patch_customer, remove_identity, unmerge,
)
from desktop.web.api.openapi import openapi
from desktop.web.api.privacy import erase_customer, lift_erasure, list_erasures, sign_out_customer
from desktop.web.api.rules import routes as rules_routes
from desktop.web.api.rules_stats import routes as rules_stats_routes

__all__ = ["routes"]

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
    Route("/api/v1/events", endpoint(events_feed, scope="read"), methods=["GET"]),
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
    *rules_routes, *rules_stats_routes,
]
