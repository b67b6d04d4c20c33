"""The leader reads every router command against its struct (desktop/routing/commands.py):
a typed command is applied; one it can't read (a misspelt field, an unknown op) is answered
``bad_message`` and changes nothing. The leader is driven by hand, as in test_wall_timing."""

from __future__ import annotations

import asyncio

from desktop.leader.client import reply_room
from desktop.routing import commands
from desktop.routing.events import AgentState
from signaling.bus import open_bus
from tests.helpers.leader import leader_by_hand


async def test_a_command_the_leader_cant_read_is_refused_and_changes_nothing(repo):
    await repo.upsert_queue("sales", title="Sales", skills=["sales"], service_level_target=20)
    ann = await repo.add_agent("ann", "a long password", display_name="Ann", skills=["sales"])
    async with open_bus(None) as bus, bus.subscribe(reply_room("p9")) as replies:
        leader = await leader_by_hand(repo, bus)
        await leader._apply_safely(commands.AgentPresence(agent_id=ann.id, socket="p1:1", present=True).to_dict())
        assert leader.router_agent_state(ann.id) == AgentState.AWAY

        await leader._apply_safely({"op": "set_state", "rid": "r1", "reply_to": "p9", "agent_id": ann.id,
                                    "sate": "available"})
        await leader._apply_safely({"op": "go_home", "rid": "r2", "reply_to": "p9", "agent_id": ann.id})
        for rid, word in (("r1", "sate"), ("r2", "go_home")):
            _seq, reply = await asyncio.wait_for(anext(replies), 2)
            assert reply["rid"] == rid and reply["ok"] is False and reply["code"] == "bad_message"
            assert word in reply["message"]
        assert leader.router_agent_state(ann.id) == AgentState.AWAY

        await leader._apply_safely(commands.SetState(agent_id=ann.id, state="available", rid="r3",
                                                     reply_to="p9").to_dict())
        _seq, reply = await asyncio.wait_for(anext(replies), 2)
        assert reply == {"rid": "r3", "ok": True, "result": {}}
        assert leader.router_agent_state(ann.id) == AgentState.AVAILABLE
