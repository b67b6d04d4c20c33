"""/metrics on a voice call: the call anchored here by kind, its legs' packets, jitter and round
trip as the anchor samples them, and the audio the browser says it concealed. aiortc bots on a
real server, in a network namespace of their own (aioice never uses 127.0.0.1)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns
from tests.helpers.server import ServerProcess
from tests.helpers.voice_bots import Bot
from tests.integration.test_metrics import samples
from tests.integration.test_voice_sockets import connected_call, hears, join

TOKEN = "scrape-voice"


@pytest.fixture
def server(tmp_path):
    require_netns()
    with network_namespace():
        # Not scraped from loopback here: the token lets the test in.
        server = ServerProcess(tmp_path / "var", env={"OTODESK_HOST": SERVER_ADDRESS, "OTODESK_METRICS_TOKEN": TOKEN,
                                                      **VOICE_ENV})
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def scrape_until(base_url: str, condition, what: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        while True:
            figures = samples((await http.get("/metrics")).text)
            if condition(figures):
                return figures
            assert time.monotonic() < deadline, f"/metrics never showed {what}: " + repr(
                {key: value for key, value in figures.items() if key[0].startswith("otodesk_voice")})
            await asyncio.sleep(0.3)


def get(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_browser_call_shows_on_metrics_with_its_legs_quality(server):
    alice, customer, callback_id = await connected_call(server.base_url, "alice", "Vera Voice")
    customer_bot, agent_bot = Bot(440), Bot(880)
    try:
        await join(customer_bot, customer, callback_id)
        await join(agent_bot, alice, callback_id)
        await hears(agent_bot, 440)
        await customer.send({"type": "voice_stats", "callback_id": callback_id, "concealed_ms": 40.0})
        # The anchor samples its legs every 2 s; a round trip needs the browser's RTCP reply first.
        during = await scrape_until(server.base_url, lambda f: get(
            f, "otodesk_voice_leg_rtt_seconds_count", role="customer") > 0 and get(
            f, "otodesk_voice_packets_received_total", role="agent") > 0, "both legs sampled with a round trip")
        assert get(during, "otodesk_voice_calls", kind="browser") == 1
        assert get(during, "otodesk_voice_calls", kind="phone") == 0
        # 50 packets a second from each bot: a sample or more of them.
        assert get(during, "otodesk_voice_packets_received_total", role="customer") >= 50
        assert get(during, "otodesk_voice_packets_lost_total", role="customer") == 0  # one host, no loss
        assert get(during, "otodesk_voice_leg_jitter_seconds_count", role="customer") >= 1
        assert 0 < get(during, "otodesk_voice_leg_rtt_seconds_sum", role="customer") < 1
        assert get(during, "otodesk_voice_concealed_seconds_total", role="customer") == pytest.approx(0.04)
        assert get(during, "otodesk_voice_packets_received_total", role="supervisor") == 0

        await customer.command("voice_control", callback_id=callback_id, action="hangup")
        after = await scrape_until(server.base_url, lambda f: get(f, "otodesk_voice_calls", kind="browser") == 0,
                                   "the call gone")
        # Counters never go back when a call ends.
        assert get(after, "otodesk_voice_packets_received_total", role="customer") >= get(
            during, "otodesk_voice_packets_received_total", role="customer")
    finally:
        await customer_bot.close()
        await agent_bot.close()
        await customer.close()
        await alice.close()
