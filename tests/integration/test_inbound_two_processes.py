"""Callers whose line goes with the process carrying it (``kill -9``), on two real processes.

A (the leader) holds the agents' desks; B answers the trunk (the stack's own UAC phoning
from this test). Three callers phone B: Bob accepted the first, Alice's desk rings for
the second, the third waits. B is killed. Its silence tells the leader the lines are gone
(each process's heartbeat lists the inbound calls it carries): within the dead-process
silence (6 s), no grace on top (a line can't come back), the waiting callers are
abandoned, reason "line_dropped", on their timelines; Alice's offer is withdrawn (her desk
says the caller hung up); Bob's contact ends and he goes to wrap-up, told the line dropped;
nobody is offered the third caller, then or after.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from signaling.client import AgentBot
from signaling.media.sip import PhoneState
from tests.helpers.cluster import processes_on_redis_and_postgres
from tests.helpers.sip_caller import Caller, free_udp_port, trunk_env

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

LINE = "+442079460500"
CALLERS = ("+447700900481", "+447700900482", "+447700900483")


@pytest.fixture
async def cluster(tmp_path, postgres_url, redis_url):
    env = {"OTODESK_OFFER_TIMEOUT": "60", "OTODESK_ABANDON_GRACE": "30", "OTODESK_DEFAULT_REGION": "GB"}
    sip_port, b_sip_port = free_udp_port(), free_udp_port()
    trunk = {**trunk_env(sip_port, b_sip_port, credentials=False), "OTODESK_SIP_INBOUND": f"{LINE}=sales"}
    async with processes_on_redis_and_postgres(tmp_path, postgres_url, redis_url, env=env,
                                               second_env=trunk) as (first, second):
        second.sip_port = b_sip_port
        yield first, second


async def test_callers_on_a_killed_process_are_abandoned_and_their_agents_told(cluster, postgres_url):
    a, b = cluster
    assert a.health()["leader"] and not b.health()["leader"]
    bob = await AgentBot.login(a.base_url, "bob", DEMO_PASSWORD)
    alice = await AgentBot.login(a.base_url, "alice", DEMO_PASSWORD)
    callers = [Caller(from_number=number) for number in CALLERS]
    try:
        await bob.command("set_state", state="available")
        await callers[0].dial(b.sip_port, LINE)
        await callers[0].until(PhoneState.CONNECTED)
        talking = (await bob.wait_for("offer"))["offer"]
        await bob.command("accept", offer_id=talking["offer_id"])
        await alice.command("set_state", state="available")
        await callers[1].dial(b.sip_port, LINE)
        ringing = (await alice.wait_for("offer"))["offer"]
        await callers[2].dial(b.sip_port, LINE)
        await callers[2].until(PhoneState.CONNECTED)
        mark_alice, mark_bob = alice.mark(), bob.mark()
        await asyncio.sleep(2.5)  # a heartbeat listing the three lines (every 2 s)

        killed = time.monotonic()
        b.kill()
        ended = await alice.wait_for("offer_ended", lambda m: m["offer_id"] == ringing["offer_id"], start=mark_alice,
                                     timeout=15)
        assert ended["outcome"] == "withdrawn"
        wrap_up = await bob.wait_for("contact", lambda m: (m["contact"] or {}).get("state") == "wrap_up",
                                     start=mark_bob, timeout=15)
        told = time.monotonic() - killed
        assert wrap_up["contact"]["ended_reason"] == "line_dropped"
        assert told < 10, f"the leader took {told:.1f} s"  # its silence (6 s) and a pass of its loop, no grace
        await asyncio.sleep(1.0)
        offers = [m for m in alice.messages[mark_alice:] + bob.messages[mark_bob:] if m["type"] == "offer"]
        assert offers == []  # the third caller, gone too, is offered to nobody

        async with Repository.open(postgres_url) as repo:
            records = [await repo.get_callback(offer["callback_id"]) for offer in (talking, ringing)]
            waiting = await repo.database.read(lambda conn: conn.execute(text(
                "SELECT id, state, customer_id FROM callbacks WHERE phone = :phone"), {"phone": CALLERS[2]}).one())
            assert [r.state for r in records] == ["completed", "abandoned"] and waiting.state == "abandoned"
            for callback_id, customer_id, kind in ((records[0].id, records[0].customer_id, "callback_completed"),
                                                   (records[1].id, records[1].customer_id, "callback_abandoned"),
                                                   (waiting.id, waiting.customer_id, "callback_abandoned")):
                entry = await repo.last_contact_event(customer_id, kind=kind, callback_id=callback_id)
                assert entry.data == {"reason": "line_dropped"}, kind
    finally:
        for caller in callers:
            await caller.__aexit__(None, None, None)
        await alice.close()
        await bob.close()
