"""The Customer Contact Repository on SQLite and PostgreSQL: identities, merges, timeline,
orders and tiers, CSV import, erasure, migration of a populated database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desktop.repository import Conflict, NotFound, Repository, upgrade_database_async
from desktop.repository.engine import open_database
from desktop.repository.imports import ImportFailed
from desktop.repository.migrate import alembic_config
from tests.conftest import FAST_HASHER

T0 = 1_800_000_000.0


async def _visitor_customer(repo: Repository, visitor_id: str, now: float = T0) -> str:
    return (await repo.touch_visitor(visitor_id, now)).customer_id


# Identities


async def test_verified_user_id_links_visitors_into_one_customer(repo: Repository) -> None:
    first = await _visitor_customer(repo, "v-laptop")
    await repo.record_page_view("v-laptop", url="https://shop/a", title="A", now=T0 + 1)
    owner = await repo.link_verified_user("v-laptop", "user-42", now=T0 + 2)
    assert owner.id == first  # nobody held the id: the visitor's customer takes it

    second = await _visitor_customer(repo, "v-phone", T0 + 10)
    await repo.record_page_view("v-phone", url="https://shop/b", title="B", now=T0 + 11)
    linked = await repo.link_verified_user("v-phone", "user-42", now=T0 + 12)
    assert linked.id == first
    assert (await repo.get_visitor("v-phone")).customer_id == first
    assert (await repo.resolve_customer(second)).id == first  # merged, audited
    history = await repo.merge_history(first)
    assert [(m.action, m.source_id, m.target_id, m.actor) for m in history] == [
        ("merge", second, first, "identify:hmac")]
    page = await repo.customer_timeline(first, kinds=["page_view"])
    assert [e.data["url"] for e in page.events] == ["https://shop/b", "https://shop/a"]
    kinds = {(i.kind, i.value) for i in await repo.identities(first)}
    assert {("user_id", "user-42"), ("visitor", "v-laptop"), ("visitor", "v-phone")} <= kinds


async def test_concurrent_sign_ins_of_one_user_end_in_one_customer(repo: Repository) -> None:
    import asyncio

    for n in range(4):
        await _visitor_customer(repo, f"v-race-{n}")
    linked = await asyncio.gather(*(repo.link_verified_user(f"v-race-{n}", "racer") for n in range(4)))
    heads = {(await repo.resolve_customer(c.id)).id for c in linked}
    assert len(heads) == 1
    owners = {(await repo.resolve_customer((await repo.get_visitor(f"v-race-{n}")).customer_id)).id
              for n in range(4)}
    assert owners == heads


async def test_opposite_merges_at_once_never_make_a_cycle(repo: Repository) -> None:
    import asyncio

    a = await repo.create_customer(name="A")
    b = await repo.create_customer(name="B")
    results = await asyncio.gather(repo.merge_customers(a.id, b.id, actor="t"),
                                   repo.merge_customers(b.id, a.id, actor="t"), return_exceptions=True)
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert (await repo.resolve_customer(a.id)).id == (await repo.resolve_customer(b.id)).id


async def test_unverified_claims_never_link(repo: Repository) -> None:
    a = await _visitor_customer(repo, "v-a")
    b = await _visitor_customer(repo, "v-b")
    for customer in (a, b):
        await repo.record_identity_hints(customer, email="Mei@Example.com", phone="+14155552671", now=T0)
    assert (await repo.resolve_customer(a)).id == a
    assert (await repo.resolve_customer(b)).id == b
    assert await repo.merge_history(a) == []
    hints = [i for i in await repo.identities(a) if i.kind in ("email", "phone")]
    assert {(i.value, i.verified) for i in hints} == {("mei@example.com", False), ("+14155552671", False)}
    # Both show up when searching: a hint is searchable, not a link.
    found = {c.id for c in await repo.search_customers("(415) 555-2671")}
    assert found == {a, b}


async def test_signed_in_visitor_of_another_user_moves_without_merging(repo: Repository) -> None:
    await _visitor_customer(repo, "v-shared")
    alice = await repo.link_verified_user("v-shared", "alice")
    bob = await repo.create_customer(name="Bob", user_id="bob")
    moved = await repo.link_verified_user("v-shared", "bob")
    assert moved.id == bob.id
    assert (await repo.resolve_customer(alice.id)).id == alice.id  # Alice is not Bob
    assert await repo.merge_history(alice.id) == []


async def test_verified_identity_is_unique(repo: Repository) -> None:
    one = await repo.create_customer(name="One", user_id="u-1")
    two = await repo.create_customer(name="Two")
    with pytest.raises(Conflict):
        await repo.add_identity(two.id, "user_id", "u-1", verified=True, source="api")
    with pytest.raises(Conflict):
        await repo.create_customer(user_id="u-1")
    same = await repo.add_identity(one.id, "user_id", "u-1", verified=True, source="api")
    assert same.customer_id == one.id
    with pytest.raises(ValueError):
        await repo.add_identity(two.id, "phone", "0415 555", verified=False, source="api")


async def test_merge_and_unmerge_are_audited_and_reversible(repo: Repository) -> None:
    personal = await repo.create_customer(name="Mei Personal", user_id="p-1", now=T0)
    business = await repo.create_customer(name="Mei Ltd", user_id="b-1", now=T0)
    await repo.log_contact(personal.id, kind="email", at=T0 + 1, data={"subject": "Invoice"})
    await repo.log_contact(business.id, kind="store_visit", at=T0 + 2, data={"store": "Main St"})

    await repo.merge_customers(business.id, personal.id, actor="agent:alice", reason="same person", now=T0 + 3)
    page = await repo.customer_timeline(personal.id)
    assert [e.kind for e in page.events] == ["store_visit", "email"]
    assert (await repo.customer_timeline(business.id)).events == page.events  # read through the head
    with pytest.raises(Conflict):
        await repo.merge_customers(personal.id, business.id, actor="agent:alice")

    await repo.unmerge_customer(business.id, actor="agent:bob", now=T0 + 4)
    assert [e.kind for e in (await repo.customer_timeline(personal.id)).events] == ["email"]
    assert [e.kind for e in (await repo.customer_timeline(business.id)).events] == ["store_visit"]
    audit = await repo.merge_history(personal.id)
    assert [(m.action, m.actor) for m in audit] == [("merge", "agent:alice"), ("unmerge", "agent:bob")]
    with pytest.raises(Conflict):
        await repo.unmerge_customer(business.id, actor="agent:bob")
    with pytest.raises(NotFound):
        await repo.merge_customers("nobody", personal.id, actor="agent:bob")


async def test_summary_of_a_merged_group_reads_every_member(repo: Repository) -> None:
    # head ← middle ← leaf: opened from any of them, the summary is the head's, with all three.
    head = await repo.create_customer(name="Head", user_id="g-head", now=T0)
    middle = await repo.create_customer(name="Middle", user_id="g-mid", now=T0)
    leaf = await _visitor_customer(repo, "v-leaf")
    await repo.record_page_view("v-leaf", url="https://shop/leaf", title="Leaf page", now=T0 + 1)
    for n, (customer_id, kind) in enumerate([(head.id, "email"), (middle.id, "chat"), (leaf, "note")]):
        await repo.log_contact(customer_id, kind=kind, at=T0 + 10 + n, data={"n": n})
        await repo.add_order(id=f"g-o{n}", customer_id=customer_id, placed_at=T0 - 10,
                             total_cents=10_000 * (n + 1), currency="USD", now=T0)
    await repo.merge_customers(leaf, middle.id, actor="agent:alice", now=T0 + 20)
    await repo.merge_customers(middle.id, head.id, actor="agent:alice", now=T0 + 21)
    for opened_as in (head.id, middle.id, leaf):
        summary = await repo.customer_summary(opened_as, now=T0, timeline=2)
        assert summary["customer"]["name"] == "Head"
        assert sorted(summary["merged"]) == sorted([middle.id, leaf])
        assert summary["spend_365d_cents"] == 60_000 and summary["orders_365d"] == 3
        kinds = [(i["kind"], i["value"]) for i in summary["identities"]]
        assert ("user_id", "g-head") in kinds and ("user_id", "g-mid") in kinds and ("visitor", "v-leaf") in kinds
        assert [e["kind"] for e in summary["last_contacts"]] == ["note", "chat", "email"]
        page = await repo.customer_timeline(opened_as, limit=2)
        assert summary["timeline"]["items"] == [_event(e) for e in page.events]
        assert summary["timeline"]["next_cursor"] == page.next_cursor is not None
    await repo.unmerge_customer(middle.id, actor="agent:bob", now=T0 + 22)
    assert (await repo.customer_summary(head.id, now=T0))["spend_365d_cents"] == 10_000


def _event(e) -> dict:
    return {"id": e.id, "customer_id": e.customer_id, "kind": e.kind, "channel": e.channel, "at": e.at,
            "agent_id": e.agent_id, "visitor_id": e.visitor_id, "callback_id": e.callback_id,
            "data": e.data}


async def test_search_by_name_phone_email_and_id(repo: Repository) -> None:
    mei = await repo.create_customer(name="Mei Lin", email="mei@example.com", phone="+14155552671",
                                     user_id="shop-77")
    await repo.create_customer(name="Other Person")
    for query in ("mei", "MEI LIN", "415-555-2671", "+1 415 555 2671", "Mei@Example.com",
                  "shop-77", mei.id):
        assert [c.id for c in await repo.search_customers(query)] == [mei.id], query
    assert await repo.search_customers("zzz") == []
    assert await repo.search_customers("%") == []


# Timeline


async def test_timeline_newest_first_with_keyset_pages_and_filters(repo: Repository) -> None:
    customer = await repo.create_customer(name="Many")
    kinds = ["email", "chat", "note", "store_visit"]
    for n in range(45):
        # Pairs share a timestamp: the id breaks the tie.
        await repo.log_contact(customer.id, kind=kinds[n % 4], at=T0 + n // 2, data={"n": n})
    seen, cursor = [], None
    while True:
        page = await repo.customer_timeline(customer.id, limit=10, cursor=cursor)
        seen += [e.data["n"] for e in page.events]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(44, -1, -1))
    only = await repo.customer_timeline(customer.id, kinds=["chat"], limit=200)
    assert [e.data["n"] for e in only.events] == [n for n in range(44, -1, -1) if n % 4 == 1]
    stores = await repo.customer_timeline(customer.id, channels=["store"], limit=200)
    assert {e.kind for e in stores.events} == {"store_visit"}
    with pytest.raises(ValueError):
        await repo.customer_timeline(customer.id, cursor="garbage")
    with pytest.raises(ValueError):
        await repo.log_contact(customer.id, kind="page_view", at=T0)
    with pytest.raises(NotFound):
        await repo.customer_timeline("nobody")


async def test_retention_deletes_old_page_views_only(repo: Repository) -> None:
    customer_id = await _visitor_customer(repo, "v-old")
    await repo.record_page_view("v-old", url="https://shop/old", title="", now=T0)
    await repo.record_page_view("v-old", url="https://shop/new", title="", now=T0 + 100)
    await repo.log_contact(customer_id, kind="note", at=T0 - 1000)
    assert await repo.delete_browsing_before(T0 + 50) == 1
    left = (await repo.customer_timeline(customer_id)).events
    assert [(e.kind, e.data.get("url")) for e in left] == [("page_view", "https://shop/new"), ("note", None)]


# Orders and tiers


async def test_orders_set_the_value_tier_over_365_days(repo: Repository) -> None:
    customer = await repo.create_customer(name="Spender", user_id="s-1")
    await repo.add_order(id="o-old", customer_id=customer.id, placed_at=T0 - 400 * 86400,
                         total_cents=5_000_000, currency="USD", now=T0)
    assert (await repo.get_customer(customer.id)).tier == "standard"  # too old to count
    await repo.add_order(id="o-1", customer_id=customer.id, placed_at=T0 - 10, total_cents=60_000,
                         currency="USD", now=T0)
    assert (await repo.get_customer(customer.id)).tier == "silver"
    await repo.add_order(id="o-2", customer_id=customer.id, placed_at=T0 - 5, total_cents=150_000,
                         currency="USD", now=T0)
    assert (await repo.get_customer(customer.id)).tier == "gold"
    with pytest.raises(Conflict):
        await repo.add_order(id="o-2", customer_id=customer.id, placed_at=T0, total_cents=1, currency="USD")
    with pytest.raises(NotFound):
        await repo.add_order(id="o-3", customer_id="nobody", placed_at=T0, total_cents=1, currency="USD")
    summary = await repo.customer_summary(customer.id, now=T0)
    assert summary["spend_365d_cents"] == 210_000 and summary["customer"]["tier"] == "gold"


# CSV import


CUSTOMERS_CSV = """user_id,name,email,phone
c-1,Mei Lin,mei@example.com,(415) 555-2671
c-2,Ravi Rao,ravi@example.com,
"""

BAD_ORDERS_CSV = """order_id,user_id,placed_at,total,currency,items
A-1,c-1,2026-11-01T10:00:00Z,2500.00,USD,sku-1:2
A-2,c-404,2026-11-01T10:00:00Z,10.00,USD,
A-3,c-2,yesterday,10.00,USD,
A-4,c-2,2026-11-02,ten,USD,
A-5,c-2,2026-11-02,10.00,dollars,
A-1,c-2,2026-11-02,10.00,USD,
"""


async def test_csv_import_is_all_or_nothing_with_per_row_errors(repo: Repository) -> None:
    assert await repo.import_csv("customers", CUSTOMERS_CSV, now=T0) == 2
    with pytest.raises(ImportFailed) as failed:
        await repo.import_csv("orders", BAD_ORDERS_CSV, now=T0)
    lines = {e.line: e.message for e in failed.value.errors}
    assert sorted(lines) == [4, 5, 6]  # format errors first, found before any database work
    assert "placed_at" in lines[4] and "total" in lines[5] and "currency" in lines[6]
    fixed = BAD_ORDERS_CSV.replace("yesterday", "2026-11-02").replace(",ten,", ",10,").replace("dollars", "USD")
    with pytest.raises(ImportFailed) as failed:
        await repo.import_csv("orders", fixed, now=T0)
    lines = {e.line: e.message for e in failed.value.errors}
    assert sorted(lines) == [3, 7]
    assert "no customer" in lines[3] and "repeats line 2" in lines[7]
    assert await repo.list_orders() == []  # nothing half-imported
    good = "\n".join(fixed.splitlines()[:2]) + "\n"
    assert await repo.import_csv("orders", good, now=1_793_600_000.0) == 1
    mei = (await repo.search_customers("mei@example.com"))[0]
    assert mei.tier == "gold" and mei.phone == "+14155552671"
    with pytest.raises(ImportFailed) as failed:
        await repo.import_csv("customers", "id,name\n1,x\n")
    assert failed.value.errors[0].line == 1


# Erasure (database side; files and Redis in test_ccr_erasure.py)


async def test_erasure_keeps_anonymous_counts(repo: Repository) -> None:
    customer_id = await _visitor_customer(repo, "v-erase")
    await repo.update_customer(customer_id, name="Erin Erased", email="erin@example.com",
                               phone="+14155550199")
    await repo.record_page_view("v-erase", url="https://shop/p", title="P", now=T0)
    result = await repo.erase_customer(customer_id, requested_by="customer", now=T0 + 5)
    assert result.counts["customers"] == 1 and result.counts["contact_events"] == 1
    assert "+14155550199" in result.identifiers
    assert await repo.get_customer(customer_id) is None
    assert await repo.get_visitor("v-erase") is None


# Migrations


async def test_migration_upgrades_a_populated_0001_database(database_url: str) -> None:
    from alembic import command

    database = open_database(database_url)
    try:
        def to_0001(conn):
            cfg = alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            conn.execute(text(
                "INSERT INTO customers (id, name, email, phone, external_id, tier, created_at, updated_at)"
                " VALUES ('c-old', 'Old Timer', 'old@example.com', '+14155552671', 'ext-1', 'gold', 1, 1)"))
            conn.execute(text(
                "INSERT INTO visitors (id, customer_id, created_at, last_seen_at, context)"
                " VALUES ('v-old', 'c-old', 1, 1, '{}')"))
            for n in range(3):
                conn.execute(text(
                    "INSERT INTO contact_events (customer_id, visitor_id, kind, channel, at, data)"
                    f" VALUES ('c-old', 'v-old', 'page_view', 'web', {n + 1}, '{{}}')"))

        await database.write(to_0001)
    finally:
        await database.dispose()
    await upgrade_database_async(database_url)
    async with Repository.open(database_url, password_hasher=FAST_HASHER) as repo:
        old = await repo.get_customer("c-old")
        assert (old.name, old.tier, old.merged_into) == ("Old Timer", "gold", None)
        assert len((await repo.customer_timeline("c-old")).events) == 3
        assert [c.id for c in await repo.search_customers("415 555 2671")] == ["c-old"]
        await repo.link_verified_user("v-old", "ext-1")
        assert (await repo.customer_summary("c-old"))["customer"]["name"] == "Old Timer"


async def test_migration_0003_keeps_merges_and_indexes_only_merged_rows(database_url: str) -> None:
    from alembic import command

    database = open_database(database_url)
    try:
        def to_0002(conn):
            cfg = alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
            for n in range(50):
                conn.execute(text(
                    "INSERT INTO customers (id, name, tier, created_at, updated_at, merged_into)"
                    f" VALUES ('c-{n}', 'Person {n}', 'standard', 1, 1, NULL)"))
            conn.execute(text("UPDATE customers SET merged_into = 'c-0' WHERE id IN ('c-1', 'c-2')"))
            conn.execute(text(
                "INSERT INTO contact_events (customer_id, kind, channel, at, data)"
                " VALUES ('c-2', 'note', 'desk', 5, '{}')"))

        await database.write(to_0002)
    finally:
        await database.dispose()
    await upgrade_database_async(database_url)
    async with Repository.open(database_url, password_hasher=FAST_HASHER) as repo:
        summary = await repo.customer_summary("c-2", timeline=5)
        assert summary["customer"]["id"] == "c-0" and sorted(summary["merged"]) == ["c-1", "c-2"]
        assert [e["kind"] for e in summary["timeline"]["items"]] == ["note"]
        # Nobody merged (the usual state): every merged_into NULL, the case SQLite's statistics got wrong.
        for source in ("c-1", "c-2"):
            await repo.unmerge_customer(source, actor="test")

        def plan(conn) -> str:
            if conn.dialect.name == "postgresql":
                return conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customers_merged_into'").scalar_one()
            # With statistics, as a long-lived database has them: the index must still be chosen.
            conn.exec_driver_sql("ANALYZE")
            found = []
            for where in ("= 'c-0'", "IN ('c-0', 'c-1')"):
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN SELECT id FROM customers WHERE merged_into {where}")
                found.append(" ".join(str(row[-1]) for row in rows))
            return " | ".join(found)

        found = await repo.database.write(plan)
        if repo.database.dialect == "postgresql":
            assert "WHERE (merged_into IS NOT NULL)" in found, found
        else:
            assert "SCAN customers" not in found and found.count("INDEX ix_customers_merged_into") == 2, found
