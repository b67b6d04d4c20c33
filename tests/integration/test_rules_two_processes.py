"""A version published on one process is live on the other within a second (Redis and
PostgreSQL shared, as in production behind a load balancer)."""

from __future__ import annotations

import time

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from tests.integration.test_two_processes import cluster  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def planner(base_url: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=base_url, timeout=10)
    login = client.get("/login")
    csrf = login.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "pat", "password": DEMO_PASSWORD, "csrf_token": csrf, "next": "/desk"})
    page = client.get("/planner")
    assert page.status_code == 200
    return client, {"X-CSRF-Token": page.text.split('name="csrf-token" content="')[1].split('"')[0]}


async def test_a_version_published_on_one_process_is_live_on_the_other_within_a_second(cluster):  # noqa: F811
    a, b = cluster
    on_a, headers = planner(a.base_url)
    on_b, b_headers = planner(b.base_url)
    try:
        assert on_b.get("/api/v1/rules/versions").json()["live"] == 1  # the demo's, loaded at start
        action = {"id": "spring-headphones", "kind": "cross-sell", "title": "Headphones with the watch",
                  "applicability": '"orbit-smartwatch" in cart_skus', "value": 50}
        assert on_a.post("/api/v1/rules/actions", json=action, headers=headers).status_code == 201
        published = on_a.post("/api/v1/rules/publish", json={"note": "spring"}, headers=headers).json()
        assert published["version"] == 2
        start = time.monotonic()
        while on_b.get("/api/v1/rules/versions").json()["live"] != 2:
            assert time.monotonic() - start < 1.0, "process b did not load version 2 within a second"
            time.sleep(0.02)
        # B matches with it: a customer with a watch in the cart is suggested the headphones.
        tested = on_b.post("/api/v1/rules/test", headers=b_headers,
                           json={"snapshot": {"cart_skus": ["orbit-smartwatch"]}, "queue": "sales"}).json()
        assert tested["version"] == 2 and "spring-headphones" in [s["action_id"] for s in tested["suggestions"]]
    finally:
        on_a.close()
        on_b.close()
