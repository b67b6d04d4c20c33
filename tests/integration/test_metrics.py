"""What monitoring reads from a real process: /metrics (Prometheus text) and /readyz, which
turns 503 naming the bus when its Redis goes away and 200 again when it is back."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_callback_loop import available, away
from tests.helpers.server import free_port, running_server


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_metrics_count_sockets_and_tell_the_routers_queues_and_agents(tmp_path):
    with running_server(tmp_path / "var", env={"OTODESK_METRICS_TOKEN": "scrape-me"}) as server:
        refused = httpx.get(f"{server.base_url}/metrics")
        assert refused.status_code == 403 and "OTODESK_METRICS_TOKEN" in refused.text
        wrong = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403

        alice = await available(server.base_url, "alice")
        try:
            deadline = time.monotonic() + 10
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                while True:
                    scraped = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
                    assert scraped.status_code == 200
                    figures = samples(scraped.text)
                    if figures.get(("otodesk_agents", (("state", "available"),))) == 1 or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
        finally:
            await away(alice)
        assert figures[("otodesk_sockets", (("role", "agent"),))] == 1
        assert figures[("otodesk_leader", ())] == 1
        assert figures[("otodesk_agents", (("state", "available"),))] == 1
        assert figures[("otodesk_queue_waiting", (("queue", "sales"),))] == 0
        assert ("otodesk_event_loop_lag_seconds", ()) in figures
        assert figures[("process_resident_memory_bytes", ())] > 10_000_000


def test_readyz_names_the_bus_while_redis_is_down(tmp_path):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    command = [redis_server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        with running_server(tmp_path / "var", env={"OTODESK_REDIS_URL": f"redis://127.0.0.1:{port}/0"}) as server:
            ready = httpx.get(f"{server.base_url}/readyz")
            assert ready.status_code == 200 and ready.json() == {"ready": True, "database": "ok", "bus": "ok"}

            redis.terminate()
            redis.wait(5)
            down = httpx.get(f"{server.base_url}/readyz", timeout=10)
            assert down.status_code == 503
            assert down.json()["ready"] is False and down.json()["database"] == "ok"
            assert down.json()["bus"].startswith("failed")
            assert httpx.get(f"{server.base_url}/healthz").status_code == 200  # alive, just not ready

            redis = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 15
            while httpx.get(f"{server.base_url}/readyz", timeout=10).status_code != 200:
                assert time.monotonic() < deadline, "readyz did not recover with Redis back"
                time.sleep(0.3)
    finally:
        redis.terminate()
        redis.wait(5)
