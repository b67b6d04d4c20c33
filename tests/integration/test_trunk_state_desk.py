"""Agents' sockets hear their process's SIP trunk fail and recover (a tour of issue 13: the desk
knew nothing until a call failed).

A real server whose trunk registers with the in-process far end (tests/helpers/sip_peer.py, on
127.0.0.1), which refuses the password at first: an agent's ``welcome`` says ``failed`` with the
401; once the far end takes the password (OTODESK_SIP_REGISTER_RETRY: 1 s), an open desk socket
gets ``trunk_state`` ``registered`` (sent to it, no room), and a desk socket that was away and
resumes (no welcome) is told at once.
"""

from __future__ import annotations

import asyncio

import httpx

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot
from tests.helpers.server import ServerProcess
from tests.helpers.sip_caller import free_udp_port, trunk_env
from tests.helpers.sip_peer import SipPeer, until


async def trunk_of(server) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{server.base_url}/healthz")).json()["sip"]["trunk"]


def told(agent: AgentBot, start: int) -> list[dict]:
    return [{"trunk": m["trunk"], "error": m["error"]} for m in agent.messages[start:] if m.get("type") == "trunk_state"]


async def test_desks_are_told_their_trunk_fails_and_when_it_registers_again_a_resumed_one_too(tmp_path):
    sip_port, our_sip_port = free_udp_port(), free_udp_port()
    async with SipPeer(port=sip_port, password="not-yet") as peer:
        server = ServerProcess(tmp_path / "var", env={**trunk_env(sip_port, our_sip_port, register=True),
                                                       "OTODESK_SIP_REGISTER_RETRY": "1"})
        await asyncio.to_thread(server.start)  # the far end answers REGISTER meanwhile
        try:
            states = []
            while "failed" not in states:
                states.append(await trunk_of(server))
                assert len(states) < 200, states
                await asyncio.sleep(0.05)
            alice = await AgentBot.login(server.base_url, "alice", DEMO_PASSWORD)
            bob = await AgentBot.login(server.base_url, "bob", DEMO_PASSWORD)
            phone = alice.welcome["voice"]["phone"]
            # Failed, or being tried again: the refusal stays said until it registers.
            assert phone["trunk"] in ("failed", "registering") and "401" in phone["error"], phone
            assert not any(m.get("type") == "trunk_state" and m["trunk"] == "registered" for m in bob.messages)

            await alice.close()
            mark = bob.mark()
            peer.password = "s3cret"  # the provider's side fixed
            await until(lambda: {"trunk": "registered", "error": ""} in told(bob, mark), timeout=10,
                        what="the open desk to hear the trunk registered")
            message = next(m for m in bob.messages[mark:] if m.get("type") == "trunk_state" and m["trunk"] == "registered")
            assert "seq" not in message and message["process"]  # this socket's, not a room event

            mark = alice.mark()
            assert (await alice.connect(resume=True))["type"] == "resumed"
            await until(lambda: told(alice, mark), timeout=5, what="the resumed desk to be told its trunk")
            assert told(alice, mark) == [{"trunk": "registered", "error": ""}]
            await alice.close()
            await bob.close()
        finally:
            await asyncio.to_thread(server.stop)
