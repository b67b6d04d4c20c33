"""Debian's nginx in front of two otodesk processes, with deploy/nginx.conf as shipped.

No sticky sessions: nginx sends each request and socket to either process in turn, and a
callback still goes end to end (the processes meet through Redis). The websocket Origin check
uses OTODESK_PUBLIC_ORIGINS, so it holds whatever Host the proxy forwards.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
import signal
import shutil
import subprocess

import httpx
import pytest
import websockets

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, CustomerBot
from tests.helpers.callback_load import CallbackLoad
from tests.helpers.nginx import nginx_in_front
from tests.helpers.server import ServerProcess, free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    redis_port, front = free_port(), free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port",
                              str(redis_port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    public = f"http://127.0.0.1:{front}"
    common = {"OTODESK_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
              "OTODESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'shared.db'}",
              "OTODESK_SECRET_KEY": secrets.token_urlsafe(16), "OTODESK_LEADER_LEASE": "3",
              "OTODESK_PUBLIC_ORIGINS": public, "OTODESK_TRUSTED_PROXIES": "127.0.0.1",
              "OTODESK_CALLME_PER_ADDRESS": "1000"}
    servers = []
    try:
        for name, seed in (("a", True), ("b", False)):
            servers.append(ServerProcess(tmp / name, env={**common, "OTODESK_PROCESS_ID": name}, seed=seed,
                                         log_name=name).start())
        with nginx_in_front(tmp, front, [s.port for s in servers]) as base_url:
            yield base_url, tmp, servers
    finally:
        for server in servers:
            server.stop()
        redis.terminate()
        redis.wait(5)


async def test_a_callback_goes_end_to_end_through_nginx_without_sticky_sessions(behind_nginx):
    base_url, tmp, servers = behind_nginx
    assert "/widget.js" in httpx.get(f"{base_url}/").text
    alice = await AgentBot.login(base_url, "alice", DEMO_PASSWORD)
    customer = await CustomerBot.start(base_url, url="http://shop.test/product/kettle", title="Kettle",
                                       origin=base_url)
    try:
        await alice.command("set_state", state="available")
        await alice.wait_for("agent_state", lambda m: m["state"]["state"] == "available")
        mark = alice.mark()
        ack = await customer.command("call_me", name="Nora Proxy", queue="sales", topic="Through the proxy")
        offer = (await alice.wait_for("offer", start=mark, timeout=15))["offer"]
        assert offer["callback_id"] == ack["callback_id"]
        await alice.command("accept", offer_id=offer["offer_id"])
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "connected")
        await alice.command("end", callback_id=offer["callback_id"])
        await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "completed")
        await alice.command("wrap_up", callback_id=offer["callback_id"], disposition="Resolved", note="")
    finally:
        await customer.close()
        await alice.close()

    # Both processes served this journey's requests: nginx spread them, nothing was pinned.
    served = {line.split()[-1] for line in (tmp / "access.log").read_text().splitlines() if line.strip()}
    assert {f"127.0.0.1:{s.port}" for s in servers} <= served


async def test_the_origin_check_trusts_the_public_origin_not_the_forwarded_host(behind_nginx):
    base_url, _tmp, _servers = behind_nginx
    ws_url = base_url.replace("http://", "ws://") + "/ws/customer"
    # nginx forwards $host, which has no port: "127.0.0.1" never equals the page's origin's
    # "127.0.0.1:<port>", so a check against Host refused every socket behind this proxy.
    async with websockets.connect(ws_url, origin=base_url) as socket:
        assert socket.protocol.state.name == "OPEN"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(ws_url, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_a_process_back_from_a_restart_is_used_while_a_socket_is_open_on_it(behind_nginx):
    """The rolling restart's hand-over, step by step: ``b`` restarts (nginx finds it refusing),
    then ``a`` stops. nginx marks a refusing process failed, and marks it live again only when
    a request sent there *ends*: a socket (which lasts) as the first one sent to ``b`` left it
    "failed" for as long as it was open, and with ``a`` failed too every other request and socket
    got 502 "no live upstreams" (a desk's socket then stayed away for its whole backoff)."""
    base_url, _tmp, servers = behind_nginx
    a, b = servers
    b.stop()
    for _ in range(4):  # round robin: one of these tries b, finds it refusing, goes to a
        assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200
    await asyncio.to_thread(b.start)
    a.stop()
    try:
        await asyncio.sleep(2.5)  # b's (and only b's) "failed" mark is older than fail_timeout
        ws_url = base_url.replace("http://", "ws://") + "/ws/customer"
        async with websockets.connect(ws_url, origin=base_url):
            codes = []
            for _ in range(10):
                async with httpx.AsyncClient() as client:
                    codes.append((await client.get(f"{base_url}/healthz", timeout=5)).status_code)
                await asyncio.sleep(0.1)
        assert codes == [200] * 10, codes
    finally:
        await asyncio.to_thread(a.start)


# Soak: it lost 1 of 23 (and once 1 of 38) callbacks in ~1 of 4 runs of the whole suite on two
# cores, never alone: not yet known whether the load or a real loss at a restart (see the notes).
@pytest.mark.soak
async def test_a_rolling_restart_under_load_loses_no_callback(behind_nginx):
    """Runs last: it restarts both processes. Customers keep calling and two agents keep
    answering through nginx (tests/helpers/callback_load.py: every bot reconnects as the
    browsers' common/socket.js does, with jitter, resuming) while each process in turn gets
    SIGTERM and is started again (what `systemctl restart` of one unit does). Every callback
    asked for is answered exactly once and completed: none lost, none accepted twice."""
    base_url, tmp, servers = behind_nginx
    with CallbackLoad(base_url, agents=("alice", "bob"), queue="sales", every=0.4) as load:
        await asyncio.sleep(3)
        for server in servers:
            server.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(server.process.wait, 30)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"a stopped process ran on 30 s:\n{server.log()}") from None
            await asyncio.to_thread(server.start)
            await asyncio.sleep(3)
        await asyncio.to_thread(load.finish, within=60)
    lost = load.lost()
    assert not lost, (f"{len(lost)} of {len(load.asked)} callbacks never completed: {lost}\n"
                      + "\n".join(s.log() for s in servers))
    assert len(load.asked) >= 15
    assert all(count == 1 for count in load.accepted.values()), load.accepted
    print(f"rolling restart: {len(load.asked)} callbacks, offers per callback "
          f"{dict(collections.Counter(len(ids) for ids in load.offers.values()))}")
