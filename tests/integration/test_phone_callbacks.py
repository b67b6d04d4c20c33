"""Phone callbacks that really dial, through a real server's sockets, against a SIP far end (Tier 1).

A real otodesk process in a network namespace of its own, its trunk pointed
at the in-process far end (tests/helpers/sip_peer.py) on the namespace's
127.0.0.1. An agent accepts a customer's "call my phone" request; their
aiortc bot joins the call; the server dials; the desk's voice_state says
dialling, ringing, connected; the agent hears the phone's 440 Hz and the
phone the agent's 880 Hz; the phone hangs up and the agent goes to wrap-up;
the attempt is on the customer's timeline. A busy phone schedules a retry.

Inbound: someone phones one of the numbers OTODESK_SIP_INBOUND maps to a queue
(tests/helpers/sip_caller.py, from the trunk's proxy address): they hear the
greeting and the hold music, the agent's offer names the customer whose
verified number it is (with their timeline), the agent accepts and each hears
the other; a caller who hangs up while the offer rings abandons it; a number
not mapped gets 404; beyond OTODESK_SIP_MAX_CALLS (2 here) a caller gets 503
and a phone callback is not dialled (``refused``, retried).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from signaling.client import AgentBot, CommandFailed, CustomerBot
from signaling.client import SupervisorBot
from signaling.media.sip import PhoneState
from signaling.media.waiting import GREETING_HZ, HOLD_MUSIC_HZ
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns
from tests.helpers.server import CONSENT, ServerProcess
from tests.helpers.sip_caller import Caller, free_udp_port, trunk_env
from tests.helpers.sip_peer import PeerThread, SipPeer, dominant_hz, near, until
from tests.helpers.voice_bots import Bot
from tests.integration.test_admin_api import staff_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

NUMBER = "+442079460123"  # a UK drama number (Ofcom): valid, never anyone's
LINE_SALES, LINE_SUPPORT = "+442079460500", "+442079460501"  # what callers dial (OTODESK_SIP_INBOUND)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_netns()
    with network_namespace():
        sip_port, our_sip_port = free_udp_port(), free_udp_port()
        server = ServerProcess(tmp_path_factory.mktemp("phone-callbacks"), env={
            **trunk_env(sip_port, our_sip_port), "OTODESK_SIP_MAX_CALLS": "2",
            "OTODESK_SIP_INBOUND": f"{LINE_SALES}=sales,{LINE_SUPPORT}=support",
            "OTODESK_HOST": SERVER_ADDRESS, **VOICE_ENV,
            "OTODESK_SIP_RING_TIMEOUT": "3", "OTODESK_PHONE_RETRY_DELAY": "600",
            "OTODESK_PHONE_MAX_ATTEMPTS": "2",
            "OTODESK_PHONE_RETRY_QUEUES": "sales:900:2,support:60:2,callagain:1:2",
            "OTODESK_DEFAULT_REGION": "GB"})
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        server.sip_port = sip_port
        server.our_sip_port = our_sip_port
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def accepted_phone_callback(base_url: str, agent_name: str, queue: str = "sales", number: str = NUMBER,
                                  password: str = DEMO_PASSWORD):
    agent = await AgentBot.login(base_url, agent_name, password)
    await agent.command("set_state", state="available")
    customer = await CustomerBot.start(base_url)
    mark = agent.mark()
    callback_id = (await customer.command("call_me", name="Pat Phone", queue=queue, channel="phone", consent=CONSENT,
                                          phone=number))["callback_id"]
    offer = (await agent.wait_for("offer", start=mark))["offer"]
    await agent.command("accept", offer_id=offer["offer_id"])
    return agent, customer, callback_id


async def join(bot: Bot, agent: AgentBot, callback_id: str) -> dict:
    acks = []

    async def signal(sdp: str) -> str:
        acks.append(await agent.command("voice_offer", callback_id=callback_id, sdp=sdp))
        return acks[-1]["sdp"]
    await bot.connect(signal)
    await bot.connected()
    return acks[-1]


async def _sdp(agent: AgentBot, callback_id: str, sdp: str) -> str:
    return (await agent.command("voice_offer", callback_id=callback_id, sdp=sdp))["sdp"]


def phone_states(agent: AgentBot, start: int, callback_id: str) -> list[str]:
    states = []
    for message in agent.messages[start:]:
        if message.get("type") == "voice_state" and message["call"]["callback_id"] == callback_id:
            phone = message["call"].get("phone") or {}
            state = phone.get("result") or phone.get("state")
            if state and (not states or states[-1] != state):
                states.append(state)
    return states


async def written(repo, customer_id: str, kind: str, callback_id: str):
    """The callback's latest ``kind`` entry on the customer's timeline once written (up to 5 s), else None."""
    for _ in range(50):
        event = await repo.last_contact_event(customer_id, kind=kind, callback_id=callback_id)
        if event:
            return event
        await asyncio.sleep(0.1)
    return None


async def retries_booked(repo, customer_id: str, callback_id: str) -> list:
    """The ``phone_retry`` entries a dialled attempt of ``callback_id`` booked, once written (up to 5 s)."""
    for _ in range(50):
        retries = [e for e in await repo.timeline(customer_id, kinds=["phone_retry"])
                   if e.data.get("previous") == callback_id]
        if retries:
            return retries
        await asyncio.sleep(0.1)
    return []


async def test_health_says_the_trunk_is_up(server):
    async with httpx.AsyncClient() as client:
        health = (await client.get(f"{server.base_url}/healthz")).json()
    assert health["sip"] == {"trunk": "static", "error": ""}


@pytest.fixture
def refused_trunk(server, tmp_path):
    """A second server (in the module's namespace: it depends on ``server``) whose trunk registers
    with a far end that refuses its password: 401 to every REGISTER."""
    sip_port = free_udp_port()
    far = PeerThread(port=sip_port, password="not-what-the-server-has")
    refused = ServerProcess(tmp_path, env={**trunk_env(sip_port, free_udp_port(), register=True)})
    try:
        refused.start()
        yield refused, far.peer
    finally:
        refused.stop()
        far.close()


async def test_a_trunk_whose_credentials_are_refused_says_failed_on_healthz_and_the_wall(refused_trunk):
    """Issue 13's "a trunk that rejects credentials gets a clear state on the wall": the registrar
    answers 401 forever; /healthz's sip.trunk says failed with the 401, and so does the wall's socket
    (the wall shows it as "Phone trunk: failing (401 Unauthorized)")."""
    refused, far = refused_trunk
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            sip = (await client.get(f"{refused.base_url}/healthz")).json()["sip"]
            if sip["trunk"] != "registering":
                break
            await asyncio.sleep(0.1)
    assert sip["trunk"] == "failed" and sip["error"].startswith("401"), sip
    assert far.log.count("register-challenged") >= 2 and "registered" not in far.log  # it tried the password
    wall = await SupervisorBot.login(refused.base_url, "sam", DEMO_PASSWORD)
    try:
        assert wall.welcome["voice"]["phone"] == sip
    finally:
        await wall.close()


async def test_agent_accepts_the_server_dials_and_both_hear_each_other(server):
    async with SipPeer(port=server.sip_port, behaviour="answer", ring_seconds=0.8) as peer:
        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "alice")
        welcome_phone = agent.welcome["voice"]["phone"]
        assert welcome_phone == {"trunk": "static", "error": ""}
        bot = Bot(880)
        mark = agent.mark()
        await join(bot, agent, callback_id)
        await until(lambda: "connected" in phone_states(agent, mark, callback_id), what="the phone to answer")
        assert phone_states(agent, mark, callback_id)[:3] == ["dialling", "ringing", "connected"]
        assert NUMBER.lstrip("+") in peer.invites[0].uri
        await until(lambda: bot.ears and len(bot.ears[0].samples) >= 9600 and bot.ears[0].hears([440, 880]) == 440,
                    what="the agent hearing the phone")
        await until(lambda: (hz := dominant_hz(peer.recent())) is not None and abs(hz - 880) < 10,
                    what="the phone hearing the agent")
        await agent.command("voice_control", callback_id=callback_id, action="dtmf", digits="42#")
        await until(lambda: peer.dtmf == ["4", "2", "#"], what="the phone getting the digits")
        with pytest.raises(CommandFailed) as refused:
            await agent.command("voice_control", callback_id=callback_id, action="dtmf")
        assert refused.value.code == "bad_message"

        began = time.monotonic()
        await peer.hangup()
        await agent.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", start=mark)
        assert time.monotonic() - began < 2.0
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        async with Repository.open(server.database_url) as repo:
            customer_id = (await repo.get_callback(callback_id)).customer_id
            attempt = await repo.last_contact_event(customer_id, kind="phone_attempt", callback_id=callback_id)
        assert attempt.data["result"] == "completed" and attempt.data["attempt"] == 1
        assert attempt.data["number"] == NUMBER and attempt.data["talked_s"] >= 0
        await bot.close()
        await agent.close()
        await customer.close()


async def test_busy_goes_on_the_timeline_and_a_retry_is_scheduled(server):
    async with SipPeer(port=server.sip_port, behaviour="busy", ring_seconds=0.2):
        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "bob")
        bot = Bot(880)
        mark = agent.mark()
        await join(bot, agent, callback_id)
        await agent.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", start=mark)
        assert phone_states(agent, mark, callback_id)[-1] == "busy"
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        async with Repository.open(server.database_url) as repo:
            customer_id = (await repo.get_callback(callback_id)).customer_id
            attempt = await written(repo, customer_id, "phone_attempt", callback_id)
            retries = await retries_booked(repo, customer_id, callback_id)
            call = await written(repo, customer_id, "voice_call", callback_id)
            assert attempt.data["result"] == "busy" and attempt.data["status"] == 486
            # Nobody talked: the desk's "Talked 0:00", not the time the phone rang (seen on a tour).
            assert call.data["seconds"] == 0
            [retry] = retries
            assert retry.data["attempt"] == 2 and retry.data["after"] == "busy"
            again = await repo.get_callback(retry.callback_id)
        assert again.phone == NUMBER and again.scheduled_at > time.time() + 800  # the sales rule: 900 s
        await bot.close()
        await agent.close()
        await customer.close()


async def test_no_answer_is_cancelled_at_the_ring_timeout_and_dialled_again(server):
    """Issue 13's "no answer -> CANCEL at the ring timeout -> retry", through the server: the phone
    rings past OTODESK_SIP_RING_TIMEOUT (3 s here), the trunk CANCELs it, the attempt is on the
    timeline as no answer, and the retry the queue's policy books (callagain: 1 s, 2 attempts) is
    offered to the agent again and dialled: a second INVITE, answered this time. A queue and an
    agent of its own (made through the admin API), so the retry reaches nobody else's test."""
    admin = await staff_client(server.base_url, "admin")
    try:
        made = await admin.post("/api/v1/admin/users", json={
            "username": "nora", "password": "nora-password-1", "display_name": "Nora Redial",
            "role": "agent", "skills": ["callagain"]})
        assert made.status_code == 201, made.text
        queue = await admin.put("/api/v1/admin/queues/callagain", json={"title": "Call again",
                                                                        "skills": ["callagain"]})
        assert queue.status_code == 201, queue.text
    finally:
        await admin.aclose()
    number = "+442079460126"  # its own: one active request per number
    async with SipPeer(port=server.sip_port, behaviour="no_answer") as peer:
        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "nora", "callagain",
                                                                     number=number, password="nora-password-1")
        bot = Bot(880)
        mark = agent.mark()
        await join(bot, agent, callback_id)
        await agent.wait_for("voice_state", lambda m: m["call"]["callback_id"] == callback_id
                             and m["call"]["state"] == "ended", start=mark)
        assert phone_states(agent, mark, callback_id) == ["dialling", "ringing", "no_answer"]
        await peer.wait_for("cancel")  # the trunk's CANCEL, not a BYE or a 4xx from us
        assert peer.log.count("invite") == 1 and "bye" not in peer.log
        await bot.close()
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        async with Repository.open(server.database_url) as repo:
            customer_id = (await repo.get_callback(callback_id)).customer_id
            attempt = await written(repo, customer_id, "phone_attempt", callback_id)
            retries = await retries_booked(repo, customer_id, callback_id)
        assert attempt.data["result"] == "no_answer" and attempt.data["attempt"] == 1
        assert attempt.data["number"] == number and attempt.data["talked_s"] is None
        [retry] = retries
        assert retry.data["attempt"] == 2 and retry.data["after"] == "no_answer"

        # The retry comes back to the agent once she is free again; this time the phone answers.
        peer.behaviour = "answer"
        mark = agent.mark()
        await agent.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        offer = (await agent.wait_for("offer", lambda m: m["offer"]["callback_id"] == retry.callback_id,
                                      start=mark))["offer"]
        await agent.command("accept", offer_id=offer["offer_id"])
        again = Bot(880)
        await join(again, agent, retry.callback_id)
        await until(lambda: "connected" in phone_states(agent, mark, retry.callback_id), what="the second attempt")
        assert peer.log.count("invite") == 2 and number.lstrip("+") in peer.invites[1].uri
        await peer.hangup()
        await agent.wait_for("voice_state", lambda m: m["call"]["callback_id"] == retry.callback_id
                             and m["call"]["state"] == "ended", start=mark)
        async with Repository.open(server.database_url) as repo:
            second = await written(repo, customer_id, "phone_attempt", retry.callback_id)
        assert second.data["result"] == "completed" and second.data["attempt"] == 2
        await again.close()
        await agent.close()
        await customer.close()


async def test_a_call_that_dropped_with_its_process_is_not_redialled_at_once_but_retried(server):
    """As after kill -9 of the process carrying the call: the callback was dialled (its
    phone_dialled event is written) and nobody holds the call any more. The agent's desk
    reconnects to this process: no INVITE; a failed attempt, a retry, the agent in wrap-up."""
    async with SipPeer(port=server.sip_port) as peer:
        # A number of its own: earlier tests left retries booked for NUMBER (one request per number).
        number = "+442079460125"
        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "carol", "support",
                                                                     number=number)
        async with Repository.open(server.database_url) as repo:
            customer_id = (await repo.get_callback(callback_id)).customer_id
            await repo.add_contact_event(customer_id=customer_id, kind="phone_dialled", channel="phone",
                                         at=time.time() - 30, callback_id=callback_id,
                                         data={"number": number, "attempt": 1})
        bot = Bot(880)
        mark = agent.mark()
        # The desk's offer is answered, then the call ends at once (its leg never needs to connect).
        await bot.connect(lambda sdp: _sdp(agent, callback_id, sdp))
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        async with Repository.open(server.database_url) as repo:
            attempt = await repo.last_contact_event(customer_id, kind="phone_attempt", callback_id=callback_id)
            retries = [e for e in await repo.timeline(customer_id, kinds=["phone_retry"])
                       if e.data.get("previous") == callback_id]
        assert attempt.data["result"] == "failed" and "stopped" in attempt.data["reason"]
        assert len(retries) == 1 and retries[0].data["after"] == "failed"
        assert peer.invites == [] and "invite" not in peer.log
        await bot.close()
        await agent.close()
        await customer.close()


# -- inbound calls -------------------------------------------------------------------------------

CALLER = "+447700900461"  # Ofcom's drama range for mobiles


async def ready(agent: AgentBot) -> None:
    """Available, after wrapping up what an earlier test of this module left in wrap-up."""
    contact = agent.welcome.get("contact") or {}
    if contact.get("state") == "wrap_up":
        await agent.command("wrap_up", callback_id=contact["callback_id"], disposition="Resolved")
    else:
        await agent.command("set_state", state="available")


async def test_a_known_customer_phones_in_waits_with_music_is_offered_accepted_and_heard(server):
    db = server.database_url
    async with Repository.open(db) as repo:
        quinn = await repo.create_customer(name="Quinn Caller", source="test")
        await repo.add_identity(quinn.id, "phone", CALLER, verified=True, source="test")
        await repo.add_contact_event(customer_id=quinn.id, kind="note", channel="desk", at=time.time() - 3600,
                                     data={"text": "Asked about the Studio 15 warranty"})
    wall = await SupervisorBot.login(server.base_url, "sam", DEMO_PASSWORD)
    async with Caller(from_number=CALLER, tone_hz=440) as caller:
        await caller.dial(server.our_sip_port, LINE_SALES)
        await caller.until(PhoneState.CONNECTED)  # answered at once: the caller waits on the line
        await until(lambda: near(dominant_hz(caller.recent(0.3)), GREETING_HZ), what="the greeting")
        await until(lambda: near(dominant_hz(caller.recent(0.3)), HOLD_MUSIC_HZ), what="the hold music")

        agent = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
        mark = agent.mark()
        await ready(agent)
        offer = (await agent.wait_for("offer", start=mark))["offer"]
        assert offer["callback"]["channel"] == "phone_inbound" and offer["callback"]["caller"] == "verified"
        assert offer["customer"]["name"] == "Quinn Caller" and offer["callback"]["phone"] == CALLER
        assert any(p["kind"] == "note" for p in offer["previous"])  # the timeline came with the offer
        callback_id = offer["callback_id"]
        await agent.command("accept", offer_id=offer["offer_id"])

        bot = Bot(880)
        mark = agent.mark()
        await join(bot, agent, callback_id)
        await until(lambda: (hz := dominant_hz(caller.recent())) is not None and abs(hz - 880) < 10,
                    what="the caller hearing the agent")
        await until(lambda: bot.ears and len(bot.ears[0].samples) >= 9600 and bot.ears[0].hears([440, 880]) == 440,
                    what="the agent hearing the caller")
        state = await agent.wait_for("voice_state", lambda m: (m["call"].get("phone") or {}).get("waiting") is False,
                                     start=mark)
        assert state["call"]["phone"]["inbound"] is True

        queue = await wall.wait_for_wall(lambda m: next(q for q in m["queues"] if q["name"] == "sales")["inbound"] >= 1)
        assert next(q for q in queue["queues"] if q["name"] == "sales")["inbound"] >= 1

        began = time.monotonic()
        await caller.hangup()
        await agent.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", start=mark)
        assert time.monotonic() - began < 2.0
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        async with Repository.open(db) as repo:
            callback = await repo.get_callback(callback_id)
            inbound = await repo.last_contact_event(quinn.id, kind="inbound_call", callback_id=callback_id)
        assert callback.customer_id == quinn.id and callback.state == "completed"
        assert inbound.data == {"number": CALLER, "line": LINE_SALES, "queue": "sales", "caller": "verified"}
        await agent.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        await bot.close()
        await agent.close()
    await wall.close()


async def test_a_caller_who_hangs_up_while_the_offer_rings_abandons_it(server):
    agent = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
    await ready(agent)
    async with Caller(from_number="+447700900999") as caller:  # nobody's number: an unknown caller
        mark = agent.mark()
        await caller.dial(server.our_sip_port, LINE_SALES)
        offer = (await agent.wait_for("offer", start=mark))["offer"]
        assert offer["callback"]["caller"] == "new" and not offer["customer"]["name"]
        await asyncio.sleep(0.5)  # they have waited a moment (the hold music)
        await caller.hangup()
        ended = await agent.wait_for("offer_ended", lambda m: m["offer_id"] == offer["offer_id"], start=mark)
        assert ended["outcome"] == "withdrawn"
    async with Repository.open(server.database_url) as repo:
        callback = await repo.get_callback(offer["callback_id"])
        call = await written(repo, callback.customer_id, "voice_call", callback.id)
    assert callback.state == "abandoned" and callback.channel == "phone_inbound"
    # Nobody talked with them: the hold music is not talk (their timeline said "Talked 0:0x": issue 13 tour).
    assert call is not None and call.data["seconds"] == 0
    await agent.close()


async def test_a_number_not_ours_is_refused_404(server):
    async with Caller() as caller:
        await caller.dial(server.our_sip_port, "+442079460999")
        ended = await caller.until(PhoneState.ENDED)
    assert ended.status == 404


async def test_beyond_the_phone_call_limit_callers_get_503_and_callbacks_are_not_dialled(server):
    """Two callers wait in support (nobody staffs it now): the limit (2). A third caller is refused;
    bob's phone callback is not dialled: refused, on the timeline, retried."""
    async with Caller() as first, Caller() as second, Caller() as third, \
            SipPeer(port=server.sip_port) as peer:
        for caller in (first, second):
            await caller.dial(server.our_sip_port, LINE_SUPPORT)
            await caller.until(PhoneState.CONNECTED)
        await third.dial(server.our_sip_port, LINE_SUPPORT)
        refused = await third.until(PhoneState.ENDED)
        assert refused.status == 503

        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "bob", number="+442079460124")
        bot = Bot(880)
        mark = agent.mark()
        await bot.connect(lambda sdp: _sdp(agent, callback_id, sdp))  # the call ends before this leg is up
        ended = await agent.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", start=mark)
        assert ended["call"]["phone"]["result"] == "refused" and "at most" in ended["call"]["phone"]["reason"]
        await agent.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark)
        assert "invite" not in peer.log
        async with Repository.open(server.database_url) as repo:
            customer_id = (await repo.get_callback(callback_id)).customer_id
            attempt = await written(repo, customer_id, "phone_attempt", callback_id)
        assert attempt.data["result"] == "refused" and attempt.data["status"] == 503
        await first.hangup()
        await second.hangup()
        await bot.close()
        await agent.close()
        await customer.close()
