"""Erasure everywhere: after a customer with pages, a call (offer, connection, wrap-up note), a
recording, a co-browse session and a document of theirs pushed to them is erased by an admin
from the desk, no table, no file under var/ and no Redis key of the deployment holds their
phone, e-mail or name. A real server process, real Redis; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import MetaData, select

from desktop.customers.identity import user_hash
from desktop.repository import Repository
from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot, login_cookie
from tests.helpers.pdfgen import pdf_with_pages
from tests.helpers.server import CONSENT, running_server

pytestmark = pytest.mark.redis

SECRET = "erasure-site-secret"
NAME, EMAIL, PHONE, LOCAL_PHONE = "Zed Quixote", "zed.quixote@example.com", "+14155550123", "(415) 555-0123"
NEEDLES = (NAME, EMAIL, PHONE, "4155550123", "Quixote")


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


async def _desk_session(base_url: str, username: str) -> httpx.AsyncClient:
    cookie = await login_cookie(base_url, username, DEMO_PASSWORD)
    http = httpx.AsyncClient(base_url=base_url, headers={"Cookie": cookie})
    page = (await http.get("/desk/customers")).text
    http.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return http


def _rrweb_page(ts: float, text: str) -> list[dict]:
    """A Meta and a FullSnapshot whose page shows ``text`` (what a shared page would)."""
    node = {"type": 0, "id": 1, "childNodes": [{"type": 3, "id": 2, "textContent": text}]}
    return [{"type": 4, "timestamp": ts, "data": {"href": "http://shop.test/checkout", "width": 800, "height": 600}},
            {"type": 2, "timestamp": ts + 1, "data": {"node": node, "initialOffset": {"left": 0, "top": 0}}}]


def _files_with_needles(var: Path) -> list[str]:
    hits = []
    for path in var.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {n}" for n in NEEDLES if n.encode() in data]
    return hits


async def test_erasure_leaves_nothing_in_tables_files_or_redis(database_url, redis_url, tmp_path) -> None:
    """A real server process (``otodesk demo``) on this database and Redis; bots on its sockets."""
    var = tmp_path / "var"
    namespace = f"otodesk-test-{secrets.token_hex(4)}"
    env = {"OTODESK_DATABASE_URL": database_url, "OTODESK_REDIS_URL": redis_url,
           "OTODESK_REDIS_NAMESPACE": namespace, "OTODESK_IDENTITY_SECRET": SECRET,
           "OTODESK_OFFER_TIMEOUT": "10", "OTODESK_WRAPUP_TIMEOUT": "30"}
    # The server's own log goes beside var/, not in it: this test reads every file under var/.
    with running_server(var, env=env, log_dir=tmp_path) as server:
        base = server.base_url
        # The customer browses, signs in on the site (HMAC), asks for a call to their phone.
        customer = await CustomerBot.start(base, url="http://shop.test/p/kettle", title=f"Kettle for {NAME}")
        agent = await AgentBot.login(base, "alice", DEMO_PASSWORD)
        desk = await _desk_session(base, "alice")
        try:
            verified = await customer.command("identify", user_id="zed-1", user_hash=user_hash(SECRET, "zed-1"),
                                              name=NAME, email=EMAIL)
            assert verified["verified"] is True
            await agent.command("set_state", state="available")
            mark = agent.mark()
            ack = await customer.command("call_me", name=NAME, queue="sales", topic=f"{NAME} needs help",
                                         channel="phone", consent=CONSENT, phone=LOCAL_PHONE)
            callback_id = ack["callback_id"]
            # A call: offered (the offer names them), accepted, connected.
            offer = (await agent.wait_for("offer", start=mark))["offer"]
            await agent.command("accept", offer_id=offer["offer_id"])
            contact = await agent.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected")
            customer_id = contact["contact"]["customer"]["id"]
            # A co-browse session with consent: their page (with their name on it) reaches the agent.
            mark = customer.mark()
            request = await agent.command("cobrowse_request", callback_id=callback_id)
            asked = await customer.wait_for("cobrowse_request", start=mark)
            assert asked["request_id"] == request["request_id"]
            await customer.command("cobrowse_answer", request_id=asked["request_id"], accept=True)
            await agent.wait_for("cobrowse_state", lambda m: m["state"] == "sharing")
            mark = agent.mark()
            await customer.send({"type": "cobrowse_events",
                                 "events": _rrweb_page(time.time() * 1000, f"Deliver to {NAME}, {EMAIL}")})
            await agent.wait_for("cobrowse_events", start=mark)
            # A document of theirs, uploaded during the call and pushed to their page.
            quote = pdf_with_pages([f"Quote for {NAME}", f"Phone {PHONE}"])
            uploaded = await desk.post("/api/documents", params={"name": f"Quote {NAME}.pdf", "customer_id": customer_id},
                                       content=quote)
            assert uploaded.status_code in (200, 201), uploaded.text
            mark = customer.mark()
            await agent.command("doc_push", callback_id=callback_id, document_id=uploaded.json()["id"])
            await customer.wait_for("doc_open", start=mark)
            await customer.command("cobrowse_stop")
            # The call ends; the wrap-up note names them; a colleague logs a store visit.
            await agent.command("end", callback_id=callback_id)
            await agent.command("wrap_up", callback_id=callback_id, disposition="Resolved",
                                note=f"Called {NAME} back on {PHONE}")
            logged = await desk.post(f"/api/v1/customers/{customer_id}/events",
                                     json={"kind": "store_visit", "data": {"summary": f"{NAME} came to the store"}})
            assert logged.status_code == 201, logged.text
        finally:
            await agent.command("set_state", state="away", reason="test over")
            for bot in (customer, agent):
                await bot.close()
            await desk.aclose()
        # The call's recording, where and how the media anchor leaves it: its real capture needs a
        # network namespace (tests/integration/test_voice_*), the file's fate is the same.
        recording = var / "recordings" / f"{callback_id}.ogg"
        recording.parent.mkdir(parents=True, exist_ok=True)
        recording.write_bytes(f"OggS {NAME} {PHONE}".encode())
        async with Repository.open(database_url) as repo:
            await repo.add_contact_event(customer_id=customer_id, kind="call_recording", channel="voice",
                                         at=time.time(), callback_id=callback_id,
                                         data={"url": f"/recordings/{callback_id}.ogg"})
            kinds = {e.kind for e in (await repo.customer_timeline(customer_id, limit=200)).events}
            assert {"page_view", "callback_requested", "callback_connected", "wrap_up", "cobrowse_started",
                    "store_visit", "call_recording"} <= kinds, kinds
            assert await repo.database.read(_rows_with_needles), "the setup stored nothing to erase"
        assert await _redis_with_needles(redis_url, namespace), "nothing of theirs reached Redis"
        assert any(str(customer_id) in str(p) for p in (var / "documents").rglob("*"))

        # An admin erases them from the desk.
        admin = await _desk_session(base, "admin")
        try:
            erased = await admin.delete(f"/api/v1/customers/{customer_id}")
        finally:
            await admin.aclose()
        assert erased.status_code == 200, erased.text
        counts = erased.json()["counts"]
        assert counts["customers"] >= 1 and counts["callbacks"] == 1 and counts["contact_events"] >= 6

        async with Repository.open(database_url) as repo:
            assert await repo.database.read(_rows_with_needles) == []
            # The callback stays, stripped, for the queue's reports; it belongs to nobody known.
            kept = await repo.get_callback(callback_id)
            assert kept is not None and kept.customer_id != customer_id and not kept.phone
        assert await _redis_with_needles(redis_url, namespace) == []
        assert not recording.exists()
        assert _files_with_needles(var) == []
