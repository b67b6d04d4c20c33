"""The contacts' change feed (``GET /api/v1/events?changed_since=``) on SQLite and PostgreSQL:
every customer's timeline entries once each, oldest first, a page continuing where the last
ended; on PostgreSQL, an entry of a transaction still running holds back the later ones, so
a poller never steps past one that commits late."""

from __future__ import annotations

import asyncio
import functools
import json
import time

import pytest
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.repository.changes import EventCursor
from desktop.settings import Settings


@pytest.fixture
def client(database_url: str, tmp_path) -> TestClient:
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url, secret_key="test-secret",
                        process_id="feed-test")
    with TestClient(create_app(settings)) as client:
        yield client


def call(client: TestClient, fn, *args, **kwargs):
    return client.portal.call(functools.partial(fn, *args, **kwargs))


def _headers(client: TestClient, **options) -> dict[str, str]:
    _record, key = call(client, client.app.state.repo.create_api_key, name="feed", scopes=("read", "write"),
                        **options)
    return {"Authorization": f"Bearer {key}"}


def _feed(client: TestClient, headers, cursor: str, limit: int = 200) -> tuple[list[dict], str]:
    answer = client.get("/api/v1/events", headers=headers, params={"changed_since": cursor, "limit": limit})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["items"], body["next_cursor"]


def _notes_since(client: TestClient, headers, cursor: str, want: int, limit: int = 200) -> tuple[list[dict], str]:
    """Page through the feed until ``want`` notes came (PostgreSQL's horizon is the whole
    server's: another test's open transaction may hold new entries back for a moment)."""
    notes: list[dict] = []
    deadline = time.monotonic() + 15
    while len(notes) < want and time.monotonic() < deadline:
        items, cursor = _feed(client, headers, cursor, limit=limit)
        notes += [item for item in items if item["kind"] == "note"]
        if not items:
            time.sleep(0.1)
    return notes, cursor


def test_every_entry_once_oldest_first_in_pages_and_only_the_keys_site(client: TestClient) -> None:
    headers = _headers(client)
    _, start = _feed(client, headers, "0")
    people = [client.post("/api/v1/customers", headers=headers, json={"name": f"P{i}"}).json() for i in range(3)]
    logged = []
    for round_ in range(4):
        for person in people:
            answer = client.post(f"/api/v1/customers/{person['id']}/events", headers=headers,
                                 json={"kind": "note", "summary": f"r{round_}"})
            assert answer.status_code == 201
            logged.append(answer.json()["id"])
    # Three to a page: every entry once, in the order written, each page where the last ended.
    notes, cursor = _notes_since(client, headers, start, len(logged), limit=3)
    assert [note["id"] for note in notes] == logged
    assert _feed(client, headers, cursor) == ([], cursor)  # nothing new: the same cursor back

    # A key made for one site sees that site's customers' entries only.
    other = _headers(client, site="other-shop")
    mine = client.post("/api/v1/customers", headers=other, json={"name": "Other"}).json()
    client.post(f"/api/v1/customers/{mine['id']}/events", headers=other, json={"kind": "note", "summary": "x"})
    items, _ = _notes_since(client, other, "0", 1)
    assert {item["customer_id"] for item in _feed(client, other, "0")[0]} == {mine["id"]}
    items, _ = _notes_since(client, headers, cursor, 1)
    assert [item["customer_id"] for item in items] == [mine["id"]]


@pytest.mark.parametrize("cursor", ["c1.5", "e1.5", "e1.x.1", "e1.1.2.3", "-1", "e1." + "9" * 60])
def test_a_cursor_not_from_the_feed_is_a_clear_error(client: TestClient, cursor: str) -> None:
    answer = client.get("/api/v1/events", headers=_headers(client), params={"changed_since": cursor})
    assert answer.status_code == 422 and "changed_since" in answer.json()["error"]["message"]


async def test_an_entry_committed_late_is_not_stepped_over(repo, database_url) -> None:
    if repo.database.dialect != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: ids are in commit order")
    import asyncpg
    from sqlalchemy.engine import make_url

    person = await repo.create_customer(name="Late")
    start = EventCursor(0, 0)
    while found := await repo.events_added_since(start, limit=500):
        start = found[-1][1]
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    slow, quick = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    insert = ("INSERT INTO contact_events (customer_id, kind, channel, at, data) "
              "VALUES ($1, $2, 'api', 1.0, $3::jsonb) RETURNING id")
    try:
        late = slow.transaction()
        await late.start()
        late_id = await slow.fetchval(insert, person.id, "late", json.dumps({}))  # the smaller id
        quick_id = await quick.fetchval(insert, person.id, "quick", json.dumps({}))  # committed at once
        assert quick_id > late_id
        # The quick one is committed, but the late one's transaction is older and still running.
        assert await repo.events_added_since(start, limit=10) == []
        await late.commit()
        # Both now, in id order (the horizon is the whole server's: another test's transaction
        # may hold it back a moment, never let the quick one through alone).
        for _ in range(100):
            found = await repo.events_added_since(start, limit=10)
            if len(found) >= 2 or [event.kind for event, _ in found] not in ([], ["late"]):
                break
            await asyncio.sleep(0.1)
        assert [event.kind for event, _ in found] == ["late", "quick"]
    finally:
        await slow.close()
        await quick.close()
