"""The console's settings at rest and live (desktop/repository/centre.py, desktop/leader/live_centre.py),
and the first admin's one-time link, on each database."""

from __future__ import annotations

import asyncio

import pytest

from desktop.leader.live_centre import LiveCentre
from desktop.repository import Repository
from desktop.repository.centre import SetupLinkRefused
from desktop.repository.errors import DuplicateUser
from desktop.settings import Settings
from signaling.bus import open_bus

T0 = 1_800_000_000.0
SETTINGS = Settings(secret_key="x", allowed_origins=("https://env.example",), urgent_words=("urgent",))


async def eventually(check, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not true in time"
        await asyncio.sleep(0.01)


async def test_a_change_announced_by_one_process_is_read_by_every_other(repo: Repository) -> None:
    async with open_bus(None) as bus:  # one bus: two processes' followers
        here, there = LiveCentre(repo, bus, SETTINGS), LiveCentre(repo, bus, SETTINGS)
        task = asyncio.create_task(there.run())
        try:
            await eventually(lambda: there.loads == 1)
            assert there.origins() == ("https://env.example",) and there.is_urgent("urgent!")
            await repo.admin_save_setting("origins", ["https://shop.example"], actor="agent:a", default=[], now=T0)
            await repo.admin_save_setting("urgent_words", {"en": [], "zh-CN": ["火急"], "zh-TW": []},
                                          actor="agent:a", default={}, now=T0)
            assert there.origins() == ("https://env.example",)  # stored, not announced: nobody reads yet
            assert await here.announce()
            assert here.origins() == ("https://shop.example",)  # the announcer first, at once
            await eventually(lambda: there.origins() == ("https://shop.example",))
            assert there.is_urgent("订单火急") and not there.is_urgent("urgent!")
            welcome = await there.welcome(session=None)
            assert welcome == {"look": {"accent": "#4338ca", "position": "bottom-right",
                                        "greeting": {"en": "", "zh-CN": "", "zh-TW": ""}}}
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_every_change_is_audited_with_what_was_in_force_before(repo: Repository) -> None:
    env = ["https://env.example"]
    assert await repo.admin_save_setting("origins", ["https://a.example"], actor="agent:a", default=env, now=T0) == env
    # The second change's "before" is the stored value, read in its own transaction.
    await repo.admin_save_setting("origins", [], actor="agent:b", default=env, now=T0 + 1)
    assert await repo.centre_settings() == {"origins": []}  # saved empty: nobody, not the environment
    rows = await repo.admin_audit(target="settings:origins")
    assert [(r["actor"], r["action"], r["before"], r["after"]) for r in rows] == [
        ("agent:b", "settings.origins", {"value": ["https://a.example"]}, {"value": []}),
        ("agent:a", "settings.origins", {"value": ["https://env.example"]}, {"value": ["https://a.example"]})]


async def test_a_setup_link_makes_the_first_admin_once(repo: Repository) -> None:
    assert not await repo.has_admin()
    await repo.issue_setup_link("hash-1", expires_at=T0 + 60, now=T0)
    await repo.issue_setup_link("hash-2", expires_at=T0 + 60, now=T0)  # a second process's link
    assert await repo.setup_link_usable("hash-1", now=T0 + 1)
    assert not await repo.setup_link_usable("hash-1", now=T0 + 61)  # expired
    with pytest.raises(SetupLinkRefused):
        await repo.use_setup_link("hash-1", username="ada", password="password-1", display_name="Ada", now=T0 + 61)
    with pytest.raises(SetupLinkRefused):
        await repo.use_setup_link("unknown", username="ada", password="password-1", display_name="Ada", now=T0)

    ada = await repo.use_setup_link("hash-1", username="ada", password="password-1", display_name="Ada", now=T0 + 2)
    assert ada.role == "admin" and await repo.has_admin()
    assert await repo.authenticate("ada", "password-1") is not None
    for link in ("hash-1", "hash-2"):  # used; and the other process's link: an admin exists now
        assert not await repo.setup_link_usable(link, now=T0 + 3)
        with pytest.raises(SetupLinkRefused):
            await repo.use_setup_link(link, username="eve", password="password-2", display_name="Eve", now=T0 + 3)
    assert [a.username for a in await repo.list_agents()] == ["ada"]
    audit = await repo.admin_audit(target=f"user:{ada.id}")
    assert audit[0]["actor"] == "setup-link" and audit[0]["after"]["role"] == "admin"


async def test_a_taken_username_leaves_the_link_unused(repo: Repository) -> None:
    await repo.add_agent("ada", "password-1", display_name="Ada", role="agent")
    await repo.issue_setup_link("hash", expires_at=T0 + 60, now=T0)
    with pytest.raises(DuplicateUser):
        await repo.use_setup_link("hash", username="ada", password="password-2", display_name="Ada", now=T0 + 1)
    assert await repo.setup_link_usable("hash", now=T0 + 1)  # rolled back with the insert
