"""The outbox, the delivery claims and the change feed in the repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from desktop.repository.changes import customers_changed_since


async def test_a_callbacks_deliveries_are_claimed_one_at_a_time_in_order(repo):
    hook, _ = await repo.add_webhook(url="http://127.0.0.1:1/x", events=["*"])
    first = await repo.create_customer(name="A", now=100.0)
    second = await repo.create_customer(name="B", now=101.0)
    await repo.merge_customers(second.id, first.id, actor="test", now=102.0)
    # customer.created (first), customer.created (second), customer.merged (second): two keys.
    claimed = await repo.claim_webhook_deliveries(now=200.0, lease=30.0)
    assert [(d["type"], d["data"].get("customer_id")) for d in claimed] == [
        ("customer.created", first.id), ("customer.created", second.id)]
    assert claimed[0]["secret"].startswith("whsec_") and claimed[0]["url"] == hook["url"]
    # Leased: nobody else gets them; the merge waits for the second's creation to succeed.
    assert await repo.claim_webhook_deliveries(now=201.0, lease=30.0) == []
    await repo.finish_webhook_attempt(claimed[1]["id"], attempt=1, at=202.0, duration=0.1,
                                      status_code=503, error="HTTP 503", next_at=210.0)
    assert await repo.claim_webhook_deliveries(now=203.0, lease=30.0) == []  # retried at 210, merge behind it
    await repo.finish_webhook_attempt(claimed[0]["id"], attempt=1, at=202.0, duration=0.1,
                                      status_code=200, error=None, next_at=None)
    again = await repo.claim_webhook_deliveries(now=211.0, lease=30.0)
    assert [d["id"] for d in again] == [claimed[1]["id"]] and again[0]["attempts"] == 1
    await repo.finish_webhook_attempt(again[0]["id"], attempt=2, at=212.0, duration=0.1,
                                      status_code=204, error=None, next_at=None)
    merged = await repo.claim_webhook_deliveries(now=213.0, lease=30.0)
    assert [d["type"] for d in merged] == ["customer.merged"]
    assert merged[0]["data"] == {"customer_id": second.id, "into": first.id}
    # A lease that ran out (its process died) is claimed again.
    assert [d["id"] for d in await repo.claim_webhook_deliveries(now=244.0, lease=30.0)] == [merged[0]["id"]]

    log = await repo.webhook_deliveries(hook["id"])
    assert [d["state"] for d in log] == ["pending", "delivered", "delivered"]
    assert [a["status_code"] for a in log[1]["log"]] == [503, 204]
    replayed = await repo.replay_webhook_delivery(log[2]["id"])
    assert replayed["event_id"] == log[2]["event_id"] and replayed["state"] == "pending"


async def test_nothing_is_queued_without_a_subscriber_nor_for_a_removed_one(repo):
    await repo.create_customer(name="Nobody listens")
    hook, _ = await repo.add_webhook(url="http://127.0.0.1:1/x", events=["callback.ended"])
    await repo.create_customer(name="Not wanted")
    assert await repo.webhook_deliveries(hook["id"]) == []
    everything, _ = await repo.add_webhook(url="http://127.0.0.1:1/y", events=["*"])
    await repo.disable_webhook(everything["id"])
    await repo.create_customer(name="Removed")
    assert await repo.webhook_deliveries(everything["id"]) == []
    assert [w["disabled_at"] is not None for w in await repo.list_webhooks()] == [False, True]


async def test_erasure_redacts_pending_payloads(repo):
    await repo.add_webhook(url="http://127.0.0.1:1/x", events=["*"])
    erin = await repo.create_customer(name="Erin", email="erin@example.org", phone="+14155550199")
    await repo.erase_customer(erin.id, requested_by="test")
    claimed = await repo.claim_webhook_deliveries(now=1e12, lease=30.0)
    assert [(d["type"], d["data"]) for d in claimed] == [("customer.created", {"redacted": True})]


async def test_changed_since_sees_every_write_once_in_commit_order(repo):
    async def feed(after: int) -> list[tuple[str, int]]:
        rows = await repo.database.read(customers_changed_since, after, 1000, None)
        return [(row.name, row.change_seq) for row in rows]

    start = max((seq for _, seq in await feed(0)), default=0)
    a = await repo.create_customer(name="a")
    b = await repo.create_customer(name="b")
    await repo.update_customer(a.id, name="a2")
    changes = await feed(start)
    assert [name for name, _ in changes] == ["b", "a2"]  # a moved to the end with its new number
    cursor = changes[-1][1]
    assert await feed(cursor) == []
    # Many writers at once (PostgreSQL: concurrent transactions): every number is distinct and
    # each reader page continues where the last ended.
    made = await asyncio.gather(*(repo.create_customer(name=f"c{i}") for i in range(20)))
    later = await feed(cursor)
    assert sorted(name for name, _ in later) == sorted(c.name for c in made)
    assert [seq for _, seq in later] == sorted({seq for _, seq in later})
    assert b.id


async def test_a_transaction_writing_two_customers_beside_another_never_deadlocks(repo, database_url):
    # T1 writes a, then b; T2 writes b in between. Numbered at the write, T1 would hold the
    # counter and wait for b's row while T2 holds b's row and waits for the counter: a deadlock
    # (PostgreSQL aborts one). Numbered at commit (a deferred trigger), T1 just waits for T2.
    if repo.database.dialect != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    import asyncpg
    from sqlalchemy.engine import make_url

    a, b = await repo.create_customer(name="a"), await repo.create_customer(name="b")
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    one, two = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        first, second = one.transaction(), two.transaction()
        await first.start()
        await second.start()
        await asyncio.wait_for(one.execute("UPDATE customers SET name = 'a1' WHERE id = $1", a.id), 5)
        # Numbered at the write, this one would wait for T1's counter here (then deadlock below).
        await asyncio.wait_for(two.execute("UPDATE customers SET name = 'b2' WHERE id = $1", b.id), 5)
        waiting = asyncio.create_task(one.execute("UPDATE customers SET name = 'b1' WHERE id = $1", b.id))
        await asyncio.sleep(0.3)
        await asyncio.wait_for(second.commit(), 5)
        await asyncio.wait_for(waiting, 5)
        await first.commit()
    finally:
        one.terminate()
        two.terminate()
    rows = await repo.database.read(customers_changed_since, b.change_seq or 0, 1000, None)
    # Both of T1's rows, in their final state, numbered after T2's commit.
    assert sorted((row.name, row.id) for row in rows) == sorted([("a1", a.id), ("b1", b.id)])


async def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(repo):
    hook, first_secret = await repo.add_webhook(url="http://127.0.0.1:1/x", events=["*"], now=100.0)
    await repo.create_customer(name="Before", now=101.0)
    rotated, new_secret = await repo.rotate_webhook_secret(hook["id"], overlap=3600.0, now=200.0, actor="agent:a1")
    assert new_secret != first_secret and rotated["previous_until"] == 3800.0
    claimed = await repo.claim_webhook_deliveries(now=300.0, lease=30.0)
    assert [(d["secret"], d["previous_secret"]) for d in claimed] == [(new_secret, first_secret)]
    await repo.finish_webhook_attempt(claimed[0]["id"], attempt=1, at=301.0, duration=0.1, status_code=200,
                                      error=None, next_at=None)
    await repo.create_customer(name="After the overlap", now=4000.0)
    claimed = await repo.claim_webhook_deliveries(now=4000.0, lease=30.0)
    assert [(d["secret"], d["previous_secret"]) for d in claimed] == [(new_secret, None)]
    audit = await repo.admin_audit(target=f"webhook:{hook['id']}")
    assert [row["action"] for row in audit] == ["webhook.rotate"]
    assert first_secret not in str(audit) and new_secret not in str(audit)
    with pytest.raises(Exception, match="No webhook"):
        await repo.rotate_webhook_secret("wh_nobody", overlap=0.0)
