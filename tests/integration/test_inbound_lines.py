"""A new leader and the inbound callers it rebuilds (their lines live on other processes).

The leader is driven by hand, its clock passed in (as in test_router_commands): callers
phoned in under the last leader wait in line; a live process lists its line in its heartbeat
and that caller keeps their place; the line no heartbeat lists within the dead-process
silence (its process died with the last leader, say) is lost: abandoned, "line_dropped".
"""

from __future__ import annotations


from desktop.routing import commands
from desktop.routing.reachability import PROCESS_TIMEOUT
from signaling.bus import open_bus
from tests.helpers.leader import leader_by_hand

T0 = 1_000_000.0


async def test_a_rebuilt_caller_whose_line_no_process_lists_is_abandoned(repo):
    await repo.upsert_queue("sales", title="Sales", skills=["sales"], service_level_target=20)
    for callback_id, number in (("cb-live", "+447700900491"), ("cb-dead", "+447700900492")):
        caller = await repo.caller(number, now=T0 - 30)
        await repo.create_callback(id=callback_id, visitor_id=None, customer_id=caller.customer.id, queue="sales",
                                   name="", topic="", message="", channel="phone_inbound", phone=number,
                                   tier="standard", scheduled_at=None, now=T0 - 30)
    now = [T0]
    async with open_bus(None) as bus:
        leader = await leader_by_hand(repo, bus, lambda: now[0])
        await leader._apply_safely(commands.InboundLines(process="p2", lines=["cb-live"]).to_dict())
        now[0] = T0 + PROCESS_TIMEOUT - 1
        await leader._due(now[0])
        assert (await repo.get_callback("cb-dead")).state == "queued"  # not yet: its process may be slow to say
        now[0] = T0 + PROCESS_TIMEOUT
        await leader._apply_safely(commands.InboundLines(process="p2", lines=["cb-live"]).to_dict())
        await leader._due(now[0])
    dead, live = await repo.get_callback("cb-dead"), await repo.get_callback("cb-live")
    assert (dead.state, live.state) == ("abandoned", "queued")
    entry = await repo.last_contact_event(dead.customer_id, kind="callback_abandoned", callback_id="cb-dead")
    assert entry.data == {"reason": "line_dropped"}
