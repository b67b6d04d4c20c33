"""The OpenAPI 3.1 document of ``/api/v1``: request bodies generated from the msgspec
structs :mod:`desktop.web.api` validates with, so the two cannot drift apart."""

from __future__ import annotations

import functools
from typing import Any

import msgspec

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{name}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response.update(_json(schema))
    return response


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": _ref(item)},
        "next_cursor": {"type": ["string", "null"]}}}


_ERRORS = {
    "400": _ok("Malformed request", _ref("Error")),
    "401": _ok("No or bad credentials", _ref("Error")),
    "403": _ok("Not allowed", _ref("Error")),
    "404": _ok("Unknown resource", _ref("Error")),
    "409": _ok("Conflict", _ref("Error")),
    "413": _ok("Too large", _ref("Error")),
    "415": _ok("Not JSON", _ref("Error")),
    "422": _ok("Invalid values", _ref("Error")),
}

_LIMIT = {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}
_CURSOR = {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
           "description": "next_cursor of the previous page"}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def _op(summary: str, responses: dict[str, Any], *, body: str | None = None,
        parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**responses, **_ERRORS}}
    if body:
        operation["requestBody"] = {"required": True, **_json(_ref(body))}
    if parameters:
        operation["parameters"] = parameters
    return operation


@functools.cache
def openapi_document() -> dict[str, Any]:
    from desktop.web import admin, api

    bodies = (api.CustomerIn, api.CustomerPatch, api.IdentityIn, api.EventIn, api.MergeIn,
              api.UnmergeIn, api.OrderIn, api.ProductIn, *admin.BODIES)
    _, components = msgspec.json.schema_components(bodies, ref_template=_REF)
    number = {"type": "number"}
    nullable = {"type": ["string", "null"]}
    components.update({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Customer": {"type": "object", "required": ["id", "tier"], "properties": {
            "id": {"type": "string"}, "name": nullable, "email": nullable, "phone": nullable,
            "tier": {"enum": ["standard", "silver", "gold", "platinum"]},
            "created_at": number, "updated_at": number}},
        "Identity": {"type": "object", "required": ["kind", "value", "verified"], "properties": {
            "id": {"type": ["integer", "null"]}, "customer_id": {"type": "string"},
            "kind": {"enum": ["phone", "email", "user_id", "visitor"]}, "value": {"type": "string"},
            "verified": {"type": "boolean"}, "source": {"type": "string"}, "created_at": number}},
        "Event": {"type": "object", "required": ["id", "kind", "channel", "at"], "properties": {
            "id": {"type": "integer"}, "customer_id": {"type": "string"}, "kind": {"type": "string"},
            "channel": {"type": "string"}, "at": number, "agent_id": nullable, "agent_name": nullable, "visitor_id": nullable,
            "callback_id": nullable, "data": {"type": "object"}}},
        "Summary": {"type": "object", "required": ["customer", "identities", "last_contacts"],
                    "properties": {
                        "customer": _ref("Customer"), "merged": {"type": "array", "items": {"type": "string"}},
                        "identities": {"type": "array", "items": _ref("Identity")},
                        "spend_365d_cents": {"type": "integer"}, "orders_365d": {"type": "integer"},
                        "open_issues": {"type": "array", "items": {"type": "object"}},
                        "last_contacts": {"type": "array", "items": _ref("Event")},
                        "timeline": _page("Event")}},
        "Merge": {"type": "object", "required": ["id", "action", "source_id", "target_id"], "properties": {
            "id": {"type": "integer"}, "action": {"enum": ["merge", "unmerge"]},
            "source_id": {"type": "string"}, "target_id": {"type": "string"},
            "actor": {"type": "string"}, "reason": {"type": "string"}, "at": number}},
        "Order": {"type": "object", "required": ["id", "customer_id", "total_cents"], "properties": {
            "id": {"type": "string"}, "customer_id": {"type": "string"}, "placed_at": number,
            "total_cents": {"type": "integer"}, "currency": {"type": "string"},
            "status": {"type": "string"}, "items": {"type": "array", "items": {"type": "object"}},
            "created_at": number}},
        "Product": {"type": "object", "required": ["sku", "name", "price_cents"], "properties": {
            "sku": {"type": "string"}, "name": {"type": "string"}, "price_cents": {"type": "integer"},
            "currency": {"type": "string"}, "category": {"type": "string"},
            "created_at": number, "updated_at": number}},
        "AnalyticsRun": {"type": "object", "required": ["id", "notice"], "properties": {
            "id": {"type": ["integer", "null"]}, "computed_at": {"type": ["number", "null"]},
            "finished_at": {"type": ["number", "null"]}, "model_version": nullable,
            "notice": {**nullable, "description": "set when the latest run failed (these are the "
                       "previous results) or there are no results yet"}}},
        "CustomerAnalytics": {"type": "object", "required": ["customer_id", "run", "analytics"], "properties": {
            "customer_id": {"type": "string"}, "run": _ref("AnalyticsRun"),
            "analytics": {"type": ["object", "null"], "properties": {
                "tier": {"enum": ["standard", "silver", "gold", "platinum"]},
                "previous_tier": {"enum": ["standard", "silver", "gold", "platinum", None]},
                "trend": {"enum": ["up", "down", "same", "new"]},
                "tier_history": {"type": "array", "items": {"type": "object", "properties": {
                    "period_end": number, "tier": {"enum": ["standard", "silver", "gold", "platinum", None]}}}},
                "recency_days": {"type": ["number", "null"]}, "frequency": {"type": "integer"},
                "monetary_cents": {"type": "integer"},
                "p_alive": {"type": ["number", "null"], "description": "BG/NBD probability still active"},
                "expected_purchases": {"type": ["number", "null"], "description": "in the next period"},
                "expected_spend_cents": {"type": ["number", "null"], "description": "Gamma-Gamma, per order"},
                "at_risk": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}},
                "recommendations": {"type": "array", "items": {"type": "object", "properties": {
                    "sku": {"type": "string"}, "name": nullable}}}}}}},
        "Associated": {"type": "object", "required": ["run", "items"], "properties": {
            "run": _ref("AnalyticsRun"), "items": {"type": "array", "items": {"type": "object", "properties": {
                "sku": {"type": "string"}, "name": nullable,
                "because": {"type": "array", "items": {"type": "string"}},
                "support": number, "confidence": number, "lift": number}}}}},
        "Erased": {"type": "object", "required": ["erased", "counts"], "properties": {
            "erased": {"type": "boolean"}, "counts": {"type": "object"}}},
    })
    customer = _path("customer_id")
    paths = {
        "/api/v1/customers": {
            "get": _op("List customers, or search them with q (name, phone in any format, e-mail, id)",
                       {"200": _ok("A page of customers", _page("Customer"))},
                       parameters=[{"name": "q", "in": "query", "required": False,
                                    "schema": {"type": "string", "maxLength": 200}}, _LIMIT, _CURSOR]),
            "post": _op("Create a customer (user_id becomes a verified identity)",
                        {"201": _ok("Created", _ref("Customer"))}, body="CustomerIn"),
        },
        "/api/v1/customers/{customer_id}": {
            "get": _op("The customer's summary (merged customers resolve to their head); "
                       "with timeline=N also the first N timeline entries",
                       {"200": _ok("Summary", _ref("Summary"))},
                       parameters=[customer, {"name": "timeline", "in": "query", "required": False,
                                              "schema": {"type": "integer", "minimum": 0, "maximum": 200}}]),
            "patch": _op("Correct name or contact details", {"200": _ok("Updated", _ref("Customer"))},
                         body="CustomerPatch", parameters=[customer]),
            "delete": _op("Erase the person everywhere (database, files, Redis); admin or API key",
                          {"200": _ok("Erased", _ref("Erased"))}, parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/identities": {
            "get": _op("The customer's identities (visitors included)",
                       {"200": _ok("Identities", _page("Identity"))}, parameters=[customer]),
            "post": _op("Attach an identity; a verified one must not belong to another customer",
                        {"201": _ok("Attached", _ref("Identity"))}, body="IdentityIn", parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/identities/{identity_id}": {
            "delete": _op("Detach an identity", {"204": _ok("Detached")},
                          parameters=[customer, {"name": "identity_id", "in": "path", "required": True,
                                                 "schema": {"type": "integer", "minimum": 1}}]),
        },
        "/api/v1/customers/{customer_id}/events": {
            "get": _op("The timeline, newest first, filtered by kind and channel",
                       {"200": _ok("A page of events", _page("Event"))},
                       parameters=[customer, _LIMIT, _CURSOR,
                                   {"name": "kind", "in": "query", "required": False,
                                    "schema": {"type": "string"}, "description": "comma-separated"},
                                   {"name": "channel", "in": "query", "required": False,
                                    "schema": {"type": "string"}, "description": "comma-separated"}]),
            "post": _op("Log a contact that happened elsewhere (e-mail, inbound call, chat, "
                        "store visit, meeting) or a note", {"201": _ok("Logged", _ref("Event"))},
                        body="EventIn", parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/merge": {
            "post": _op("Merge source_id into this customer (audited, reversible)",
                        {"201": _ok("Merged", _ref("Merge"))}, body="MergeIn", parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/unmerge": {
            "post": _op("Undo the merge of this customer (audited)",
                        {"201": _ok("Unmerged", _ref("Merge"))}, body="UnmergeIn", parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/merges": {
            "get": _op("The merge audit", {"200": _ok("Merges", _page("Merge"))}, parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/sign-out": {
            "post": _op("Sign the person out of every browser: their widget visitor tokens are revoked "
                        "(the site's server, at its own sign-out)",
                        {"200": _ok("Signed out", {"type": "object", "properties": {
                            "signed_out": {"type": "boolean"}, "visitors": {"type": "integer"}}})},
                        parameters=[customer]),
        },
        "/api/v1/customers/{customer_id}/analytics": {
            "get": _op("The customer's value tier and its trend, RFM, attrition (probability still "
                       "active, expected purchases and spend), at-risk reasons and recommended products, "
                       "from the latest successful analytics run",
                       {"200": _ok("Analytics (null before the customer's first analysed order)",
                                   _ref("CustomerAnalytics"))}, parameters=[customer]),
        },
        "/api/v1/associations": {
            "get": _op("Products associated with a cart (association rules of the latest analytics run)",
                       {"200": _ok("Associated products, strongest first", _ref("Associated"))},
                       parameters=[{"name": "sku", "in": "query", "required": True,
                                    "schema": {"type": "array", "minItems": 1, "maxItems": 100,
                                               "items": {"type": "string", "minLength": 1, "maxLength": 200}},
                                    "style": "form", "explode": True},
                                   {"name": "limit", "in": "query", "required": False,
                                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 5}}]),
        },
        "/api/v1/erasures": {
            "get": _op("Tombstones of erased signed-in customers, oldest first: user_key is the site's "
                       "HMAC of the user id (identify's user_hash); a key for every site only",
                       {"200": _ok("A page of tombstones", {"type": "object", "properties": {
                           "items": {"type": "array", "items": {"type": "object", "properties": {
                               "user_key": {"type": "string"}, "erased_at": number}}},
                           "next_cursor": {"type": "null"}}})},
                       parameters=[{"name": "since", "in": "query", "required": False,
                                    "schema": {"type": "number", "minimum": 0},
                                    "description": "only erasures after this (epoch s)"}, _LIMIT]),
        },
        "/api/v1/erasures/{user_key}": {
            "delete": _op("Lift a tombstone (the person signed up again and asked to be known); "
                          "a key for every site only", {"204": _ok("Lifted")},
                          parameters=[_path("user_key")]),
        },
        "/api/v1/orders": {
            "get": _op("List orders (of one customer with customer_id)",
                       {"200": _ok("A page of orders", _page("Order"))},
                       parameters=[{"name": "customer_id", "in": "query", "required": False,
                                    "schema": {"type": "string", "maxLength": 200}}, _LIMIT, _CURSOR]),
            "post": _op("Record an order; the customer's value tier follows",
                        {"201": _ok("Recorded", _ref("Order"))}, body="OrderIn"),
        },
        "/api/v1/orders/{order_id}": {
            "get": _op("One order", {"200": _ok("Order", _ref("Order"))}, parameters=[_path("order_id")]),
        },
        "/api/v1/products": {
            "get": _op("List products", {"200": _ok("A page of products", _page("Product"))},
                       parameters=[_LIMIT, _CURSOR]),
        },
        "/api/v1/products/{sku}": {
            "get": _op("One product", {"200": _ok("Product", _ref("Product"))}, parameters=[_path("sku")]),
            "put": _op("Create or replace a product", {"200": _ok("Stored", _ref("Product"))},
                       body="ProductIn", parameters=[_path("sku")]),
        },
    }
    # What scope each operation needs (desk users: erasures need an admin).
    for path, operations in paths.items():
        for method, operation in operations.items():
            erasing = method == "delete" and path in ("/api/v1/customers/{customer_id}",
                                                      "/api/v1/erasures/{user_key}")
            scope = "erase" if erasing else "read" if method == "get" else "write"
            operation["x-otodesk-scope"] = scope
            operation["description"] = f"API key scope: {scope}."
    # The admin console's API: an admin's session only (desktop/web/admin.py describes it).
    paths.update(admin.openapi_paths(_op, _ok, _ref, _path))
    components.update(admin.openapi_components())
    return {
        "openapi": "3.1.0",
        "info": {"title": "otodesk Customer Contact Repository", "version": "1.0.0",
                 "description": "Customers, identities, timeline events, orders and products. "
                                "Authenticate with a per-site API key (otodesk apikey create): "
                                "its scopes (read, write, erase) say what it may do, and a key "
                                "made for one site sees only that site's customers."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "otk_<id>_<secret>"}}},
    }
