"""The analytics job on SQLite and PostgreSQL: orders in, versioned results out, the REST read.

Orders go in through the repository as a site would write them (refunds,
cancellations, zero-value orders, one-order customers, a merge); the job runs
for real; a failing run leaves the previous results in place and says so.
"""

from __future__ import annotations

import functools

from starlette.testclient import TestClient

from desktop.analytics.compute import AnalyticsConfig
from desktop.leader.analytics_job import RunOutcome, run_analytics
from desktop.app import create_app
from desktop.repository import Repository
from desktop.settings import Settings

DAY = 86400.0
NOW = 1_800_000_000.0
CONFIG = AnalyticsConfig(period_days=180, min_support=0.2, min_lift=1.0)


async def _shop(repo: Repository) -> dict[str, str]:
    """Five customers and their orders; returns name -> customer id."""
    ids = {}
    for name in ("loyal", "lapsed", "once", "refunder", "merged"):
        ids[name] = (await repo.create_customer(name=name.title(), now=NOW - 400 * DAY)).id
    n = 0

    async def order(who: str, days_ago: float, cents: int, skus=(), status="paid") -> None:
        nonlocal n
        n += 1
        await repo.add_order(id=f"O-{n}", customer_id=ids[who], placed_at=NOW - days_ago * DAY,
                             total_cents=cents, currency="EUR", status=status,
                             items=[{"sku": s, "quantity": 1, "price_cents": cents} for s in skus],
                             now=NOW)

    # Loyal: every 20 days, tent and stove together, and big enough for gold each period.
    for d in range(5, 360, 20):
        await order("loyal", d, 30_000, ("tent", "stove"))
    # Lapsed: gold a period ago (in 180..360 days), nothing since: tier falls.
    for d in (200, 230, 260, 290):
        await order("lapsed", d, 60_000, ("tent", "stove", "lamp"))
    await order("once", 50, 9_000, ("tent",))
    await order("refunder", 30, 20_000, ("lamp",))
    await order("refunder", 20, 20_000, ("lamp",), status="refunded")
    await order("refunder", 10, 0, ("mug",))  # a free replacement
    await order("refunder", 12, 5_000, ("stove",), status="cancelled")
    await order("merged", 40, 70_000, ("tent", "stove"))
    await repo.merge_customers(ids["merged"], ids["loyal"], actor="test", now=NOW)
    return ids


async def test_a_run_stores_versioned_scores_rules_and_a_summary(repo: Repository) -> None:
    ids = await _shop(repo)
    outcome = await run_analytics(repo, config=CONFIG, now=NOW)
    assert outcome.ok, outcome.message
    latest, current = await repo.analytics_status()
    assert latest == current and current.status == "succeeded" and current.model_version == "1"
    assert current.started_at == NOW and current.config["period_days"] == 180
    # The merged customer's orders count for the head; the member has no row of its own.
    assert outcome.summary["customers"] == 4
    loyal = await repo.customer_score(ids["loyal"])
    assert loyal.customer_id == ids["loyal"]
    assert loyal.data["frequency"] == 9 + 1  # 9 orders in the last 180 days plus the merged one
    assert loyal.tier == "gold" and loyal.data["trend"] == "same" and not loyal.at_risk
    assert loyal.data["p_alive"] > 0.9
    assert (await repo.customer_score(ids["merged"])).customer_id == ids["loyal"]
    lapsed = await repo.customer_score(ids["lapsed"])
    assert (lapsed.tier, lapsed.data["previous_tier"], lapsed.data["trend"]) == ("standard", "gold", "down")
    assert lapsed.at_risk and "tier fell from gold to standard" in lapsed.data["reasons"]
    # Refunded order takes its value back; cancelled and free ones are no purchase.
    refunder = await repo.customer_score(ids["refunder"])
    assert (refunder.data["frequency"], refunder.data["monetary_cents"]) == (1, 0)
    once = await repo.customer_score(ids["once"])
    assert once.data["frequency"] == 1 and once.data["p_alive"] == 1.0
    # "once" bought a tent: those who did also bought stoves.
    assert once.data["recommendations"][0] == "stove"
    rules = {(tuple(r.antecedent), tuple(r.consequent)) for r in await repo.product_rules()}
    assert (("tent",), ("stove",)) in rules


async def test_a_failing_run_leaves_the_previous_results_in_place_and_says_so(repo: Repository) -> None:
    ids = await _shop(repo)
    first = await run_analytics(repo, config=CONFIG, now=NOW)
    assert first.ok

    def broken(orders, *, now, config):
        raise RuntimeError("the disk is full")

    failed = await run_analytics(repo, config=CONFIG, now=NOW + DAY, analyse=broken)
    assert isinstance(failed, RunOutcome) and not failed.ok
    assert "the disk is full" in failed.message
    assert f"the results of run {first.run_id}" in failed.message and "stay in place" in failed.message
    latest, current = await repo.analytics_status()
    assert (latest.id, latest.status, current.id) == (failed.run_id, "failed", first.run_id)
    assert "RuntimeError: the disk is full" in latest.error
    score = await repo.customer_score(ids["lapsed"])
    assert score.run.id == first.run_id and score.at_risk
    assert await repo.product_rules()


async def test_only_the_last_runs_keep_their_rows_and_erasure_removes_a_persons(repo: Repository) -> None:
    ids = await _shop(repo)
    runs = [await run_analytics(repo, config=CONFIG, now=NOW + i) for i in range(4)]
    assert all(r.ok for r in runs)

    def rows(conn):
        from sqlalchemy import text
        return conn.execute(text("SELECT DISTINCT run_id FROM customer_scores ORDER BY run_id")).scalars().all()

    assert await repo.database.read(rows) == [r.run_id for r in runs[-3:]]
    await repo.erase_customer(ids["lapsed"], requested_by="test", now=NOW)

    def lapsed_rows(conn):
        from sqlalchemy import text
        return conn.execute(text("SELECT count(*) FROM customer_scores WHERE customer_id = :c"),
                            {"c": ids["lapsed"]}).scalar_one()

    assert await repo.database.read(lapsed_rows) == 0


async def test_nothing_to_analyse_is_a_successful_run_with_notes(repo: Repository) -> None:
    outcome = await run_analytics(repo, config=CONFIG, now=NOW)
    assert outcome.ok and outcome.summary["customers"] == 0
    assert any("BG/NBD not fitted" in note for note in outcome.summary["notes"])


def test_rest_read_of_a_customers_analytics_and_of_a_carts_associations(database_url: str, tmp_path) -> None:
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url, secret_key="test-secret",
                        process_id="analytics-test")
    with TestClient(create_app(settings)) as client:
        repo = client.app.state.repo

        def call(fn, *args, **kwargs):
            return client.portal.call(functools.partial(fn, *args, **kwargs))

        _, key = call(repo.create_api_key, name="test", scopes=("read",))
        auth = {"Authorization": f"Bearer {key}"}
        ids = call(_shop, repo)
        call(repo.put_product, sku="stove", name="Camping stove", price_cents=3000, currency="EUR")
        path = f"/api/v1/customers/{ids['lapsed']}/analytics"
        before = client.get(path, headers=auth).json()
        assert before["analytics"] is None and "No analytics results yet" in before["run"]["notice"]

        call(run_analytics, repo, config=CONFIG, now=NOW)
        answer = client.get(path, headers=auth)
        assert answer.status_code == 200
        body = answer.json()
        assert body["run"]["notice"] is None and body["run"]["model_version"] == "1"
        got = body["analytics"]
        assert (got["tier"], got["previous_tier"], got["trend"], got["at_risk"]) == ("standard", "gold", "down", True)
        assert got["reasons"][0] == "tier fell from gold to standard"
        assert got["rfm_scores"] == [0, 0, 0]  # no order this period: not among its customers' scores
        assert got["reasons"][1].startswith("probability still active")  # silent for 200 days
        once = client.get(f"/api/v1/customers/{ids['once']}/analytics", headers=auth).json()["analytics"]
        assert once["recommendations"][0] == {"sku": "stove", "name": "Camping stove"}
        assert len(once["rfm_scores"]) == 3 and all(1 <= score <= 5 for score in once["rfm_scores"])

        def broken(orders, *, now, config):
            raise RuntimeError("out of memory")

        call(run_analytics, repo, config=CONFIG, now=NOW + DAY, analyse=broken)
        stale = client.get(path, headers=auth).json()
        assert "failed (RuntimeError: out of memory)" in stale["run"]["notice"]
        assert stale["analytics"]["tier"] == "standard"  # the previous results, still shown

        cart = client.get("/api/v1/associations", headers=auth, params=[("sku", "tent")]).json()
        assert cart["items"][0]["sku"] == "stove" and cart["items"][0]["name"] == "Camping stove"
        assert cart["items"][0]["because"] == ["tent"]
        assert all(i["sku"] != "tent" for i in cart["items"])
        assert client.get("/api/v1/associations", headers=auth).status_code == 422
        assert client.get("/api/v1/customers/nobody/analytics", headers=auth).status_code == 404
        assert client.get(path).status_code == 401


async def test_routing_reads_the_analytics_tier_when_a_run_scored_the_customer_else_the_spend_tier(
        repo: Repository) -> None:
    ids = await _shop(repo)
    # No run yet: the tier from 365 days of spend (lapsed spent 240,000 in the last year: gold).
    assert await repo.routing_tier(ids["lapsed"]) == ("gold", "spend")
    assert await repo.routing_tier("no-such-customer") == ("standard", "none")
    for customer_id in (ids["lapsed"], ids["merged"], "no-such-customer"):
        await _one_read_agrees(repo, customer_id)
    assert (await run_analytics(repo, config=CONFIG, now=NOW)).ok
    # Scored by the run (a 180-day period): nothing in the last one, so standard, though the
    # spend tier still says gold; a merged member reads as its head.
    assert (await repo.get_customer(ids["lapsed"])).tier == "gold"
    assert await repo.routing_tier(ids["lapsed"]) == ("standard", "analytics")
    assert await repo.routing_tier(ids["merged"]) == ("gold", "analytics")
    # A customer the run has not seen (new since) falls back to their spend tier.
    newcomer = (await repo.create_customer(name="New", now=NOW)).id
    await repo.add_order(id="O-new", customer_id=newcomer, placed_at=NOW - DAY, total_cents=1_200_000,
                         currency="EUR", status="paid", items=[], now=NOW)
    assert await repo.routing_tier(newcomer) == ("platinum", "spend")
    for customer_id in (ids["lapsed"], ids["merged"], newcomer, "no-such-customer"):
        await _one_read_agrees(repo, customer_id)


async def _one_read_agrees(repo: Repository, customer_id: str) -> None:
    # A call_me reads both at once (routing_customer): the same answers as the two reads.
    head = await repo.resolve_customer(customer_id)
    assert await repo.routing_customer(customer_id) == (head, *await repo.routing_tier(customer_id))
