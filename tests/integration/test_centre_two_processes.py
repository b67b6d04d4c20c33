"""A console setting changed on one process holds on the other at once (real Redis and
PostgreSQL): a site added on the process that does not lead may open the widget on the
leader's, and is refused there as soon as it is removed; the leader's router uses urgent
words saved on the other process for the next request."""

from __future__ import annotations

import asyncio

import pytest

from signaling.client import CustomerBot
from tests.integration.test_admin_api import staff_client
from tests.integration.test_two_processes import cluster  # noqa: F401  (the two-process fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

SITE = "https://shop.example.test"


async def _socket_allowed(base_url: str) -> bool:
    try:
        bot = await CustomerBot.start(base_url, origin=SITE)
    except Exception:
        return False
    await bot.close()
    return True


async def _within(seconds: float, check) -> bool:
    """Whether ``check()`` comes true within ``seconds`` (a bus round trip is ~1 ms here)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if await check():
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)


async def test_sites_and_urgent_words_saved_on_one_process_hold_on_the_other(cluster):  # noqa: F811
    leader, other = cluster
    assert leader.health()["leader"] and not other.health()["leader"]
    admin = await staff_client(other.base_url, "admin")
    bots: list[CustomerBot] = []
    try:
        assert not await _socket_allowed(leader.base_url)
        assert (await admin.put("/api/v1/admin/sites", json={"origins": [SITE]})).status_code == 200
        assert await _within(1.0, lambda: _socket_allowed(leader.base_url))
        assert (await admin.put("/api/v1/admin/sites", json={"origins": []})).status_code == 200
        assert await _within(1.0, lambda: _not(_socket_allowed(leader.base_url)))

        assert (await admin.put("/api/v1/admin/urgent-words", json={"words": {"zh-TW": ["十萬火急"]}})).status_code == 200
        assert (await admin.put("/api/v1/admin/queues/nobody", json={
            "title": "Nobody", "skills": ["nobody-has-this"]})).status_code == 201
        await asyncio.sleep(0.2)  # the leader's router takes the new queue (its own command)
        for topic in ("my order", "我的訂單十萬火急"):
            bot = await CustomerBot.start(leader.base_url)
            bots.append(bot)
            await bot.command("call_me", name="N", queue="nobody", topic=topic)
        await bots[1].wait_for("callback_status", lambda m: m["callback"].get("position") == 1, timeout=8)
        await bots[0].wait_for("callback_status", lambda m: m["callback"].get("position") == 2, timeout=8)
    finally:
        for bot in bots:
            await bot.close()
        await admin.aclose()


async def _not(awaitable) -> bool:
    return not await awaitable
