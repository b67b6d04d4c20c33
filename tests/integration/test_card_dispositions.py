"""The agent's cards carry their queue's wrap-up outcomes as the leader keeps them (loaded with
its queues, reloaded when an admin changes one), not a query of their own on every card: one of
an offer's six queries. An admin's change still shows on the next card. The leader is driven by
hand, as in test_router_commands."""

from __future__ import annotations

import asyncio
import time
import types

from desktop.leader.service import RoutingService, _Leader
from desktop.rooms import agent_room
from desktop.routing import commands
from desktop.settings import Settings
from signaling.bus import open_bus


async def _leader(repo, bus):
    settings = Settings(secret_key="test", process_id="p1")
    service = RoutingService(repo=repo, bus=bus, settings=settings, clock=time.time)
    leader = _Leader(service, types.SimpleNamespace(epoch=1, lost=asyncio.Event()))
    await leader._rebuild()
    return leader


async def _save_queue(repo, dispositions: list[str]) -> None:
    await repo.admin_save_queue(dict(name="sales", title="Sales", skills=["sales"], service_level_target=20,
                                     dispositions=dispositions), actor="admin")


async def _card(subscription, kind: str) -> dict:
    async with asyncio.timeout(3):
        async for _seq, message in subscription:
            if message["type"] == kind:
                return message["offer" if kind == "offer" else "contact"]


async def test_cards_carry_the_queues_outcomes_without_a_query_each_and_follow_an_admins_change(repo, monkeypatch):
    await _save_queue(repo, ["Sold", "Not now"])
    ann = await repo.add_agent("ann", "a long password", display_name="Ann", skills=["sales"])
    visitor = await repo.touch_visitor("v1", time.time())
    await repo.create_callback(id="c1", visitor_id="v1", customer_id=visitor.customer_id, queue="sales",
                               name="Nadia", topic="", message="", channel="browser", phone=None,
                               tier="standard", scheduled_at=None, now=time.time())
    reads = []
    get_queue = repo.get_queue

    async def counted(name):
        reads.append(name)
        return await get_queue(name)

    monkeypatch.setattr(repo, "get_queue", counted)
    async with open_bus(None) as bus, bus.subscribe(agent_room(ann.id)) as room:
        leader = await _leader(repo, bus)
        await leader._apply_safely(commands.AgentPresence(agent_id=ann.id, socket="p1:1", present=True).to_dict())
        await leader._apply_safely(commands.SetState(agent_id=ann.id, state="available").to_dict())
        await leader._apply_safely(commands.CustomerPresence(visitor_id="v1", socket="p1:2", present=True).to_dict())
        await leader._apply_safely(commands.CallbackAdded(callback_id="c1").to_dict())
        offer = await _card(room, "offer")
        assert offer["dispositions"] == ["Sold", "Not now"]
        assert reads == []  # the leader's own, loaded with its queues

        # An admin changes them (desktop/web/admin_queues.py: the row, then queues_changed).
        await _save_queue(repo, ["Sold", "Call again"])
        await leader._apply_safely(commands.QueuesChanged().to_dict())
        await leader._apply_safely(commands.Accept(offer_id=offer["offer_id"], agent_id=ann.id).to_dict())
        contact = await _card(room, "contact")
        assert contact["state"] == "connected" and contact["dispositions"] == ["Sold", "Call again"]
        assert reads == []
