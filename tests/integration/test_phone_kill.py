"""``kill -9`` of the process carrying a phone callback: the phone call drops with it, the callback
record does not.

A real otodesk process in a network namespace of its own, its trunk pointed at the in-process far
end (tests/helpers/sip_peer.py). An agent accepts a customer's "call my phone" request, their aiortc
bot joins, the server dials, the phone answers and each hears the other. Then the process is
killed with SIGKILL and started again on the same database. The agent's desk comes back and offers
its leg again (as common/voicelink.js does): the phone is not dialled a second time at once; the
attempt is recorded as failed ("the server carrying the call stopped"), a retry is booked by the
queue's rules, and the agent goes to wrap-up. The customer's request, their consent and the
dialled attempt are all still there.
"""

from __future__ import annotations

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from desktop.repository.repository import Repository
from signaling.client import AgentBot
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import free_udp_port, trunk_env
from tests.helpers.sip_peer import SipPeer, dominant_hz, until
from tests.helpers.voice_bots import Bot
from tests.integration.test_phone_callbacks import (
    _sdp, accepted_phone_callback, join, phone_states,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

NUMBER = "+442079460126"  # Ofcom's drama range: valid, never anyone's


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_netns()
    with network_namespace():
        sip_port = free_udp_port()
        server = ServerProcess(tmp_path_factory.mktemp("phone-kill"), env={
            "OTODESK_HOST": SERVER_ADDRESS, **VOICE_ENV,
            **trunk_env(sip_port, free_udp_port()), "OTODESK_PHONE_MAX_ATTEMPTS": "3",
            "OTODESK_PHONE_RETRY_QUEUES": "sales:300:3", "OTODESK_DEFAULT_REGION": "GB"})
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        server.sip_port = sip_port
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def test_a_phone_call_whose_process_is_killed_loses_no_record_and_is_retried(server):
    database = server.database_url
    async with SipPeer(port=server.sip_port, behaviour="answer", ring_seconds=0.3) as peer:
        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "alice", number=NUMBER)
        bot = Bot(880)
        mark = agent.mark()
        await join(bot, agent, callback_id)
        await until(lambda: "connected" in phone_states(agent, mark, callback_id), what="the phone to answer")
        await until(lambda: (hz := dominant_hz(peer.recent())) is not None and abs(hz - 880) < 10,
                    what="the phone hearing the agent")
        await bot.close()
        await agent.close()
        await customer.close()

        server.kill()
        server.start()

        back = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
        contact = back.welcome.get("contact") or {}
        assert contact.get("callback_id") == callback_id, back.welcome.get("contact")
        again = Bot(880)
        mark = back.mark()
        await again.connect(lambda sdp: _sdp(back, callback_id, sdp))  # the desk offers its leg again
        await back.wait_for("agent_state", lambda m: m["state"]["state"] == "wrap_up", start=mark, timeout=10)

        async with Repository.open(database) as repo:
            callback = await repo.get_callback(callback_id)
            assert callback is not None and callback.phone == NUMBER and callback.consent
            attempts = [e for e in await repo.timeline(callback.customer_id, kinds=["phone_attempt"])
                        if e.callback_id == callback_id]
            dialled = [e for e in await repo.timeline(callback.customer_id, kinds=["phone_dialled"])
                       if e.callback_id == callback_id]
            retries = [e for e in await repo.timeline(callback.customer_id, kinds=["phone_retry"])
                       if e.data.get("previous") == callback_id]
        assert len(dialled) == 1
        [attempt] = attempts
        assert attempt.data["result"] == "failed" and "stopped" in attempt.data["reason"], attempt.data
        [retry] = retries
        assert retry.data["attempt"] == 2 and retry.data["after"] == "failed"
        assert len(peer.invites) == 1, "the phone was dialled again at once"
        await again.close()
        await back.command("wrap_up", callback_id=callback_id, disposition="Resolved")
        await back.close()
