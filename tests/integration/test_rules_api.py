"""The planner's REST API on SQLite and PostgreSQL: who may do what, conditions refused at save
with their position, publish, versions, audit, export/import and "test a customer"."""

from __future__ import annotations

import functools

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.settings import Settings

BAG = {"id": "laptop-bag", "kind": "cross-sell", "title": "Laptop bag",
       "script": "Hi {first_name|there}, the {product} fits.", "product_name": "Voyager Laptop Bag",
       "push": {"kind": "page", "target": "/product/voyager-laptop-bag"}, "value": 89,
       "applicability": '"aurora-laptop-14" in cart_skus', "queues": ["sales"]}


@pytest.fixture
def client(database_url: str, tmp_path) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url, secret_key="test-secret",
                        process_id="rules-api")
    with TestClient(create_app(settings)) as client:
        yield client


def call(client: TestClient, fn, *args, **kwargs):
    return client.portal.call(functools.partial(fn, *args, **kwargs))


def sign_in(client: TestClient, username: str, role: str) -> dict[str, str]:
    call(client, client.app.state.repo.add_agent, username, "password-1", display_name=username.title(), role=role)
    login = client.get("/login")
    csrf = login.text.split('name="csrf_token" value="')[1].split('"')[0]
    landed = client.post("/login", data={"username": username, "password": "password-1", "csrf_token": csrf,
                                         "next": "/desk"}, follow_redirects=False)
    page = client.get(landed.headers["location"])
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0] if "csrf-token" in page.text else ""
    return {"X-CSRF-Token": token, "location": landed.headers["location"]}


def test_a_planner_lands_on_the_planner_and_only_staff_in_role_may_edit(client: TestClient) -> None:
    assert client.get("/api/v1/rules/actions").status_code == 401
    headers = sign_in(client, "pat", "planner")
    assert headers.pop("location") == "/planner"
    assert client.get("/desk", follow_redirects=False).headers["location"] == "/planner"
    assert client.post("/api/v1/rules/actions", json=BAG).status_code == 403  # no CSRF token
    assert client.post("/api/v1/rules/actions", json=BAG, headers=headers).status_code == 201
    client.cookies.clear()
    agent = sign_in(client, "ann", "agent")
    agent.pop("location")
    assert client.get("/api/v1/rules/actions").status_code == 403
    assert client.get("/planner").status_code == 403


def test_bad_conditions_are_refused_at_save_with_their_position(client: TestClient) -> None:
    headers = sign_in(client, "pat", "planner")
    headers.pop("location")
    bad = {**BAG, "eligibility": 'tier == "gold" and\n spend_90d > "lots"', "suitability": "tierr == 1"}
    answer = client.post("/api/v1/rules/actions", json=bad, headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_condition"
    errors = {e["field"]: e for e in answer.json()["error"]["errors"]}
    assert (errors["eligibility"]["line"], errors["eligibility"]["column"]) == (2, 12)
    assert "wrong type" in errors["eligibility"]["message"]
    assert errors["suitability"]["position"] == 0 and "unknown field 'tierr'" in errors["suitability"]["message"]
    # A condition that does not parse: refused at save too, at the spot where it stops making sense.
    unparsed = client.post("/api/v1/rules/actions", json={**BAG, "applicability": "cart_total >= and tier"},
                           headers=headers)
    assert unparsed.status_code == 422
    [error] = unparsed.json()["error"]["errors"]
    assert error["field"] == "applicability" and error["position"] == len("cart_total >= "), error
    script = client.post("/api/v1/rules/actions", json={**BAG, "script": "Hi {frist_name}"}, headers=headers)
    assert script.json()["error"]["errors"][0] == {
        "action_id": "laptop-bag", "field": "script", "position": 3, "line": 1, "column": 4,
        "message": "unknown placeholder {frist_name}: use a snapshot field, product or context.<key>"}
    checked = client.post("/api/v1/rules/validate", json={"applicability": "cart_total >"}, headers=headers).json()
    assert not checked["ok"] and checked["errors"][0]["position"] == len("cart_total >")
    assert client.get("/api/v1/rules/actions").json()["items"] == []  # nothing half-saved
    nul = client.post("/api/v1/rules/actions", json={**BAG, "title": "a\u0000b"}, headers=headers)
    assert nul.status_code == 422 and "NUL" in nul.json()["error"]["message"]


def test_publish_versions_audit_and_the_test_panel(client: TestClient) -> None:
    headers = sign_in(client, "pat", "planner")
    headers.pop("location")
    client.post("/api/v1/rules/actions", json=BAG, headers=headers)
    gold = {"id": "gold-care", "kind": "up-sell", "title": "Care plan", "eligibility": 'tier == "gold"', "value": 120}
    client.post("/api/v1/rules/actions", json=gold, headers=headers)
    assert client.app.state.rules.current().version == 0
    published = client.post("/api/v1/rules/publish", json={"note": "first"}, headers=headers)
    assert published.status_code == 201 and published.json() == {"version": 1, "actions": 2, "announced": True}
    assert client.app.state.rules.current().version == 1  # live here as the answer comes back
    versions = client.get("/api/v1/rules/versions").json()
    assert versions["live"] == 1 and versions["items"][0]["note"] == "first"
    one = client.get("/api/v1/rules/versions/1").json()
    assert [a["id"] for a in one["actions"]] == ["laptop-bag", "gold-care"]

    tested = client.post("/api/v1/rules/test", headers=headers, json={
        "snapshot": {"first_name": "Mei", "tier": "silver", "cart_skus": ["aurora-laptop-14"]}, "queue": "sales"}).json()
    assert [s["action_id"] for s in tested["suggestions"]] == ["laptop-bag"]
    assert tested["suggestions"][0]["script"] == "Hi Mei, the Voyager Laptop Bag fits."
    assert tested["excluded"] == [{"action_id": "gold-care", "title": "Care plan", "stage": "eligibility",
                                   "reason": "tier is not 'gold' (tier == \"gold\")"}]
    customer = call(client, client.app.state.repo.create_customer, name="Ada Lovelace")
    by_id = client.post("/api/v1/rules/test", headers=headers, json={"customer_id": customer.id}).json()
    assert by_id["snapshot"]["first_name"] == "Ada"
    assert {e["action_id"]: e["stage"] for e in by_id["excluded"]} == {"laptop-bag": "applicability",
                                                                        "gold-care": "eligibility"}
    assert client.post("/api/v1/rules/test", headers=headers, json={"customer_id": "nobody"}).status_code == 404

    changed = client.put("/api/v1/rules/actions/gold-care", json={**gold, "value": 200}, headers=headers)
    assert changed.status_code == 200
    audit = client.get("/api/v1/rules/audit").json()["items"]
    assert [a["what"] for a in audit] == ["update", "publish", "create", "create"]
    assert audit[0]["before"]["value"] == 120 and audit[0]["after"]["value"] == 200
    drafts = client.post("/api/v1/rules/test", headers=headers, json={"snapshot": {"tier": "gold"}, "version": 0}).json()
    assert drafts["suggestions"][0]["score"] == 200 and drafts["version"] == 0


def test_export_and_import_round_trip(client: TestClient) -> None:
    headers = sign_in(client, "pat", "planner")
    headers.pop("location")
    client.post("/api/v1/rules/actions", json=BAG, headers=headers)
    exported = client.get("/api/v1/rules/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    catalogue = exported.json()
    assert client.delete("/api/v1/rules/actions/laptop-bag", headers=headers).status_code == 204
    bad = {"actions": [{**BAG, "id": "x", "eligibility": "nope"}]}
    assert client.post("/api/v1/rules/import", json=bad, headers=headers).status_code == 422
    assert client.post("/api/v1/rules/import", json=catalogue, headers=headers).json() == {"imported": 1}
    assert client.get("/api/v1/rules/actions/laptop-bag").json()["title"] == "Laptop bag"


def _served(routes, prefix: str = ""):
    """(path, method) of every route the app serves, mounts walked."""
    for route in routes:
        path = prefix + getattr(route, "path", "")
        if getattr(route, "routes", None):
            yield from _served(route.routes, path)
        else:
            yield from ((path, method.lower()) for method in (getattr(route, "methods", None) or ()) if method != "HEAD")


def test_the_openapi_document_lists_every_rules_route_the_app_serves(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    served = {(path, method) for path, method in _served(client.app.routes) if path.startswith("/api/v1/rules")}
    listed = {(path, method) for path, ops in document["paths"].items() if path.startswith("/api/v1/rules")
              for method in ops}
    assert served == listed
    # The ones the issue names: actions, versions, stats, export and import.
    assert {("/api/v1/rules/actions", "post"), ("/api/v1/rules/actions/{action_id}", "put"),
            ("/api/v1/rules/versions/{version}", "get"), ("/api/v1/rules/stats", "get"),
            ("/api/v1/rules/export", "get"), ("/api/v1/rules/import", "post")} <= listed
    stats = document["components"]["schemas"]["RuleStats"]
    assert "title" in stats["properties"]["actions"]["items"]["properties"]  # the version's title
