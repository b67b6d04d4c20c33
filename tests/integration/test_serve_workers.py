"""``otodesk serve --workers 2``: two processes on one port, meeting on Redis and PostgreSQL,
act as one contact centre; SIGTERM to the parent stops both; without Redis it refuses."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot
from tests.helpers.cluster import empty_postgres, forget_redis_namespace
from tests.helpers.server import ROOT, ServerProcess

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def processes_answering(base_url: str, tries: int = 200) -> set[str]:
    """The process ids /healthz names over fresh connections (each may reach either worker)."""
    seen: set[str] = set()
    for _ in range(tries):
        with httpx.Client() as client:  # a new connection each time
            seen.add(client.get(f"{base_url}/healthz", timeout=5).json()["process"])
        if len(seen) > 1:
            break
    return seen


async def test_two_workers_on_one_port_are_one_centre_and_stop_on_sigterm(tmp_path, postgres_url, redis_url):
    namespace = f"otodesk-test-{secrets.token_hex(4)}"
    env = {"OTODESK_DATABASE_URL": postgres_url, "OTODESK_REDIS_URL": redis_url,
           "OTODESK_REDIS_NAMESPACE": namespace, "OTODESK_SECRET_KEY": secrets.token_urlsafe(16),
           "OTODESK_PROCESS_ID": "web", "OTODESK_DRAIN_SECONDS": "3"}
    # The session's database holds what other modules left (waiting callbacks in "sales" were
    # offered to alice before this test's own): start from an empty one.
    await empty_postgres(postgres_url)
    server = ServerProcess(tmp_path / "var", env=env, seed=False, args=("--workers", "2"))
    subprocess.run([sys.executable, "-m", "desktop.cli", "demo", "--no-serve"], cwd=ROOT, env=server.env,
                   check=True, capture_output=True, timeout=120)
    server.start()
    try:
        answering = await asyncio.to_thread(processes_answering, server.base_url)
        assert len(answering) == 2, f"one port, two processes, each its own id: {answering}\n{server.log()}"
        assert all(name.startswith("web-") for name in answering), answering

        # Sockets land on either worker; a callback goes end to end all the same, several times.
        alice = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
        await alice.command("set_state", state="available")
        for n in range(4):
            shopper = await CustomerBot.start(server.base_url, origin=server.base_url)
            asked = await shopper.command("call_me", name=f"Worker {n}", queue="sales")
            try:  # generous: the full suite once took over 10 s here on the 2-core machine
                offer = (await alice.wait_for("offer", lambda m, c=asked["callback_id"]: m["offer"]["callback_id"] == c,
                                              timeout=30))["offer"]
            except TimeoutError:
                pytest.fail(f"callback {n} never offered to alice\n{server.log()}")
            await alice.command("accept", offer_id=offer["offer_id"])
            await shopper.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
            await alice.command("end", callback_id=offer["callback_id"])
            await alice.command("wrap_up", callback_id=offer["callback_id"], disposition="Resolved")
            await shopper.close()
        await alice.close()

        started = time.monotonic()
        server.process.terminate()
        code = await asyncio.to_thread(server.process.wait, 30)
        assert code == 0, server.log()
        assert time.monotonic() - started < 15
        log = server.log()
        assert log.count("Finished server process") == 2, log  # each worker stopped, none killed
    finally:
        server.stop()
        await forget_redis_namespace(redis_url, namespace)


def test_workers_without_redis_are_refused_with_the_reason(tmp_path):
    done = subprocess.run([sys.executable, "-m", "desktop.cli", "serve", "--workers", "2"], cwd=ROOT,
                          env={**ServerProcess(tmp_path, env={"OTODESK_REDIS_URL": ""}).env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--workers 2 needs OTODESK_REDIS_URL" in done.stderr
