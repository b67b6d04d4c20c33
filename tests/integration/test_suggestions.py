"""Suggestions on the desk from the live catalogue, with real ``otodesk`` processes and Python bots.

One process on SQLite and on PostgreSQL: a published action shows on the offer card with its
script filled in, changes when the cart does, takes the agent's feedback into the
interaction history and the customer's timeline, and reaches the planner's results with
the order attributed to it. Two processes through Redis: test_suggestions_two_processes.py.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CommandFailed, CustomerBot, login_cookie
from tests.helpers.cluster import empty_postgres
from tests.helpers.server import running_server

LAPTOP = {"slug": "aurora-laptop-14", "name": "Aurora Laptop 14", "price": 1299, "qty": 1}
BIKE = {"slug": "swift-e-bike", "name": "Swift E-Bike", "price": 2190, "qty": 1}

SLEEVE = {
    "id": "laptop-sleeve", "kind": "cross-sell", "title": "A sleeve for the new laptop",
    "script": "{first_name}, a padded {product} keeps the Aurora safe on the move. {context.coupon|Ask me about bundles.}",
    "product_sku": "aurora-sleeve", "product_name": "Aurora sleeve", "value": 39.0, "priority": 5.0,
    "applicability": '"aurora-laptop-14" in cart_skus',
}
HELMET = {
    "id": "bike-helmet", "kind": "cross-sell", "title": "A helmet with the e-bike",
    "script": "{first_name|Hello}, riders of the {product} like our light helmet.",
    "product_sku": "swift-helmet", "product_name": "Swift E-Bike", "value": 59.0, "priority": 9.0,
    "applicability": '"swift-e-bike" in cart_skus',
}

#: Its condition raises at match time (the site never set "campaign"): skipped and counted, never the offer.
BROKEN = {"id": "spring-campaign", "kind": "information", "title": "The spring campaign",
          "applicability": 'context["campaign"] == "spring"'}


async def staff_client(base_url: str, username: str) -> httpx.AsyncClient:
    """An HTTP client signed in as ``username``, sending the desk's CSRF token."""
    cookie = await login_cookie(base_url, username, DEMO_PASSWORD)
    client = httpx.AsyncClient(base_url=base_url, headers={"Cookie": cookie}, timeout=10)
    for page in ("/desk", "/supervisor", "/customers", "/planner"):
        found = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get(page)).text)
        if found:
            client.headers["X-CSRF-Token"] = found.group(1)
            return client
    raise AssertionError("no CSRF token on the staff pages")


async def publish(planner: httpx.AsyncClient, *actions: dict) -> int:
    """Replace the drafts (the demo's) with ``actions`` and publish them; the version."""
    response = await planner.post("/api/v1/rules/import", json={"actions": list(actions)})
    assert response.status_code == 200, response.text
    response = await planner.post("/api/v1/rules/publish", json={"note": "test"})
    assert response.status_code in (200, 201), response.text
    return response.json()["version"]


async def ring(agent: AgentBot, customer: CustomerBot, name: str, queue: str = "sales") -> dict:
    """The offer as the desk shows it once the rules answered: it rings at once, and its
    suggestions follow in a ``suggestions`` message (they never hold the offer up)."""
    mark = agent.mark()
    ack = await customer.command("call_me", name=name, queue=queue)
    message = await agent.wait_for("offer", lambda m: m["offer"]["callback_id"] == ack["callback_id"], start=mark)
    assert message["offer"]["suggestions"] == []  # a first offer: nothing matched yet
    follow = await agent.wait_for("suggestions", lambda m: m["callback_id"] == ack["callback_id"], start=mark)
    assert agent.messages.index(follow) > agent.messages.index(message)
    return {**message["offer"], "suggestions": follow["suggestions"]}


def titles(suggestions: list[dict]) -> list[str]:
    return [s["title"] for s in suggestions]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    env = {"OTODESK_OFFER_TIMEOUT": "30", "OTODESK_CALLME_PER_PHONE": "20"}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        asyncio.run(empty_postgres(url))
        env["OTODESK_DATABASE_URL"] = url
    with running_server(tmp_path_factory.mktemp(f"suggestions-{request.param}"), env=env) as server:
        yield server


async def test_offer_shows_the_suggestion_it_follows_the_cart_and_feedback_reaches_the_results(server):
    planner = await staff_client(server.base_url, "admin")  # an editor of the rules, as planners are
    version = await publish(planner, SLEEVE, HELMET, BROKEN)
    bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
    customer = await CustomerBot.start(server.base_url, url="http://shop.test/cart", title="Cart")
    try:
        await bob.command("set_state", state="available")
        await customer.command("set_context", context={"cart": [LAPTOP], "cart_total": 1299})
        offer = await ring(bob, customer, "Nina Park")
        # The matching action, with its script filled in from the snapshot; not the other one.
        assert titles(offer["suggestions"]) == [SLEEVE["title"]]
        [sleeve] = offer["suggestions"]
        # No coupon in the site's context: the planner's fallback, never "{...}".
        assert sleeve["script"] == "Nina, a padded Aurora sleeve keeps the Aurora safe on the move. Ask me about bundles."
        assert (sleeve["action_id"], sleeve["version"], sleeve["kind"]) == ("laptop-sleeve", version, "cross-sell")

        # The customer adds the e-bike while the offer rings: the suggestions change (the helmet first).
        mark = bob.mark()
        await customer.command("set_context", context={"cart": [LAPTOP, BIKE], "cart_total": 3489})
        update = await bob.wait_for("suggestions", lambda m: m["callback_id"] == offer["callback_id"], start=mark)
        assert titles(update["suggestions"]) == [HELMET["title"], SLEEVE["title"]]

        await bob.command("accept", offer_id=offer["offer_id"])
        contact = (await bob.wait_for("contact", start=mark))["contact"]
        assert titles(contact["suggestions"]) == [HELMET["title"], SLEEVE["title"]]

        # Feedback: shown, presented, accepted for the sleeve; declined (with a reason) for the helmet.
        said = dict(callback_id=offer["callback_id"], version=version)
        for outcome in ("shown", "presented", "accepted"):
            assert (await bob.command("suggestion_feedback", action_id="laptop-sleeve", outcome=outcome, **said))["recorded"]
        assert not (await bob.command("suggestion_feedback", action_id="laptop-sleeve", outcome="shown", **said))["recorded"]
        await bob.command("suggestion_feedback", action_id="bike-helmet", outcome="shown", **said)
        await bob.command("suggestion_feedback", action_id="bike-helmet", outcome="declined", reason="Not now", **said)
        # Not an action of that version, and not a contact of Bob's: refused, nothing recorded.
        with pytest.raises(CommandFailed) as refused:
            await bob.command("suggestion_feedback", action_id="no-such-action", outcome="shown", **said)
        assert refused.value.code == "not_found"
        with pytest.raises(CommandFailed) as refused:
            await bob.command("suggestion_feedback", action_id="laptop-sleeve", outcome="shown",
                              callback_id="not-a-callback", version=version)
        assert refused.value.code == "not_found"

        # The customer's timeline has the outcomes (what the next agent sees).
        customer_id = contact["customer"]["id"]
        events = (await planner.get(f"/api/v1/customers/{customer_id}/events", params={"limit": 50})).json()["items"]
        kinds = [e["kind"] for e in events if e["kind"].startswith("suggestion_")]
        assert sorted(kinds) == sorted(["suggestion_shown", "suggestion_presented", "suggestion_accepted",
                                        "suggestion_shown", "suggestion_declined"])
        declined = next(e for e in events if e["kind"] == "suggestion_declined")
        assert declined["data"]["reason"] == "Not now" and declined["data"]["action_id"] == "bike-helmet"

        # An order of the sleeve a day later is attributed to the accepted suggestion.
        response = await planner.post("/api/v1/orders", json={
            "id": f"o-{secrets.token_hex(4)}", "customer_id": customer_id, "placed_at": time.time(),
            "total_cents": 13_800, "currency": "USD",
            "items": [{"sku": "aurora-sleeve", "quantity": 2, "price_cents": 3_900},
                      {"sku": "mouse", "quantity": 1, "price_cents": 6_000}]})
        assert response.status_code == 201, response.text
        stats = (await planner.get("/api/v1/rules/stats")).json()
        by_action = {(a["action_id"], a["version"]): a for a in stats["actions"]}
        sleeve_stats, helmet_stats = by_action[("laptop-sleeve", version)], by_action[("bike-helmet", version)]
        assert (sleeve_stats["impressions"], sleeve_stats["presented"], sleeve_stats["accepted"]) == (1, 1, 1)
        assert sleeve_stats["acceptance_rate"] == 1.0 and sleeve_stats["acceptance_interval"][1] == pytest.approx(1.0)
        assert sleeve_stats["attributed_revenue_cents"] == 7_800  # the sleeve's line, not the mouse
        assert sleeve_stats["by_queue"][0]["key"] == "sales"
        assert (helmet_stats["declined"], helmet_stats["decline_reasons"]) == (1, {"Not now": 1})
        assert stats["titles"]["laptop-sleeve"] == SLEEVE["title"]
        assert sleeve_stats["title"] == SLEEVE["title"]
        # Renamed in the drafts since: the results of that version keep the title agents read then.
        response = await planner.put("/api/v1/rules/actions/laptop-sleeve", json={**SLEEVE, "title": "Renamed sleeve"})
        assert response.status_code == 200, response.text
        renamed = (await planner.get("/api/v1/rules/stats")).json()
        sleeve_then = next(a for a in renamed["actions"] if (a["action_id"], a["version"]) == ("laptop-sleeve", version))
        assert sleeve_then["title"] == SLEEVE["title"]
        assert renamed["titles"]["laptop-sleeve"] == "Renamed sleeve"
        # The process counts its matches (and would count fallbacks) for /metrics.
        from tests.integration.test_metrics import samples
        figures = samples((await planner.get("/metrics")).text)
        assert figures[("otodesk_suggestions_total", (("outcome", "matched"),))] >= 3  # offer, cart change, contact
        assert figures[("otodesk_suggestions_total", (("outcome", "fallback_error"),))] == 0
        assert figures[("otodesk_suggestions_total", (("outcome", "rule_errors"),))] >= 3  # the spring campaign's
        assert figures[("otodesk_rules_version", ())] == version
        # Not for agents.
        bob_http = await staff_client(server.base_url, "bob")
        assert (await bob_http.get("/api/v1/rules/stats")).status_code == 403
        await bob_http.aclose()
    finally:
        await customer.close()
        await bob.close()
        await planner.aclose()
