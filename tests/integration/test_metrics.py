"""What monitoring reads from a real process: /metrics (Prometheus text), whose figures move
as a callback goes end to end, and /readyz, which turns 503 naming the bus when its Redis goes
away and 200 again when it is back."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from signaling.client import CustomerBot
from tests.integration.test_callback_loop import available, away
from tests.helpers.server import free_port, running_server

#: Every family docs/operations.md lists beside the older ones, as exposed (counters end in _total).
ACTIVITY_FAMILIES = (
    "otodesk_ws_messages_received_total", "otodesk_ws_messages_sent_total", "otodesk_ws_frames_refused_total",
    "otodesk_bus_publish_seconds_count", "otodesk_bus_subscriptions_lagged_total",
    "otodesk_bus_subscription_backlog_events", "otodesk_db_query_seconds_count", "otodesk_offers_made_total",
    "otodesk_offers_ended_total", "otodesk_offer_latency_seconds_count", "otodesk_voice_calls",
    "otodesk_voice_packets_received_total", "otodesk_voice_packets_lost_total",
    "otodesk_voice_leg_jitter_seconds_count", "otodesk_voice_leg_rtt_seconds_count",
    "otodesk_voice_concealed_seconds_total", "otodesk_ws_message_seconds_count",
    "otodesk_router_command_wait_seconds_count", "otodesk_router_command_seconds_count",
)


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


def scrape(base_url: str) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"{base_url}/metrics")  # from this machine: no token needed
    assert response.status_code == 200
    return samples(response.text)


async def test_a_callback_end_to_end_moves_messages_offers_database_and_bus_figures(tmp_path):
    with running_server(tmp_path / "var") as server:
        alice = await available(server.base_url, "alice")
        customer = await CustomerBot.start(server.base_url)
        try:
            before = scrape(server.base_url)
            # One frame the hub refuses (no such message), then the callback, end to end.
            mark = customer.mark()
            await customer.send({"type": "no_such_message"})
            await customer.wait_for("error", start=mark)
            mark = alice.mark()
            callback_id = (await customer.command("call_me", name="Metered", queue="sales"))["callback_id"]
            offer = (await alice.wait_for("offer", start=mark))["offer"]
            await alice.command("accept", offer_id=offer["offer_id"])
            await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "connected")
            await alice.command("end", callback_id=callback_id)
            await alice.wait_for("contact", lambda m: m["contact"] and m["contact"]["state"] == "wrap_up")
            await alice.command("wrap_up", callback_id=callback_id, disposition="Resolved")
            after = scrape(server.base_url)
        finally:
            await customer.close()
            await away(alice)

    def moved(name: str, *labels: tuple[str, str]) -> float:
        key = (name, tuple(sorted(labels)))
        return after.get(key, 0) - before.get(key, 0)

    names = {name for name, _ in after}
    assert not [family for family in ACTIVITY_FAMILIES if family not in names]
    # Messages by type, both ways, and the refused frame.
    for kind in ("call_me", "accept", "end", "wrap_up"):
        assert moved("otodesk_ws_messages_received_total", ("type", kind)) == 1
    assert moved("otodesk_ws_messages_sent_total", ("type", "offer")) == 1
    assert moved("otodesk_ws_messages_sent_total", ("type", "ack")) >= 4
    assert moved("otodesk_ws_frames_refused_total", ("reason", "invalid")) == 1
    # Each handled command timed by type; the router's commands timed in its inbox and applying.
    for kind in ("call_me", "accept", "end", "wrap_up"):
        assert moved("otodesk_ws_message_seconds_count", ("type", kind)) == 1
    assert 0 < moved("otodesk_ws_message_seconds_sum", ("type", "call_me")) < 10
    assert moved("otodesk_router_command_seconds_count", ("command", "CallbackAdded")) == 1
    assert moved("otodesk_router_command_seconds_count", ("command", "Accept")) == 1
    assert moved("otodesk_router_command_wait_seconds_count") >= 4
    # One offer, rung as the callback arrived (alice was free): one latency observation.
    assert moved("otodesk_offers_made_total") == 1
    assert moved("otodesk_offers_ended_total", ("outcome", "accepted")) == 1
    assert moved("otodesk_offer_latency_seconds_count") == 1
    assert 0 < moved("otodesk_offer_latency_seconds_sum") < 10
    assert moved("otodesk_offer_latency_seconds_bucket", ("le", "+Inf")) == 1
    # The database and the bus worked for it.
    assert moved("otodesk_db_query_seconds_count", ("kind", "write")) >= 3
    assert moved("otodesk_db_query_seconds_count", ("kind", "read")) >= 3
    assert moved("otodesk_db_query_seconds_sum", ("kind", "write")) > 0
    assert moved("otodesk_bus_publish_seconds_count") >= 5
    assert after[("otodesk_bus_subscriptions_lagged_total", ())] == 0
    # No voice on this callback: the families are there, at zero.
    assert after[("otodesk_voice_calls", (("kind", "browser"),))] == 0
    assert after[("otodesk_voice_packets_received_total", (("role", "customer"),))] == 0


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


def test_collector_passes_are_timed_and_its_objects_counted_when_asked(tmp_path):
    with running_server(tmp_path / "var") as server:
        figures = scrape(server.base_url)
        for generation in "012":
            assert ("otodesk_gc_passes_total", (("generation", generation),)) in figures
            assert ("otodesk_gc_pause_seconds_total", (("generation", generation),)) in figures
            assert ("otodesk_gc_worst_pause_seconds", (("generation", generation),)) in figures
        assert not [name for name, _ in figures if name == "otodesk_gc_objects"]  # a walk of every object: on request
        response = httpx.get(f"{server.base_url}/metrics", params={"gc_objects": "1"})
        counted = samples(response.text)
        assert counted[("otodesk_gc_objects", (("generation", "permanent"),))] > 10_000  # start-up, frozen
        assert counted[("otodesk_gc_objects", (("generation", "2"),))] >= 0
        assert not [name for name, _ in scrape(server.base_url) if name == "otodesk_gc_objects"]
        passes = figures[("otodesk_gc_passes_total", (("generation", "2"),))]
        collected = samples(httpx.get(f"{server.base_url}/metrics", params={"gc_objects": "collect"}).text)
        assert collected[("otodesk_gc_passes_total", (("generation", "2"),))] >= passes + 1  # a full pass first
        assert ("otodesk_gc_objects", (("generation", "0"),)) in collected
        # By kind and owner (what bench.idle_sockets --objects prints), a few of one kind as text,
        # and a limit that is not a number refused with a word.
        census = httpx.get(f"{server.base_url}/metrics/gc_census", timeout=60).json()
        assert sum(census.values()) > 1000 and all(" | " in key for key in census)
        some = next(key for key in census if key.startswith("dict | "))
        found = httpx.get(f"{server.base_url}/metrics/gc_census", params={"examples": some, "limit": "2"}, timeout=60)
        assert 1 <= len(found.json()) <= 2
        refused = httpx.get(f"{server.base_url}/metrics/gc_census", params={"examples": some, "limit": "many"})
        assert refused.status_code == 400 and "limit" in refused.json()["message"]
