"""Suggestions with two ``otodesk`` processes through Redis and PostgreSQL: a version published
on one reaches an offer made on the other within a second.

A module of its own: test_suggestions.py's module-wide server on PostgreSQL is still up while
its module runs, and emptying the same database for these two processes under it deadlocked
(CI: DROP SCHEMA against that server's open session).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot
from tests.helpers.cluster import processes_on_redis_and_postgres
from tests.integration.test_suggestions import LAPTOP, SLEEVE, publish, ring, staff_client, titles


@pytest.fixture
async def cluster(tmp_path, postgres_url, redis_url):
    env = {"OTODESK_OFFER_TIMEOUT": "30"}
    async with processes_on_redis_and_postgres(tmp_path, postgres_url, redis_url, env=env) as processes:
        yield processes


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_version_published_on_one_process_is_on_an_offer_of_the_other_within_a_second(cluster):
    a, b = cluster
    assert a.health()["leader"] and not b.health()["leader"]
    # The planner publishes on B; the offer is made by the leader, A, and rings on B.
    planner = await staff_client(b.base_url, "admin")
    bob = await AgentBot.login(b.base_url, "bob", DEMO_PASSWORD)
    shoppers = []
    try:
        await bob.command("set_state", state="available")

        async def shopper_with(cart: list[dict]) -> CustomerBot:
            shopper = await CustomerBot.start(b.base_url, url="http://shop.test/cart", title="Cart")
            shoppers.append(shopper)
            await shopper.command("set_context", context={"cart": cart})
            return shopper

        async def offer_for(shopper: CustomerBot) -> dict:
            offer = await ring(bob, shopper, "Ola Nordmann")
            mark = bob.mark()
            await shopper.command("cancel", callback_id=offer["callback_id"])  # Bob is free again
            await bob.wait_for("offer_ended", lambda m: m["offer_id"] == offer["offer_id"], start=mark)
            return offer

        # The demo's catalogue is live (its laptop bag); the sleeve is not published yet.
        assert "laptop-sleeve" not in [s["action_id"] for s in (await offer_for(await shopper_with([LAPTOP])))["suggestions"]]
        shopper = await shopper_with([LAPTOP])  # connected before: the time that counts is the call's
        version = await publish(planner, SLEEVE)
        published = time.monotonic()
        # The customer calls 0.8 s after the publish: the leader on the other process has it by then.
        await asyncio.sleep(0.8)
        called = time.monotonic()
        offer = await offer_for(shopper)
        assert called - published < 1.0
        assert [(s["action_id"], s["version"]) for s in offer["suggestions"]] == [("laptop-sleeve", version)]
        assert offer["suggestions"][0]["script"].startswith("Ola,")

        # A cart change is matched on the customer's process (B): it has the version too.
        shopper = await CustomerBot.start(b.base_url, url="http://shop.test/cart", title="Cart")
        shoppers.append(shopper)
        offer = await ring(bob, shopper, "Per Hansen")
        assert offer["suggestions"] == []  # an empty cart
        mark = bob.mark()
        await shopper.command("set_context", context={"cart": [LAPTOP]})
        update = await bob.wait_for("suggestions", lambda m: m["callback_id"] == offer["callback_id"], start=mark)
        assert titles(update["suggestions"]) == [SLEEVE["title"]]
    finally:
        for shopper in shoppers:
            await shopper.close()
        await bob.close()
        await planner.aclose()
