"""An agent opens a customer on the desk and sees their value tier falling, that they are at
risk and why, and what to recommend; after a failed analytics run the page says the figures
are the previous ones."""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import expect

from desktop.repository import Repository
from desktop.settings import Settings
from tests.e2e.conftest import login
from tests.helpers.server import ROOT, running_server

DAY = 86400.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A short period so that a few orders make a tier history.
    env = {"OTODESK_ANALYTICS_PERIOD_DAYS": "90", "OTODESK_ANALYTICS_MIN_SUPPORT": "0.2"}
    with running_server(tmp_path_factory.mktemp("analytics-e2e"), env=env) as server:
        yield server


def otodesk(server, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command line against the server's own database (its var dir and settings)."""
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**server.env, **(env or {})}, timeout=120)


def test_agent_sees_tier_trend_risk_and_recommendations(browser, server):
    key = otodesk(server, "apikey", "create", "e2e").stdout.split()
    key = next(word for word in key if word.startswith("otk_"))
    api = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"})
    for sku, name in (("tent", "Trail tent"), ("stove", "Camping stove"), ("lamp", "Head lamp")):
        assert api.put(f"/api/v1/products/{sku}", json={"name": name, "price_cents": 5000,
                                                         "currency": "EUR"}).status_code == 200
    now = time.time()
    customers = {}
    for who in ("Lena Lapsed", "Kai Keen", "Olu Once"):
        customers[who] = api.post("/api/v1/customers", json={"name": who}).json()["id"]
    orders = [("Lena Lapsed", d, 150_000, ["tent", "stove"]) for d in (100, 120, 140, 160)]
    orders += [("Kai Keen", d, 30_000, ["tent", "stove"]) for d in range(3, 170, 12)]
    orders += [("Olu Once", 20, 9_000, ["tent"])]
    for n, (who, days_ago, cents, skus) in enumerate(orders):
        answer = api.post("/api/v1/orders", json={
            "id": f"E2E-{n}", "customer_id": customers[who], "placed_at": now - days_ago * DAY,
            "total_cents": cents, "currency": "EUR", "status": "delivered",
            "items": [{"sku": s, "quantity": 1, "price_cents": cents // len(skus)} for s in skus]})
        assert answer.status_code == 201, answer.text
    run = otodesk(server, "analytics", "run")
    assert run.returncode == 0, run.stderr

    page = login(browser, server, "bob", f"/desk/customers/{customers['Lena Lapsed']}")
    block = page.get_by_test_id("customer-analytics")
    expect(page.get_by_test_id("customer-name")).to_have_text("Lena Lapsed")
    expect(block.get_by_test_id("analytics-tier")).to_have_text("Standard")
    expect(block.get_by_test_id("analytics-trend")).to_have_attribute("data-trend", "down")
    expect(block.get_by_test_id("analytics-trend")).to_contain_text("was Gold")
    expect(block.get_by_test_id("analytics-at-risk")).to_contain_text("tier fell from gold to standard")
    expect(block.get_by_test_id("analytics-outlook")).to_contain_text("likely still active")
    expect(block.get_by_test_id("analytics-notice")).to_have_count(0)

    page.goto(f"{server.base_url}/desk/customers/{customers['Olu Once']}")
    expect(page.get_by_test_id("customer-name")).to_have_text("Olu Once")
    expect(block.get_by_test_id("analytics-recommendations")).to_have_text("Recommend: Camping stove")
    expect(block.get_by_test_id("analytics-at-risk")).to_have_count(0)

    # A bad setting is refused before anything runs...
    bad = otodesk(server, "analytics", "run", env={"OTODESK_ANALYTICS_TIERS": "ranks:gold=1"})
    assert bad.returncode == 2 and "Unknown tier mode" in bad.stderr
    # ...and when a run fails, the desk goes on showing the previous results and says so.
    # (Playwright's sync API runs a loop in this thread: the repository gets a thread of its own.)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, record_failed_run(server, "MemoryError: out of memory")).result()
    page.goto(f"{server.base_url}/desk/customers/{customers['Lena Lapsed']}")
    expect(block.get_by_test_id("analytics-notice")).to_contain_text("failed (MemoryError: out of memory)")
    expect(block.get_by_test_id("analytics-notice")).to_contain_text("showing the results of")
    expect(block.get_by_test_id("analytics-tier")).to_have_text("Standard")
    expect(block.get_by_test_id("analytics-at-risk")).to_be_visible()
    page.context.close()
    api.close()


async def record_failed_run(server, error: str) -> None:
    """What run_analytics records when its computation raises (tests/integration covers the job)."""
    url = Settings(var_dir=server.var_dir).effective_database_url
    async with Repository.open(url) as repo:
        run_id = await repo.start_analytics_run(now=time.time(), model_version="1", config={})
        await repo.fail_analytics_run(run_id, now=time.time(), error=error)
