"""Two ``otodesk`` processes sharing the real Redis and PostgreSQL act as one.

A customer on one process is routed to an agent on the other; ``kill -9`` of
the leader hands the router to the survivor within 10 s, rebuilt from the
database: no callback lost, none offered twice at once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot, SupervisorBot
from tests.helpers.cluster import processes_on_redis_and_postgres
from tests.helpers.server import CONSENT

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
async def cluster(tmp_path, postgres_url, redis_url):
    env = {"OTODESK_OFFER_TIMEOUT": "20", "OTODESK_ABANDON_GRACE": "4"}
    async with processes_on_redis_and_postgres(tmp_path, postgres_url, redis_url, env=env) as processes:
        yield processes


async def wait_until(check, *, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await asyncio.to_thread(check)
        if result:
            return result
        await asyncio.sleep(step)
    raise AssertionError(f"not true within {timeout} s")


async def test_routed_across_processes_and_leader_failover(cluster):
    a, b = cluster
    assert a.health()["leader"] and not b.health()["leader"]

    # A customer on A reaches an agent on B: every message crosses Redis.
    alice = await AgentBot.login(b.base_url, "alice", DEMO_PASSWORD)
    await alice.command("set_state", state="available")
    shopper = await CustomerBot.start(a.base_url, url="http://shop.test/cart", title="Cart")
    first = await shopper.command("call_me", name="Across", queue="sales")
    offer = (await alice.wait_for("offer"))["offer"]
    assert offer["callback_id"] == first["callback_id"]
    assert offer["page"]["url"] == "http://shop.test/cart"
    await alice.command("accept", offer_id=offer["offer_id"])
    await shopper.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")

    # Two more wait with nobody free: one on each process.
    waiting_b = await CustomerBot.start(b.base_url)
    queued_b = await waiting_b.command("call_me", name="Waits on B", queue="support")
    waiting_a = await CustomerBot.start(a.base_url)
    queued_a = await waiting_a.command("call_me", name="Waits on A", queue="support")
    await waiting_a.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued")

    killed_at = time.monotonic()
    a.kill()
    await wait_until(lambda: b.health()["leader"], timeout=10)
    takeover = time.monotonic() - killed_at
    assert takeover < 10, f"takeover took {takeover:.1f} s"

    # The customer whose page was on A comes back on B and keeps their place.
    back = await CustomerBot.start(b.base_url, token=waiting_a.token)
    assert back.welcome["callback"]["id"] == queued_a["callback_id"]
    await back.wait_for("callback_status", lambda m: m["callback"]["position"] == 2, timeout=10)

    # Carol takes the support queue: each waiting callback is offered once, in order.
    carol = await AgentBot.login(b.base_url, "carol", DEMO_PASSWORD)
    await carol.command("set_state", state="available")
    offered = (await carol.wait_for("offer"))["offer"]
    assert offered["callback_id"] == queued_b["callback_id"]
    await carol.command("accept", offer_id=offered["offer_id"])
    await carol.command("end", callback_id=offered["callback_id"])
    await carol.command("wrap_up", callback_id=offered["callback_id"], disposition="Resolved")
    second = (await carol.wait_for("offer", lambda m: m["offer"]["offer_id"] != offered["offer_id"]))["offer"]
    assert second["callback_id"] == queued_a["callback_id"]
    offers_per_callback = {}
    for message in carol.messages + alice.messages:
        if message["type"] == "offer" and message["offer"]["callback_id"] != first["callback_id"]:
            key = message["offer"]["callback_id"]
            offers_per_callback[key] = offers_per_callback.get(key, 0) + 1
    assert offers_per_callback == {queued_b["callback_id"]: 1, queued_a["callback_id"]: 1}
    await back.wait_for("callback_status", lambda m: m["callback"]["state"] == "offered")

    # Alice's call survived the failover; she finishes it on B.
    await alice.command("end", callback_id=first["callback_id"])
    await alice.command("wrap_up", callback_id=first["callback_id"], disposition="Resolved")
    await shopper.close()

    for bot in (alice, carol, back, waiting_b):
        await bot.close()


async def test_offer_pending_at_the_crash_is_offered_again(cluster):
    a, b = cluster
    bob = await AgentBot.login(b.base_url, "bob", DEMO_PASSWORD)
    await bob.command("set_state", state="available")
    shopper = await CustomerBot.start(b.base_url)
    ack = await shopper.command("call_me", name="Mid-offer", queue="sales", channel="phone", consent=CONSENT,
                                phone="+1 202 555 0199")
    offer = (await bob.wait_for("offer"))["offer"]
    a.kill()  # the leader dies while Bob's phone rings
    await wait_until(lambda: b.health()["leader"], timeout=10)
    again = await bob.wait_for("offer", lambda m: m["offer"]["offer_id"] != offer["offer_id"], timeout=10)
    assert again["offer"]["callback_id"] == ack["callback_id"]
    with pytest.raises(Exception):
        await bob.command("accept", offer_id=offer["offer_id"])  # the old offer is gone
    await bob.command("accept", offer_id=again["offer"]["offer_id"])
    await shopper.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
    for bot in (bob, shopper):
        await bot.close()


async def test_customers_of_a_dead_follower_are_abandoned_after_the_grace(cluster):
    a, b = cluster
    on_b = await CustomerBot.start(b.base_url)
    await on_b.command("call_me", name="On a follower", queue="support")
    await on_b.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued")
    b.kill()  # not the leader: nobody hears its sockets close
    # Its silence (6 s) plus the abandon grace (4 s) later, the callback is abandoned.
    # (Watched on the wall: a probe with the customer's token would count as their return.)
    sam = await SupervisorBot.login(a.base_url, "sam", DEMO_PASSWORD)
    started = time.monotonic()
    wall = await sam.wait_for_wall(lambda m: _support(m)["abandoned"] >= 1, timeout=20)
    assert _support(wall)["waiting"] == 0
    assert time.monotonic() - started > 2  # not at once: only after the silence and the grace
    await sam.close()


def _support(wall: dict) -> dict:
    return next(q for q in wall["queues"] if q["name"] == "support")


async def test_a_desk_reconnecting_to_the_other_process_gets_the_pushed_documents_back(cluster):
    """Issue 9 item 6: the documents open on the customer's screen are kept on the bus, so a
    desk reloaded onto another process shows each at the customer's page and zoom, can take it
    back, and gets nothing back once the contact has ended."""
    import re

    import httpx

    from signaling.client import login_cookie
    from tests.helpers.pdfgen import pdf_with_pages

    a, b = cluster
    cookie = await login_cookie(b.base_url, "alice", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=b.base_url, headers={"Cookie": cookie}) as http:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', (await http.get("/desk")).text).group(1)
        uploaded = await http.post("/api/documents?name=terms.pdf", content=pdf_with_pages(["1", "2", "3"]),
                                   headers={"X-CSRF-Token": csrf})
        assert uploaded.status_code == 201, uploaded.text
        document = uploaded.json()

    alice = await AgentBot.login(b.base_url, "alice", DEMO_PASSWORD)
    await alice.command("set_state", state="available")
    shopper = await CustomerBot.start(a.base_url, url="http://shop.test/cart", title="Cart")
    callback_id = (await shopper.command("call_me", name="Doc Reader", queue="sales"))["callback_id"]
    offer = (await alice.wait_for("offer"))["offer"]
    await alice.command("accept", offer_id=offer["offer_id"])
    await shopper.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
    push = await alice.command("doc_push", callback_id=callback_id, document_id=document["id"])
    await shopper.wait_for("doc_open")
    mark = alice.mark()
    await shopper.command("doc_page", push_id=push["push_id"], page=2, zoom=1.25, pages=3)
    await alice.wait_for("doc_page", lambda m: m["page"] == 2, start=mark)
    await alice.close()

    # The desk comes back on the other process: the document, its page and zoom.
    again = await AgentBot.login(a.base_url, "alice", DEMO_PASSWORD)
    documents = again.welcome["documents"]
    assert [(d["push_id"], d["page"], d["zoom"], d["pages"], d["document"]["name"]) for d in documents] \
        == [(push["push_id"], 2, 1.25, 3, "terms.pdf")]
    # ... still in sync (the customer's turns reach it) and it can take the document back.
    mark = again.mark()
    await shopper.command("doc_page", push_id=push["push_id"], page=3, zoom=1.25, pages=3)
    await again.wait_for("doc_page", lambda m: m["page"] == 3, start=mark)
    mark = shopper.mark()
    await again.command("doc_close", push_id=push["push_id"], visitor_id=push["visitor_id"])
    await shopper.wait_for("doc_closed", lambda m: m["push_id"] == push["push_id"], start=mark)
    await again.close()
    third = await AgentBot.login(b.base_url, "alice", DEMO_PASSWORD)
    assert third.welcome["documents"] == []

    # Pushed again, then the call ends: a reload gets nothing back (the contact has ended).
    mark = shopper.mark()
    await third.command("doc_push", callback_id=callback_id, document_id=document["id"])
    await shopper.wait_for("doc_open", start=mark)
    await third.command("end", callback_id=callback_id)
    await third.close()
    fourth = await AgentBot.login(a.base_url, "alice", DEMO_PASSWORD)
    assert fourth.welcome["documents"] == []
    await fourth.command("wrap_up", callback_id=callback_id, disposition="Resolved")
    await fourth.close()
    await shopper.close()
