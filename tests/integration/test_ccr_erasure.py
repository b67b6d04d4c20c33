"""Erasure everywhere: after a customer with a callback, pages, a recording, a co-browse
session and a pushed document is erased, no table, no file under var/ and no Redis key holds
their phone, e-mail or name. Real Redis; SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import json
import secrets
import time

import pytest
import redis.asyncio as aioredis
from sqlalchemy import MetaData, select
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.identity import user_hash
from desktop.settings import Settings

pytestmark = pytest.mark.redis

SECRET = "erasure-site-secret"
NAME, EMAIL, PHONE, LOCAL_PHONE = "Zed Quixote", "zed.quixote@example.com", "+14155550123", "(415) 555-0123"
NEEDLES = (NAME, EMAIL, PHONE, "4155550123", "Quixote")


def call(client: TestClient, fn, *args, **kwargs):
    return client.portal.call(functools.partial(fn, *args, **kwargs))


def _rows_with_needles(conn) -> list[str]:
    metadata = MetaData()
    metadata.reflect(conn)
    hits = []
    for table in metadata.sorted_tables:
        for row in conn.execute(select(table)):
            text = json.dumps([str(v) for v in row], ensure_ascii=False)
            hits += [f"{table.name}: {needle}" for needle in NEEDLES if needle in text]
    return hits


async def _redis_with_needles(url: str, namespace: str) -> list[str]:
    client = aioredis.from_url(url)
    hits = []
    try:
        async for key in client.scan_iter(match=f"{namespace}*", count=500):
            kind = (await client.type(key)).decode()
            if kind == "string":
                values = [await client.get(key)]
            elif kind == "list":
                values = await client.lrange(key, 0, -1)
            elif kind == "hash":
                values = [v for pair in (await client.hgetall(key)).items() for v in pair]
            elif kind == "set":
                values = list(await client.smembers(key))
            elif kind == "zset":
                values = await client.zrange(key, 0, -1)
            elif kind == "stream":
                values = [json.dumps({k.decode(): v.decode(errors="replace") for k, v in fields.items()})
                          for _id, fields in await client.xrange(key)]
            else:
                values = []
            blob = key.decode(errors="replace") + " " + " ".join(
                v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values if v is not None)
            hits += [f"redis {key!r}: {needle}" for needle in NEEDLES if needle in blob]
    finally:
        await client.aclose()
    return hits


def test_erasure_leaves_nothing_in_tables_files_or_redis(database_url, redis_url, tmp_path) -> None:
    var = tmp_path / "var"
    namespace = f"otodesk-test-{secrets.token_hex(4)}"
    settings = Settings(var_dir=var, database_url=database_url, secret_key="erase-secret",
                        identity_secret=SECRET, redis_url=redis_url, redis_namespace=namespace,
                        process_id="erase-test", leader_lease=2.0)
    with TestClient(create_app(settings)) as client:
        repo, bus = client.app.state.repo, client.app.state.bus
        _record, key = call(client, repo.create_api_key, name="eraser")
        call(client, repo.upsert_queue, "sales", title="Sales", skills=["sales"], service_level_target=30)
        token = client.post("/api/visitor", json={}).json()["token"]
        with client.websocket_connect("/ws/customer") as socket:
            socket.send_text(json.dumps({"type": "hello", "token": token, "url": "http://testserver/p/kettle",
                                         "title": f"Kettle for {NAME}"}))
            welcome = socket.receive_json()
            visitor_id = welcome["visitor_id"]

            def command(type_, n, **fields):
                socket.send_text(json.dumps({"type": type_, "id": f"e{n}", **fields}))
                while True:
                    message = socket.receive_json()
                    if message["type"] in ("ack", "error"):
                        return message

            assert command("identify", 1, user_id="zed-1", user_hash=user_hash(SECRET, "zed-1"),
                           name=NAME, email=EMAIL)["type"] == "ack"
            ack = command("call_me", 2, name=NAME, queue="sales", topic=f"{NAME} needs help",
                          channel="phone", phone=LOCAL_PHONE)
            assert ack["type"] == "ack", ack
            callback_id = ack["callback_id"]
            time.sleep(0.3)
        customer_id = call(client, repo.get_visitor, visitor_id).customer_id
        call(client, repo.log_contact, customer_id, kind="store_visit", at=time.time(),
             data={"summary": f"{NAME} came to the store, phone {PHONE}"})
        # What other features leave: a recording, a pushed document, co-browse frames.
        (var / "recordings").mkdir(parents=True, exist_ok=True)
        (var / "recordings" / f"{callback_id}.ogg").write_bytes(f"OggS {NAME} {PHONE}".encode())
        (var / "documents" / visitor_id).mkdir(parents=True)
        (var / "documents" / visitor_id / "quote.pdf").write_bytes(f"%PDF quote for {EMAIL}".encode())
        call(client, bus.publish, f"cobrowse:{visitor_id}", {"type": "frames", "text": f"Hello {NAME}"})
        call(client, bus.publish, "agent:someone", {"type": "offer", "customer": {"name": NAME, "phone": PHONE}})

        db = repo.database
        assert call(client, db.read, _rows_with_needles), "the setup stored nothing to erase"
        assert call(client, _redis_with_needles, redis_url, namespace)

        erased = client.delete(f"/api/v1/customers/{customer_id}", headers={"Authorization": f"Bearer {key}"})
        assert erased.status_code == 200, erased.text
        counts = erased.json()["counts"]
        assert counts["customers"] >= 1 and counts["callbacks"] == 1 and counts["contact_events"] >= 3

        assert call(client, db.read, _rows_with_needles) == []
        assert call(client, _redis_with_needles, redis_url, namespace) == []
        # Anonymous counts remain for the reports.
        stats = call(client, db.read, lambda conn: conn.exec_driver_sql("SELECT count(*) FROM callbacks").scalar())
        assert stats == 1
    files = []
    for path in var.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            files += [f"{path}: {n}" for n in NEEDLES if n.encode() in data]
    assert files == []

