"""The REST API, identify over the socket and "My data", in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.customers.identity import user_hash
from desktop.settings import Settings

SITE_SECRET = "site-identity-secret"
T0 = 1_800_000_000.0


@pytest.fixture
def client(database_url: str, tmp_path) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url, secret_key="test-secret",
                        identity_secret=SITE_SECRET, process_id="api-test")
    with TestClient(create_app(settings)) as client:
        yield client


def call(client: TestClient, fn, *args, **kwargs):
    """Run a repository coroutine on the app's own event loop."""
    return client.portal.call(functools.partial(fn, *args, **kwargs))


@pytest.fixture
def key(client: TestClient) -> dict[str, str]:
    _record, key = call(client, client.app.state.repo.create_api_key, name="test",
                        scopes=("read", "write", "erase"))
    return {"Authorization": f"Bearer {key}"}


def _key(client: TestClient, **options) -> dict[str, str]:
    _record, key = call(client, client.app.state.repo.create_api_key, name="scoped", **options)
    return {"Authorization": f"Bearer {key}"}


def test_api_keys_do_only_what_their_scopes_say(client: TestClient, key) -> None:
    person = client.post("/api/v1/customers", headers=key, json={"name": "Scoped Person"}).json()
    path = f"/api/v1/customers/{person['id']}"
    reader = _key(client, scopes=["read"])
    assert client.get(path, headers=reader).status_code == 200
    refused = client.patch(path, headers=reader, json={"name": "Changed"})
    assert refused.status_code == 403 and "'write' scope" in refused.json()["error"]["message"]
    assert client.post("/api/v1/customers", headers=reader, json={"name": "New"}).status_code == 403
    writer = _key(client)  # the default: read and write, not erase
    assert client.patch(path, headers=writer, json={"name": "Changed"}).status_code == 200
    assert client.delete(path, headers=writer).status_code == 403
    assert client.get(path, headers=key).json()["customer"]["name"] == "Changed"  # still there
    assert client.delete(path, headers=_key(client, scopes=["erase"])).status_code == 200
    with pytest.raises(ValueError):
        call(client, client.app.state.repo.create_api_key, name="bad", scopes=["everything"])


def test_a_key_made_for_one_site_sees_only_that_sites_data(client: TestClient, key) -> None:
    other = client.post("/api/v1/customers", headers=key, json={"name": "Other Site Olga"}).json()
    client.post("/api/v1/orders", headers=key, json={
        "id": "O-1", "customer_id": other["id"], "placed_at": 1, "total_cents": 100, "currency": "USD"})
    shop_a = _key(client, site="shop-a", scopes=["read", "write", "erase"])
    mine = client.post("/api/v1/customers", headers=shop_a, json={"name": "Site A Sam"}).json()
    listed = client.get("/api/v1/customers", headers=shop_a).json()["items"]
    assert [c["id"] for c in listed] == [mine["id"]]
    assert client.get("/api/v1/customers", headers=shop_a, params={"q": "Olga"}).json()["items"] == []
    for method, path in (("GET", f"/api/v1/customers/{other['id']}"),
                         ("GET", f"/api/v1/customers/{other['id']}/events"),
                         ("PATCH", f"/api/v1/customers/{other['id']}"),
                         ("DELETE", f"/api/v1/customers/{other['id']}"),
                         ("GET", "/api/v1/orders/O-1")):
        answer = client.request(method, path, headers=shop_a, json={"name": "x"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path)
    assert client.post(f"/api/v1/customers/{mine['id']}/merge", headers=shop_a,
                       json={"source_id": other["id"]}).status_code == 404
    assert client.get("/api/v1/orders", headers=shop_a, params={"customer_id": other["id"]}).status_code == 404
    assert client.put("/api/v1/products/sku-1", headers=shop_a, json={
        "name": "Kettle", "price_cents": 100, "currency": "USD"}).status_code == 403  # shared catalogue
    assert client.get(f"/api/v1/customers/{other['id']}", headers=key).json()["customer"]["name"] == "Other Site Olga"
    # Every site's key sees both.
    assert {c["id"] for c in client.get("/api/v1/customers", headers=key).json()["items"]} >= {mine["id"], other["id"]}


@contextlib.contextmanager
def visitor(client: TestClient, url: str = "http://testserver/shop"):
    """A customer socket after hello: yields (socket, token, visitor_id)."""
    token = client.post("/api/visitor", json={}).json()["token"]
    with client.websocket_connect("/ws/customer") as socket:
        socket.send_text(json.dumps({"type": "hello", "token": token, "url": url, "title": "Shop"}))
        welcome = socket.receive_json()
        assert welcome["type"] == "welcome", welcome
        yield socket, token, welcome["visitor_id"]


_ids = itertools.count(1)


def command(socket, type_: str, **fields):
    socket.send_text(json.dumps({"type": type_, "id": f"c{next(_ids)}", **fields}))
    while True:
        message = socket.receive_json()
        if message["type"] in ("ack", "error"):
            return message


def test_openapi_and_auth(client: TestClient, key) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.") and "/api/v1/customers/{customer_id}/events" in document["paths"]
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get("/api/v1/customers", headers={"Authorization": "Bearer otk_x_y"}).json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/customers", headers=key).status_code == 200
    key_id = key["Authorization"].split("_")[1]
    call(client, client.app.state.repo.revoke_api_key, key_id)
    assert client.get("/api/v1/customers", headers=key).status_code == 401


def test_customers_identities_events_orders_products(client: TestClient, key) -> None:
    created = client.post("/api/v1/customers", headers=key, json={
        "name": "Mei Lin", "email": "Mei@Example.com", "phone": "(415) 555-2671", "user_id": "shop-1"})
    assert created.status_code == 201, created.text
    mei = created.json()
    assert mei["phone"] == "+14155552671" and mei["email"] == "mei@example.com"
    assert client.post("/api/v1/customers", headers=key, json={"user_id": "shop-1"}).status_code == 409
    bad = client.post("/api/v1/customers", headers=key, json={"phone": "12"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_phone"
    assert client.post("/api/v1/customers", headers=key, json={"nam": "x"}).status_code == 422
    assert client.post("/api/v1/customers", headers={**key, "content-type": "application/json"},
                       content=b"{").status_code == 400
    assert client.post("/api/v1/customers", headers={**key, "content-type": "text/plain"},
                       content=b"{}").status_code == 415

    found = client.get("/api/v1/customers", headers=key, params={"q": "+1 415-555-2671"}).json()
    assert [c["id"] for c in found["items"]] == [mei["id"]]

    events = f"/api/v1/customers/{mei['id']}/events"
    for n, kind in enumerate(["email", "store_visit", "chat", "meeting", "inbound_call"]):
        response = client.post(events, headers=key, json={"kind": kind, "at": T0 + n, "summary": f"#{n}"})
        assert response.status_code == 201, response.text
    assert client.post(events, headers=key, json={"kind": "page_view"}).status_code == 422
    first = client.get(events, headers=key, params={"limit": 2}).json()
    assert [e["kind"] for e in first["items"]] == ["inbound_call", "meeting"]
    second = client.get(events, headers=key, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["kind"] for e in second["items"]] == ["chat", "store_visit"]
    opened = client.get(f"/api/v1/customers/{mei['id']}", headers=key, params={"timeline": 2}).json()
    assert opened["timeline"] == first  # the summary brings the first page along
    assert client.get(f"/api/v1/customers/{mei['id']}", headers=key, params={"timeline": "x"}).status_code == 422
    assert client.get(events, headers=key, params={"cursor": "nope"}).status_code == 422
    assert client.get(events, headers=key, params={"limit": 0}).status_code == 422
    only = client.get(events, headers=key, params={"channel": "store,email"}).json()
    assert [e["kind"] for e in only["items"]] == ["store_visit", "email"]
    assert client.get("/api/v1/customers/nobody/events", headers=key).status_code == 404

    identities = f"/api/v1/customers/{mei['id']}/identities"
    added = client.post(identities, headers=key, json={"kind": "email", "value": "mei@work.example", "verified": True})
    assert added.status_code == 201
    listed = client.get(identities, headers=key).json()["items"]
    assert {(i["kind"], i["value"]) for i in listed} >= {("user_id", "shop-1"), ("email", "mei@work.example")}
    other = client.post("/api/v1/customers", headers=key, json={"name": "Mei Ltd", "user_id": "shop-2"}).json()
    assert client.post(f"/api/v1/customers/{other['id']}/identities", headers=key,
                       json={"kind": "user_id", "value": "shop-1", "verified": True}).status_code == 409

    merged = client.post(f"/api/v1/customers/{mei['id']}/merge", headers=key,
                         json={"source_id": other["id"], "reason": "business account"})
    assert merged.status_code == 201 and merged.json()["actor"].startswith("api:")
    assert client.get(f"/api/v1/customers/{other['id']}", headers=key).json()["customer"]["id"] == mei["id"]
    assert client.post(f"/api/v1/customers/{other['id']}/unmerge", headers=key, json={}).status_code == 201
    assert client.post(f"/api/v1/customers/{other['id']}/unmerge", headers=key, json={}).status_code == 409
    audit = client.get(f"/api/v1/customers/{mei['id']}/merges", headers=key).json()["items"]
    assert [m["action"] for m in audit] == ["merge", "unmerge"]

    assert client.put("/api/v1/products/kettle", headers=key, json={
        "name": "Kettle", "price_cents": 4999, "currency": "USD"}).status_code == 200
    assert client.get("/api/v1/products/kettle", headers=key).json()["price_cents"] == 4999
    assert client.get("/api/v1/products/none", headers=key).status_code == 404
    import time

    order = client.post("/api/v1/orders", headers=key, json={
        "id": "A-1", "customer_id": mei["id"], "placed_at": time.time() - 60, "total_cents": 250_000,
        "currency": "USD", "items": [{"sku": "kettle", "quantity": 2}]})
    assert order.status_code == 201, order.text
    assert client.post("/api/v1/orders", headers=key, json={
        "id": "A-1", "customer_id": mei["id"], "placed_at": 1, "total_cents": 1,
        "currency": "USD"}).status_code == 409
    assert client.post("/api/v1/orders", headers=key, json={
        "id": "A-2", "customer_id": "nobody", "placed_at": 1, "total_cents": 1,
        "currency": "usd"}).status_code == 422
    summary = client.get(f"/api/v1/customers/{mei['id']}", headers=key).json()
    assert summary["customer"]["tier"] == "gold" and summary["spend_365d_cents"] == 250_000
    page = client.get("/api/v1/orders", headers=key, params={"customer_id": mei["id"]}).json()
    assert [o["id"] for o in page["items"]] == ["A-1"]


def test_identify_links_only_with_a_valid_hmac(client: TestClient, key) -> None:
    repo = client.app.state.repo
    known = client.post("/api/v1/customers", headers=key, json={"name": "Returning", "user_id": "u-77"}).json()
    with visitor(client) as (socket, _token, visitor_id):
        forged = command(socket, "identify", user_id="u-77", user_hash="0" * 64, name="Mallory")
        assert forged["type"] == "error" and forged["code"] == "identity_unverified"
        bare = command(socket, "identify", user_id="u-77")
        assert bare["type"] == "error"
        anonymous = call(client, repo.get_visitor, visitor_id).customer_id
        assert anonymous != known["id"]
        hint = command(socket, "identify", email="returning@example.com", name="Maybe Returning")
        assert hint["type"] == "ack" and hint["verified"] is False
        assert call(client, repo.resolve_customer, anonymous).id == anonymous  # a claim links nothing

        good = command(socket, "identify", user_id="u-77", user_hash=user_hash(SITE_SECRET, "u-77"))
        assert good["type"] == "ack" and good["verified"] is True and good["customer_id"] == known["id"]
    assert call(client, repo.get_visitor, visitor_id).customer_id == known["id"]
    assert call(client, repo.resolve_customer, anonymous).id == known["id"]
    pages = client.get(f"/api/v1/customers/{known['id']}/events", headers=key, params={"kind": "page_view"}).json()
    assert [e["data"]["url"] for e in pages["items"]] == ["http://testserver/shop"]


def test_my_data_view_correct_download_erase(client: TestClient, key) -> None:
    with visitor(client) as (socket, token, visitor_id):
        assert client.get("/api/me", headers={"X-Otodesk-Visitor": token}).status_code == 401  # not the key
        hint = command(socket, "identify", name="Anon")
        assert hint["type"] == "ack" and "me_token" not in hint  # anonymous: nobody to show
        ack = command(socket, "identify", user_id="u-9", user_hash=user_hash(SITE_SECRET, "u-9"),
                      name="Nia Noone", email="nia@example.com")
        assert ack["type"] == "ack" and ack["verified"]
    me = {"X-Otodesk-Me": ack["me_token"]}
    assert client.get("/api/me").status_code == 401
    data = client.get("/api/me", headers=me).json()
    assert data["customer"]["name"] == "Nia Noone"
    assert any(e["kind"] == "page_view" for e in data["timeline"])
    fixed = client.patch("/api/me", headers=me, json={"name": "Nia Correct", "phone": "+44 20 7946 0958"})
    assert fixed.status_code == 200 and fixed.json()["phone"] == "+442079460958"
    assert client.patch("/api/me", headers=me, json={"email": "not-an-email"}).status_code == 422
    erased = client.post("/api/me/erase", headers=me)
    assert erased.status_code == 200 and erased.json()["counts"]["customers"] == 1
    assert client.get("/api/me", headers=me).status_code == 401  # signed out by the erasure
    assert client.get("/api/v1/customers", headers=key, params={"q": "Nia"}).json()["items"] == []


def test_desk_session_needs_csrf_to_write_and_admin_to_erase(client: TestClient) -> None:
    repo = client.app.state.repo
    call(client, repo.add_agent, "ada", "password-1", display_name="Ada", role="agent", skills=["sales"])
    login = client.get("/login")
    csrf = login.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "ada", "password": "password-1", "csrf_token": csrf, "next": "/desk"},
                follow_redirects=False)
    page = client.get("/desk/customers")
    assert page.status_code == 200
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    customer = call(client, repo.create_customer, name="Desk Person")
    events = f"/api/v1/customers/{customer.id}/events"
    assert client.post(events, json={"kind": "note", "summary": "hi"}).status_code == 403
    noted = client.post(events, json={"kind": "note", "summary": "hi"}, headers={"X-CSRF-Token": token})
    assert noted.status_code == 201 and noted.json()["agent_id"] is not None
    assert client.delete(f"/api/v1/customers/{customer.id}", headers={"X-CSRF-Token": token}).status_code == 403


def test_the_sites_server_signs_a_person_out_and_is_told_of_erasures(client: TestClient, key) -> None:
    person = client.post("/api/v1/customers", headers=key, json={"name": "Tomas", "user_id": "u-31"}).json()
    with visitor(client) as (socket, token, _visitor_id):
        ack = command(socket, "identify", user_id="u-31", user_hash=user_hash(SITE_SECRET, "u-31"))
        assert ack["verified"] and ack["customer_id"] == person["id"]
    signed_out = client.post(f"/api/v1/customers/{person['id']}/sign-out", headers=key)
    assert signed_out.status_code == 200 and signed_out.json()["visitors"] == 1
    assert client.get("/api/me", headers={"X-Otodesk-Me": ack["me_token"]}).status_code == 401
    assert client.post("/api/visitor", json={"token": token}).json()["token"] != token

    assert client.delete(f"/api/v1/customers/{person['id']}", headers=key).status_code == 200
    tombstones = client.get("/api/v1/erasures", headers=key).json()["items"]
    user_key = user_hash(SITE_SECRET, "u-31")
    assert [t["user_key"] for t in tombstones] == [user_key]  # the site's own HMAC, never the id
    with visitor(client) as (socket, _token, _visitor_id):
        refused = command(socket, "identify", user_id="u-31", user_hash=user_key, name="Tomas")
        assert refused["verified"] is False and refused["erased"] is True
        # They signed up again and asked to be known: the site lifts the tombstone.
        assert client.delete(f"/api/v1/erasures/{user_key}", headers=key).status_code == 204
        assert command(socket, "identify", user_id="u-31", user_hash=user_key)["verified"] is True
    assert client.get("/api/v1/erasures", headers=key).json()["items"] == []
    assert client.get("/api/v1/erasures", headers=_key(client, site="shop-a")).status_code == 403


def test_a_crm_polling_changed_since_gets_every_change_once(client: TestClient, key) -> None:
    def poll(cursor: str) -> tuple[list[dict], str]:
        page = client.get("/api/v1/customers", headers=key, params={"changed_since": cursor, "limit": 2})
        assert page.status_code == 200, page.text
        return page.json()["items"], page.json()["next_cursor"]

    seen, cursor = [], "0"
    while True:  # whatever the demo or earlier tests made, read to the end first
        items, cursor = poll(cursor)
        if not items:
            break
    assert poll(cursor) == ([], cursor)  # nothing new: the same cursor comes back
    made = [client.post("/api/v1/customers", headers=key, json={"name": f"Feed {i}"}).json() for i in range(3)]
    client.patch(f"/api/v1/customers/{made[0]['id']}", headers=key, json={"name": "Feed 0 renamed"})
    client.post(f"/api/v1/customers/{made[2]['id']}/merge", headers=key, json={"source_id": made[1]["id"]})
    while True:
        items, cursor = poll(cursor)
        if not items:
            break
        seen += items
    # Each customer once, in the order of its last change, in its latest state.
    assert [(c["name"], c["merged_into"]) for c in seen] == [
        ("Feed 2", None), ("Feed 0 renamed", None), ("Feed 1", made[2]["id"])]
    for bad in ("7", "c1.x", "c2.5", "c1." + "9" * 30):
        refused = client.get("/api/v1/customers", headers=key, params={"changed_since": bad})
        assert refused.status_code == 422 and "changed_since" in refused.json()["error"]["message"]
    both = client.get("/api/v1/customers", headers=key, params={"changed_since": "0", "q": "Feed"})
    assert both.status_code == 422
