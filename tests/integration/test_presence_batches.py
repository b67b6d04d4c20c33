"""A process's sockets reach the router's leader whole, however many (issue 15, "10,000 agents"):
a mass connect, the re-announce to a new leader and a mass disconnect each go through the
router inbox, which keeps at most INBOX_LIMIT (10,000) commands and drops the oldest beyond.
:class:`~desktop.sockets.Presence` sends them a few hundred a command
(``commands.Presences``), so 12,000 sockets are a few dozen commands, none dropped.

On memory:// and the real Redis (a key namespace of its own, deleted afterwards). The leader is
driven by hand, as in test_router_commands: the commands pile up in the inbox first (a busy
or newly elected leader), then it applies them all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator

import msgspec
import pytest
import redis.asyncio as aioredis

from desktop.leader.client import RouterClient
from desktop.leader.service import _Leader
from desktop.routing import commands as router_commands
from desktop.routing.events import AgentState
from desktop.sockets import Presence
from signaling.bus import Bus, open_bus
from signaling.hub import Session
from tests.helpers.leader import leader_by_hand

SOCKETS = 12_000  # more than the router inbox keeps
AGENTS = 20       # the agents' sockets are desks of 20 accounts (tabs); each customer is a visitor of their own
HANDFUL = 60      # commands a whole process's sockets may take (12,000 one by one before)
IDLE = 0.5        # seconds with nothing in the inbox: all of it was read


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        async with open_bus(None) as bus:
            yield bus
        return
    url, namespace = request.getfixturevalue("redis_url"), f"test-{secrets.token_hex(4)}"
    try:
        async with open_bus(url, namespace=namespace) as bus:
            yield bus
    finally:
        client = aioredis.Redis.from_url(url)
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only: what is checked goes through the bus and the leader's memory; the database
    holds twenty accounts (both databases doubled the module's time for nothing)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'otodesk.db'}"


async def _apply_inbox(bus: Bus, leader: _Leader | None) -> int:
    """Apply every command waiting in the router inbox (``leader`` None: read and drop them, as
    a leader that then lost its lease); how many there were."""
    count = 0
    async with bus.router_inbox() as inbox:
        received = aiter(inbox)
        while True:
            try:
                message = await asyncio.wait_for(anext(received), IDLE)
            except TimeoutError:
                return count
            count += 1
            if leader is not None:
                await leader._apply_safely(message)


async def _sockets(repo, presence: Presence) -> list[Session]:
    agents = [(await repo.add_agent(f"agent{n}", "a long password", display_name=f"Agent {n}", skills=["sales"])).id
              for n in range(AGENTS)]
    sessions = []
    for n in range(SOCKETS):
        if n % 2:
            agent_id = agents[n % AGENTS]
            sessions.append(Session(role="agent", room=f"agent:{agent_id}", identity=agent_id,
                                    data={"socket": presence.key()}))
        else:
            sessions.append(Session(role="customer", room=f"visitor:v{n}", identity=f"v{n}",
                                    data={"socket": presence.key()}))
    return sessions


def _known(leader: _Leader) -> set[str]:
    """The sockets the leader believes open."""
    reach = leader.reach
    return ({key for keys in reach.agent_sockets.values() for key in keys}
            | {key for keys in reach.visitor_sockets.values() for key in keys})


def _inbox_full(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "router inbox full" in r.getMessage()]


async def _each_at_once(presence: Presence, sessions: list[Session], present: bool) -> None:
    """As many sockets opening (or closing) at once: each announces itself from its own task."""
    await asyncio.gather(*(presence.announce(session, present) for session in sessions))


async def test_a_mass_connect_reaches_the_leader_whole(repo, bus, caplog):
    caplog.set_level(logging.WARNING, logger="signaling.bus")
    async with RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        sessions = await _sockets(repo, presence)
        leader = await leader_by_hand(repo, bus, process_id="p0")
        await _each_at_once(presence, sessions, True)
        commands = await _apply_inbox(bus, leader)

    assert _inbox_full(caplog) == []
    assert _known(leader) == {session.data["socket"] for session in sessions}
    assert {leader.router_agent_state(s.identity) for s in sessions if s.role == "agent"} == {AgentState.AWAY}
    assert commands <= HANDFUL


async def test_a_new_leader_hears_of_every_socket(repo, bus, caplog):
    caplog.set_level(logging.WARNING, logger="signaling.bus")
    async with RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        sessions = await _sockets(repo, presence)
        for start in range(0, SOCKETS, 4000):  # connected over time, heard by the leader of the day
            await _each_at_once(presence, sessions[start:start + 4000], True)
            await _apply_inbox(bus, None)
        caplog.clear()

        leader = await leader_by_hand(repo, bus, process_id="p0")  # the lease changed hands: a leader that knows nobody
        await presence.reannounce()
        commands = await _apply_inbox(bus, leader)

    assert _inbox_full(caplog) == []
    assert _known(leader) == {session.data["socket"] for session in sessions}
    assert {leader.router_agent_state(s.identity) for s in sessions if s.role == "agent"} == {AgentState.AWAY}
    assert not leader.reach.logout_at  # every agent's desk is there: nobody to log out
    assert commands <= HANDFUL


async def test_a_mass_disconnect_arrives_whole(repo, bus, caplog):
    caplog.set_level(logging.WARNING, logger="signaling.bus")
    async with RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        sessions = await _sockets(repo, presence)
        leader = await leader_by_hand(repo, bus, process_id="p0")
        for start in range(0, SOCKETS, 4000):
            await _each_at_once(presence, sessions[start:start + 4000], True)
            await _apply_inbox(bus, leader)
        assert len(_known(leader)) == SOCKETS
        caplog.clear()

        await _each_at_once(presence, sessions, False)  # the process stops: every socket closes
        commands = await _apply_inbox(bus, leader)

    assert _inbox_full(caplog) == []
    assert _known(leader) == set()
    assert presence.sessions == {}
    # Every agent's last desk closed: each is logged out when the reconnect grace runs out.
    assert set(leader.reach.logout_at) == {s.identity for s in sessions if s.role == "agent"}
    assert commands <= HANDFUL


async def test_a_batch_is_applied_entry_by_entry_in_order(repo, caplog):
    ann = await repo.add_agent("ann", "a long password", display_name="Ann", skills=["sales"])
    async with open_bus(None) as bus:
        leader = await leader_by_hand(repo, bus, process_id="p0")
        await leader._apply_safely({"op": "presences", "entries": [
            {"role": "agent", "identity": "nobody", "socket": "p1:1", "present": True},  # no such account
            {"role": "agent", "identity": ann.id, "socket": "p1:2", "present": True},
            {"role": "customer", "identity": "v1", "socket": "p1:3", "present": True},
            {"role": "customer", "identity": "v2", "socket": "p1:4", "present": True},
            {"role": "customer", "identity": "v2", "socket": "p1:4", "present": False},  # a reload's old socket
            {"role": "customer", "identity": "v2", "socket": "p1:5", "present": True},
            {"role": "agent", "identity": ann.id, "socket": "p1:6", "present": True},
            {"role": "agent", "identity": ann.id, "socket": "p1:2", "present": False},
        ]})
        assert leader.router_agent_state(ann.id) == AgentState.AWAY  # the refused one kept her out of nothing
        assert leader.reach.agent_sockets[ann.id] == {"p1:6"} and not leader.reach.logout_at
        assert leader.reach.visitor_sockets == {"v1": {"p1:3"}, "v2": {"p1:5"}}
        # The single commands of processes not yet upgraded still count.
        await leader._apply_safely({"op": "agent_presence", "agent_id": ann.id, "socket": "p1:6", "present": False})
        await leader._apply_safely({"op": "customer_presence", "visitor_id": "v1", "socket": "p1:3",
                                    "present": False})
        assert set(leader.reach.logout_at) == {ann.id}
        assert "v1" not in leader.reach.visitor_sockets
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def _decode_of_an_older_leader(message):
    """commands.decode as a leader before ``presences`` read it: an unknown op."""
    if message.get("op") == "presences":
        raise msgspec.ValidationError("Invalid value 'presences' - at `$.op`")
    return _decode(message)


_decode = router_commands.decode


async def test_an_older_leader_hears_every_socket_one_by_one(repo, caplog, monkeypatch):
    # A rolling upgrade: this process is new, the leader not yet. It refuses ``presences``
    # (bad_message, as any unknown command): its customers' callbacks would be abandoned and
    # its agents shown "desk closed". The process turns to one socket a command.
    monkeypatch.setattr(router_commands, "decode", _decode_of_an_older_leader)
    ann = await repo.add_agent("ann", "a long password", display_name="Ann", skills=["sales"])
    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        leader = await leader_by_hand(repo, bus, process_id="p0")
        agent = Session(role="agent", room=f"agent:{ann.id}", identity=ann.id, data={"socket": presence.key()})
        customers = [Session(role="customer", room=f"visitor:v{n}", identity=f"v{n}",
                             data={"socket": presence.key()}) for n in range(3)]
        await _each_at_once(presence, [agent, *customers], True)
        await _apply_inbox(bus, leader)  # refused, answered; then each socket on its own
        assert _known(leader) == {s.data["socket"] for s in [agent, *customers]}
        assert leader.router_agent_state(ann.id) == AgentState.AWAY  # logged in: her desk is open

        await presence.announce(customers[0], False)  # one by one from now on
        sent = await _apply_inbox(bus, leader)
        assert sent == 1 and "v0" not in leader.reach.visitor_sockets

        await presence.reannounce()  # a new leader (of the new version, this time): batches again
        monkeypatch.setattr(router_commands, "decode", _decode)
        assert await _apply_inbox(bus, leader) == 1
        await presence.announce(customers[1], False)
        assert await _apply_inbox(bus, leader) == 1
        assert "v1" not in leader.reach.visitor_sockets
    assert "does not read presence batches" in caplog.text
