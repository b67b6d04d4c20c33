"""Queue hours for inbound calls, through a real server and its SIP trunk (Tier 1).

A caller phones sales while it is open and waits (greeting, hold music). Sales then closes
(its hours, as the admin console sets them). A second caller is answered, hears the closed
announcement (three falling notes, twice: no speech) and is hung up by us (BYE): never
queued, but on their timeline ("called while closed", with the next opening time) and in the
reports (Called while closed, apart from Offered). The first caller keeps their place, as in
Amazon Connect: the agent who comes is offered them. Their hang-up then abandons the callback,
its reason ("hung_up") on the timeline. Open again, the one turned away phones back: the agent's
offer shows they called while closed.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import text

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from desktop.routing.hours import parse_hours, zone
from desktop.settings import Settings
from desktop.web.reports import report
from signaling.client import AgentBot
from signaling.media.sip import PhoneState
from signaling.media.waiting import CLOSED_HZ, GREETING_HZ, HOLD_MUSIC_HZ
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import Caller, free_udp_port, trunk_env
from tests.helpers.sip_peer import dominant_hz, near, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINE = "+442079460500"  # what callers dial: sales (OTODESK_SIP_INBOUND)
WAITING, LATE = "+447700900471", "+447700900472"  # Ofcom's drama range for mobiles


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sip_port, our_sip_port = free_udp_port(), free_udp_port()
    server = ServerProcess(tmp_path_factory.mktemp("inbound-hours"), env={
        **trunk_env(sip_port, our_sip_port, credentials=False), "OTODESK_SIP_INBOUND": f"{LINE}=sales",
        "OTODESK_DEFAULT_REGION": "GB", "OTODESK_TIMEZONE": "UTC"})
    server.our_sip_port = our_sip_port
    server.start()
    try:
        yield server
    finally:
        server.stop()


def closed_today() -> dict:
    """Open weekdays 09:00-17:00 (UTC), but closed all of today (an exception): closed now."""
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return {"weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "exceptions": [{"date": today, "closed": True}]}


async def test_a_call_while_closed_is_told_and_hung_up_and_a_caller_already_waiting_keeps_waiting(server):
    async with Caller(from_number=WAITING) as waiting:
        await waiting.dial(server.our_sip_port, LINE)
        await waiting.until(PhoneState.CONNECTED)
        await until(lambda: near(dominant_hz(waiting.recent(0.3)), GREETING_HZ), what="the greeting")

        hours = closed_today()
        async with Repository.open(server.database_url) as repo:  # as the admin console saves a queue's hours
            await repo.database.write(lambda conn: conn.execute(
                text("UPDATE queues SET hours = :hours WHERE name = 'sales'"), {"hours": json.dumps(hours)}))
        opens = parse_hours(hours).next_open(time.time(), zone("UTC"))

        async with Caller(from_number=LATE) as late:
            await late.dial(server.our_sip_port, LINE)
            answered = await late.until(PhoneState.CONNECTED)
            assert answered.status == 200  # answered, to be told
            began = time.monotonic()
            heard = set()

            def told() -> bool:
                hz = dominant_hz(late.recent(0.3))
                for name, tones in (("closed", CLOSED_HZ), ("greeting", GREETING_HZ), ("music", HOLD_MUSIC_HZ)):
                    if near(hz, tones):
                        heard.add(name)
                return any(e.state == PhoneState.ENDED for e in late.events)

            await until(told, timeout=8, what="the closed announcement and our BYE")
            assert heard == {"closed"}, heard  # the announcement only: no greeting, no hold music
            ended = next(e for e in late.events if e.state == PhoneState.ENDED)
            assert ended.result == "completed" and 2.5 < time.monotonic() - began < 6  # both phrases, then BYE

        # The caller already in line keeps their place: the agent who comes is offered them.
        agent = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
        mark = agent.mark()
        await agent.command("set_state", state="available")
        offer = (await agent.wait_for("offer", start=mark))["offer"]
        assert offer["callback"]["phone"] == WAITING and offer["callback"]["channel"] == "phone_inbound"
        await waiting.hangup()
        await agent.wait_for("offer_ended", lambda m: m["offer_id"] == offer["offer_id"], start=mark)

        # Open again: the one turned away phones back, and the agent sees they called while closed.
        async with Repository.open(server.database_url) as repo:
            await repo.database.write(lambda conn: conn.execute(text("UPDATE queues SET hours = NULL WHERE name = 'sales'")))
        async with Caller(from_number=LATE) as again:
            mark = agent.mark()
            await again.dial(server.our_sip_port, LINE)
            back = (await agent.wait_for("offer", start=mark))["offer"]
            assert back["callback"]["phone"] == LATE
            assert [p["kind"] for p in back["previous"]][:1] == ["called_while_closed"]
            await again.hangup()
            await agent.wait_for("offer_ended", lambda m: m["offer_id"] == back["offer_id"], start=mark)
        await agent.close()

    async with Repository.open(server.database_url) as repo:
        kept = await repo.database.read(lambda conn: conn.execute(text(
            "SELECT id, state, channel, customer_id FROM callbacks WHERE phone = :phone ORDER BY created_at"),
            {"phone": LATE}).all())
        assert [(row.state, row.channel) for row in kept] == [("closed", "phone_inbound"), ("abandoned", "phone_inbound")]
        entry = await repo.last_contact_event(kept[0].customer_id, kind="called_while_closed", callback_id=kept[0].id)
        assert entry.data == {"number": LATE, "line": LINE, "queue": "sales", "caller": "new", "opens": opens}
        gone = await repo.last_contact_event(offer["customer"]["id"], kind="callback_abandoned",
                                             callback_id=offer["callback_id"])
        assert gone.data == {"reason": "hung_up"}
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        figures = await report(repo, Settings(time_zone="UTC"), first=today, last=today, period="day", now=time.time())
    sales = next(row for row in figures["tables"]["queues"]["rows"] if row["queue"] == "Sales")
    assert (sales["closed"], sales["phone_inbound"], sales["offered"]) == (1, 2, 2)
