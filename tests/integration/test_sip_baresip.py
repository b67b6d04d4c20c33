"""A phone callback dialled through a real server to Debian's baresip as the far end (Tier 2).

A real otodesk process in a network namespace of its own (aioice never uses
127.0.0.1), its trunk pointed at baresip (tests/helpers/baresip_peer.py) on
the namespace's 127.0.0.1: baresip answers on its own, plays 440 Hz from its
``ausine`` module and records what it decodes (``sndfile``). An agent's
aiortc bot (880 Hz) accepts the customer's "call my phone"; the agent hears
the 440 Hz (FFT); the agent hangs up from the desk and baresip's call ends
within 2 s; baresip's recording holds the agent's 880 Hz. Before that,
baresip holds the call and resumes it (its own re-INVITEs, through its
``ctrl_tcp`` commands): the desk's ``voice_state`` says the phone is held,
then not, and the agent hears baresip again.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.baresip_peer import BaresipPeer, require_baresip
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV, network_namespace, require_netns
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import free_udp_port, trunk_env
from tests.helpers.sip_peer import dominant_hz
from tests.helpers.voice_bots import Bot
from tests.integration.test_phone_callbacks import accepted_phone_callback, join, phone_states, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

NUMBER = "+442079460188"  # a UK drama number (Ofcom): valid, never anyone's


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_netns()
    require_baresip()
    with network_namespace():  # baresip, started from this thread, lives here too
        far_port = free_udp_port()
        server = ServerProcess(tmp_path_factory.mktemp("sip-baresip"), env={
            "OTODESK_HOST": SERVER_ADDRESS, **VOICE_ENV,
            **trunk_env(far_port, free_udp_port(), credentials=False), "OTODESK_SIP_RING_TIMEOUT": "5",
            "OTODESK_PHONE_RETRY_DELAY": "600", "OTODESK_DEFAULT_REGION": "GB"})
        server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
        server.far_port = far_port
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def test_baresip_answers_each_hears_the_other_and_the_desk_hangs_up(server, tmp_path):
    async with BaresipPeer(tmp_path / "baresip", number=NUMBER, port=server.far_port, tone_hz=440) as far:
        agent, customer, callback_id = await accepted_phone_callback(server.base_url, "alice", number=NUMBER)
        bot = Bot(880)
        mark = agent.mark()
        await join(bot, agent, callback_id)
        await until(lambda: "connected" in phone_states(agent, mark, callback_id), timeout=8,
                    what="baresip to answer")
        await far.until("Call established", timeout=2)
        await until(lambda: bot.ears and len(bot.ears[0].samples) >= 9600 and bot.ears[0].hears([440, 880]) == 440,
                    timeout=5, what="the agent hearing baresip's 440 Hz")
        await until(lambda: far.saw("incoming rtp for 'audio' established") is not None, what="baresip's RTP")
        await until(lambda: bot.ears[0].hears([440, 880]) == 440 and _talked(far), timeout=5,
                    what="a second of the agent's voice at baresip")

        # baresip holds (its re-INVITE: sendonly), then resumes (sendrecv): the desk is told each.
        held_at = agent.mark()
        await far.command("hold")
        await agent.wait_for("voice_state", lambda m: (m["call"].get("phone") or {}).get("held") is True,
                             start=held_at)
        resumed_at = agent.mark()
        await far.command("resume")
        await agent.wait_for("voice_state", lambda m: (m["call"].get("phone") or {}).get("held") is False,
                             start=resumed_at)
        bot.ears[0].clear()
        await until(lambda: len(bot.ears[0].samples) >= 9600 and bot.ears[0].hears([440, 880]) == 440,
                    timeout=5, what="the agent hearing baresip again after its resume")

        began = time.monotonic()
        await agent.command("voice_control", callback_id=callback_id, action="hangup")
        ended = await far.until("terminated", since=began, timeout=2.5)
        assert ended - began < 2.0, f"baresip's call ended {ended - began:.2f} s after the desk's hang-up"
        await agent.wait_for("voice_state", lambda m: m["call"]["state"] == "ended", start=mark)

        recorded = far.recording()
        assert len(recorded) >= 8000 * 2, f"baresip recorded {len(recorded) / 16000:.2f} s only"
        heard = dominant_hz(recorded[-8000 * 2:])  # its last second
        assert heard is not None and abs(heard - 880) < 10, f"baresip recorded {heard} Hz, not the agent's 880"
        await bot.close()
        await agent.close()
        await customer.close()


def _talked(far: BaresipPeer) -> bool:
    established = far.saw("Call established")
    return established is not None and time.monotonic() - established > 1.5

