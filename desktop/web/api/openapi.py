"""The OpenAPI 3.1 document of ``/api/v1``: request bodies generated from the msgspec
structs :mod:`desktop.web.api.schemas` holds (the API validates with them), so the two cannot drift apart."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from desktop.web.api import schemas

__all__ = ["openapi", "openapi_document"]

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


_REPORT_PARAMETERS = [
    {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "first local day (YYYY-MM-DD); by default 7 days before today"},
    {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "last local day, inclusive; not after today; at most 2 years after from"},
    {"name": "period", "in": "query", "required": False,
     "schema": {"enum": ["hour", "day", "week"], "default": "day"},
     "description": "hour only for ranges of up to 31 days"},
]


@functools.cache
def openapi_document() -> dict[str, Any]:
    from desktop.web import admin, admin_centre, admin_queues, admin_webhooks, kb_admin
    from desktop.web.api.rules_stats import stats_schema

    bodies = (schemas.CustomerIn, schemas.CustomerPatch, schemas.IdentityIn, schemas.EventIn, schemas.MergeIn,
              schemas.UnmergeIn, schemas.OrderIn, schemas.ProductIn, *admin.BODIES, *admin_queues.BODIES, *admin_webhooks.BODIES,
              *kb_admin.BODIES, *admin_centre.BODIES)
    _, components = msgspec.json.schema_components(bodies, ref_template=_REF)
    number = {"type": "number"}
    nullable = {"type": ["string", "null"]}
    components.update({
        "RuleStats": stats_schema(),
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           # facts for a page to word the error in its reader's language
                           "detail": {"type": "object"}}}}},
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
                "rfm_scores": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 0, "maximum": 5},
                               "description": "recency, frequency and monetary scores 1-5 (quintiles of "
                                              "this period's customers; 0 without an order this period); null before a run "
                                              "that scored them"},
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
        "ReportTable": {"type": "object", "required": ["columns", "rows"], "properties": {
            "columns": {"type": "array", "items": {"type": "object", "required": ["key", "label", "unit"],
                                                   "properties": {
                "key": {"type": "string"}, "label": {"type": "string"},
                "unit": {"enum": ["text", "count", "percent", "seconds", "hours"],
                         "description": "percent: a ratio 0-1; hours: given in seconds"}}}},
            "rows": {"type": "array", "items": {"type": "object", "description": "values by column key"}},
            "omitted": {"type": "integer", "description": "a by-period table too long for the page: its row "
                        "count (rows is empty); its CSV has them all"}}},
        "Report": {"type": "object", "required": ["range", "totals", "chart", "tables"], "properties": {
            "range": {"type": "object", "properties": {
                "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                "days": {"type": "integer"}, "time_zone": {"type": "string"},
                "period": {"enum": ["hour", "day", "week"]}, "start": number, "end": number}},
            "totals": {"type": "object", "description": "every queue together: offered, answered, abandoned, "
                       "short_abandoned, service_level, abandon_rate, average_speed_of_answer, "
                       "average_handle_time (talk + hold + wrap-up), scheduled_kept, scheduled_missed, ..."},
            "chart": {"type": "object", "properties": {
                "labels": {"type": "array", "items": {"type": "string"}},
                "offered": {"type": "array", "items": {"type": "integer"}},
                "answered": {"type": "array", "items": {"type": "integer"}},
                "abandoned": {"type": "array", "items": {"type": "integer"}},
                "service_level": {"type": "array", "items": {"type": ["number", "null"]}}}},
            "tables": {"type": "object", "properties": {
                name: _ref("ReportTable") for name in
                ("comparison", "queues", "queue_periods", "agents", "agent_periods", "dispositions",
                 "satisfaction")}}}},
        "Erased": {"type": "object", "required": ["erased", "counts"], "properties": {
            "erased": {"type": "boolean"}, "counts": {"type": "object"}}},
    })
    customer = _path("customer_id")
    paths = {
        "/api/v1/customers": {
            "get": _op("List customers, or search them with q (name, phone in any format, e-mail, id), "
                       "or follow the change feed with changed_since",
                       {"200": _ok("A page of customers", _page("Customer"))},
                       parameters=[{"name": "q", "in": "query", "required": False,
                                    "schema": {"type": "string", "maxLength": 200}}, _LIMIT, _CURSOR,
                                   {"name": "changed_since", "in": "query", "required": False,
                                    "schema": {"type": "string", "maxLength": 24, "pattern": r"^(0|c1\.[0-9]+)$"},
                                    "description": "0 for everything, then the next_cursor of the previous "
                                                   "answer: customers created or changed since, oldest change "
                                                   "first, merged ones too (merged_into); next_cursor is always "
                                                   "set, poll with it again. Not with q or cursor."}]),
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
        "/api/v1/reports": {
            "get": _op("The contact centre's history over a range of local days (the centre's time zone): "
                       "per queue and agent, per period, with the comparison a week, a month and a year "
                       "earlier; for supervisors, planners and admins, or a key for every site",
                       {"200": _ok("The report", _ref("Report"))}, parameters=_REPORT_PARAMETERS),
        },
        "/api/v1/reports/{table}.csv": {
            "get": {**_op("One table of the report as CSV (the values as the reports page shows them)",
                          {"200": {"description": "CSV, a header row of labels with units",
                                   "content": {"text/csv": {"schema": {"type": "string"}}}}},
                          parameters=[{"name": "table", "in": "path", "required": True, "schema": {
                              "enum": ["comparison", "queues", "queue_periods", "agents", "agent_periods",
                                       "dispositions", "satisfaction", "kb_deflection"]}}, *_REPORT_PARAMETERS])},
        },
        "/api/v1/events": {
            "get": _op("The contacts' change feed: every customer's timeline entries added since changed_since, "
                       "oldest first (an entry is never changed once written)",
                       {"200": _ok("A page of events", _page("Event"))},
                       parameters=[_LIMIT, {"name": "changed_since", "in": "query", "required": False,
                                            "schema": {"type": "string", "maxLength": 48,
                                                       "pattern": r"^(0|e1\.[0-9]+\.[0-9]+)$"},
                                            "description": "0 (the default) for everything, then the "
                                                           "next_cursor of the previous answer; next_cursor is "
                                                           "always set, poll with it again"}]),
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
        "/api/v1/rules/stats": {
            "get": _op("What the suggestions achieved, per action and published version: impressions, "
                       "presentation rate, acceptance rate with its 95% Wilson interval, revenue of the "
                       "orders attributed to accepted suggestions, by queue and by value tier, week by week "
                       "(planners, supervisors and admins at the desk)",
                       {"200": _ok("Results over the period", _ref("RuleStats"))},
                       parameters=[
                           {"name": "from", "in": "query", "required": False,
                            "schema": {"type": "string", "format": "date"},
                            "description": "first UTC day (default: 27 days before to)"},
                           {"name": "to", "in": "query", "required": False,
                            "schema": {"type": "string", "format": "date"},
                            "description": "last UTC day, included (default: today)"},
                           {"name": "action_id", "in": "query", "required": False,
                            "schema": {"type": "string", "maxLength": 200}}]),
        },
    }
    # What scope each operation needs (desk users: erasures need an admin).
    for path, operations in paths.items():
        if path.startswith("/api/v1/rules"):
            continue
        for method, operation in operations.items():
            erasing = method == "delete" and path in ("/api/v1/customers/{customer_id}",
                                                      "/api/v1/erasures/{user_key}")
            scope = "erase" if erasing else "read" if method == "get" else "write"
            operation["x-otodesk-scope"] = scope
            operation["description"] = f"API key scope: {scope}."
    rules_components, rules_paths = _rules()
    components.update(rules_components)
    paths.update(rules_paths)
    # The admin console's API: an admin's session only (desktop/web/admin.py describes it).
    paths.update(admin.openapi_paths(_op, _ok, _ref, _path))
    components.update(admin.openapi_components())
    paths.update(admin_queues.openapi_paths(_op, _ok, _ref, _path))  # queues: their own module
    components.update(admin_queues.openapi_components())
    paths.update(admin_webhooks.openapi_paths(_op, _ok, _ref, _path))
    components.update(admin_webhooks.openapi_components())
    paths.update(kb_admin.openapi_paths(_op, _ok, _ref, _path))  # the knowledge base's articles
    components.update(kb_admin.openapi_components())
    paths.update(admin_centre.openapi_paths(_op, _ok, _ref, _path))  # urgent words, the widget, its sites
    components.update(admin_centre.openapi_components())
    return {
        "openapi": "3.1.0",
        "info": {"title": "otodesk Customer Contact Repository", "version": "1.0.0",
                 "description": "Customers, identities, timeline events, orders and products; the planner's "
                                "business rules (staff sessions only); the contact centre's history (reports). "
                                "Authenticate with a per-site API key (otodesk apikey create): "
                                "its scopes (read, write, erase) say what it may do, and a key "
                                "made for one site sees only that site's customers."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "otk_<id>_<secret>"}}},
    }


def _rules() -> tuple[dict[str, Any], dict[str, Any]]:
    """The planner's business rules (desktop/web/api/rules.py): staff sessions only."""
    from desktop.rules import Action, Decision, Snapshot
    from desktop.web.api import schemas

    _, components = msgspec.json.schema_components(
        (Action, Snapshot, Decision, schemas.PublishIn, schemas.ValidateIn, schemas.PreviewIn,
         schemas.RuleTestIn, schemas.CatalogueIn), ref_template=_REF)
    # As JSON has them (a tuple default is a list), so the served document equals this one.
    components = msgspec.json.decode(msgspec.json.encode(components))
    problem = {"type": "object", "properties": {
        "action_id": {"type": "string"}, "field": {"type": "string"}, "position": {"type": "integer"},
        "line": {"type": "integer"}, "column": {"type": "integer"}, "message": {"type": "string"}}}
    components["ConditionProblem"] = problem
    components["Version"] = {"type": "object", "required": ["version", "published_at", "published_by", "count"],
                             "properties": {"version": {"type": "integer"}, "published_at": {"type": "number"},
                                            "published_by": {"type": "string"}, "note": {"type": "string"},
                                            "count": {"type": "integer"},
                                            "actions": {"type": "array", "items": _ref("Action")},
                                            "settings": {"type": "object"}}}
    invalid = _ok("A condition or the script is wrong: error.errors lists each problem with its position "
                  "(0-based offset, 1-based line and column)", {"type": "object", "properties": {"error": {
                      "type": "object", "properties": {"code": {"const": "invalid_condition"},
                                                       "message": {"type": "string"},
                                                       "errors": {"type": "array", "items": _ref("ConditionProblem")}}}}})
    action = _path("action_id")
    actions = {"type": "object", "required": ["items"],
               "properties": {"items": {"type": "array", "items": _ref("Action")}}}
    paths = {
        "/api/v1/rules/fields": {"get": _op("The customer snapshot's fields that conditions and placeholders read",
                                            {"200": _ok("Fields", {"type": "array", "items": {"type": "object"}})})},
        "/api/v1/rules/actions": {
            "get": _op("The draft actions, in catalogue order", {"200": _ok("Drafts", actions)}),
            "post": _op("Create a draft action (its conditions and script are checked)",
                        {"201": _ok("Created", _ref("Action")), "422": invalid}, body="Action"),
        },
        "/api/v1/rules/actions/{action_id}": {
            "get": _op("One draft action", {"200": _ok("Draft", _ref("Action"))}, parameters=[action]),
            "put": _op("Replace a draft action (audited: before and after)",
                       {"200": _ok("Saved", _ref("Action")), "422": invalid}, body="Action", parameters=[action]),
            "delete": _op("Delete a draft action (published versions keep it)", {"204": _ok("Deleted")},
                          parameters=[action]),
        },
        "/api/v1/rules/validate": {"post": _op(
            "Check conditions and a script as they are typed", {"200": _ok("Problems, each with its position", {
                "type": "object", "properties": {"ok": {"type": "boolean"},
                                                 "errors": {"type": "array", "items": _ref("ConditionProblem")}}})},
            body="ValidateIn")},
        "/api/v1/rules/preview": {"post": _op(
            "A script filled from a customer's snapshot (or a given one)",
            {"200": _ok("The text the agent would read", {"type": "object", "properties": {
                "text": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object"}}}})},
            body="PreviewIn")},
        "/api/v1/rules/publish": {"post": _op(
            "Publish the drafts as a new version, live on every process within a second",
            {"201": _ok("Published", {"type": "object", "properties": {
                "version": {"type": "integer"}, "actions": {"type": "integer"}}}), "422": invalid},
            body="PublishIn")},
        "/api/v1/rules/versions": {"get": _op("Published versions, newest first, and the live one", {"200": _ok(
            "Versions", {"type": "object", "properties": {"live": {"type": "integer"},
                                                          "items": {"type": "array", "items": _ref("Version")}}})})},
        "/api/v1/rules/versions/{version}": {"get": _op(
            "One published version with its actions", {"200": _ok("Version", _ref("Version"))},
            parameters=[{"name": "version", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1}}])},
        "/api/v1/rules/audit": {"get": _op(
            "Who changed what and when, with the action before and after, newest first",
            {"200": _ok("Audit", {"type": "object", "properties": {"items": {"type": "array", "items": {
                "type": "object"}}}})},
            parameters=[{"name": "action_id", "in": "query", "required": False,
                         "schema": {"type": "string", "maxLength": 200}}])},
        "/api/v1/rules/export": {"get": _op("The drafts as one JSON document", {"200": _ok(
            "The catalogue", {"type": "object", "properties": {"actions": {
                "type": "array", "items": _ref("Action")}}})})},
        "/api/v1/rules/import": {"post": _op(
            "Replace the drafts with an exported catalogue (every action checked first)",
            {"200": _ok("Imported", {"type": "object", "properties": {"imported": {"type": "integer"}}}),
             "422": invalid}, body="CatalogueIn")},
        "/api/v1/rules/test": {"post": _op(
            "Test a customer: which actions would show now, in what order, and why each other was excluded",
            {"200": _ok("The decision and the snapshot it read", {"type": "object", "properties": {
                "version": {"type": "integer"}, "snapshot": _ref("Snapshot"),
                "suggestions": {"type": "array", "items": {"type": "object"}},
                "excluded": {"type": "array", "items": {"type": "object"}},
                "errors": {"type": "integer"}}})}, body="RuleTestIn")},
    }
    for operations in paths.values():
        for method, operation in operations.items():
            who = "planner, admin or supervisor" if method == "get" else "planner or admin"
            operation["x-otodesk-roles"] = who
            operation["description"] = f"Staff session ({who}); changes need X-CSRF-Token. API keys are refused."
    return components, paths


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())
