"""How a process's socket announcements travel to the leader (desktop/sockets/presence.py):
together, ``PRESENCES_LIMIT`` at most a command, in the order they were made, a single one at
once (issue 15: 12,000 sockets were 12,000 commands and overflowed the router inbox)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from desktop.leader.client import RouterClient
from desktop.routing import commands
from desktop.routing.commands import PRESENCES_LIMIT, PresenceEntry, Presences
from desktop.sockets.presence import Outbox, Presence
from signaling.bus import BusClosed, BusUnavailable, open_bus
from signaling.hub import Session


def _entry(n: int, present: bool = True) -> PresenceEntry:
    return PresenceEntry(role="agent", identity=f"a{n}", socket=f"p1:{n}", present=present)


def _session(presence: Presence, role: str = "agent", identity: str = "a1") -> Session:
    return Session(role=role, room=f"{role}:{identity}", identity=identity, data={"socket": presence.key()})


# -- the outbox (pure) ----------------------------------------------------------------------------

def test_the_outbox_hands_out_its_entries_in_order_a_limit_at_a_time():
    outbox = Outbox(limit=3)
    assert outbox.add([_entry(1), _entry(2)]) == (1, 2)
    assert outbox.add([_entry(3), _entry(4), _entry(5, False), _entry(1, False)]) == (3, 6)
    assert outbox.add([]) == (7, 6)  # nothing added: an empty range
    taken = []
    while (command := outbox.take()) is not None:
        taken.append(command)
        assert len(command.entries) <= 3
    assert [e.socket for c in taken for e in c.entries] == ["p1:1", "p1:2", "p1:3", "p1:4", "p1:5", "p1:1"]
    assert [len(c.entries) for c in taken] == [3, 3]
    assert [e.present for e in taken[-1].entries] == [True, False, False]
    assert (outbox.added, outbox.taken, len(outbox)) == (6, 6, 0)


def test_the_outbox_limit_is_within_what_the_leader_reads():
    for limit in (0, PRESENCES_LIMIT + 1):
        with pytest.raises(ValueError, match="limit"):
            Outbox(limit=limit)


# -- the command's schema -------------------------------------------------------------------------

def test_presences_is_read_against_its_schema():
    command = Presences(entries=[_entry(1), PresenceEntry(role="customer", identity="v1", socket="p1:2",
                                                          present=False)])
    assert commands.decode(command.to_dict()) == command
    assert command.to_dict()["op"] == "presences"
    full = {"op": "presences", "entries": [msgspec.to_builtins(_entry(n)) for n in range(PRESENCES_LIMIT)]}
    assert len(commands.decode(full).entries) == PRESENCES_LIMIT
    for bad in ({**full, "entries": full["entries"] + [msgspec.to_builtins(_entry(0))]},  # too many
                {"op": "presences", "entries": []},
                {"op": "presences", "entries": [{**msgspec.to_builtins(_entry(1)), "role": "supervisor"}]},
                {"op": "presences", "entries": [{**msgspec.to_builtins(_entry(1)), "room": "x"}]},
                {"op": "presences", "entries": [{"role": "agent", "identity": "a1", "socket": "p1:1"}]}):
        with pytest.raises(msgspec.ValidationError):
            commands.decode(bad)


# -- Presence on the memory bus ---------------------------------------------------------------

async def _inbox(bus) -> list[dict]:
    """What the router inbox holds now (read out)."""
    found = []
    async with bus.router_inbox() as inbox:
        received = aiter(inbox)
        while True:
            try:
                found.append(await asyncio.wait_for(anext(received), 0.05))
            except TimeoutError:
                return found


async def test_a_single_socket_is_in_the_inbox_when_its_announce_returns():
    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        session = _session(presence)
        await presence.announce(session, True)
        sent = await _inbox(bus)
    assert [c["entries"] for c in sent] == [[{"role": "agent", "identity": "a1", "socket": "p1:1", "present": True}]]
    assert presence.sessions == {"p1:1": session}


async def test_sockets_opening_at_once_go_together_in_order():
    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        sessions = [_session(presence, identity=f"a{n}") for n in range(1200)]
        await asyncio.gather(*(presence.announce(s, True) for s in sessions),
                             presence.announce(sessions[0], False))  # one closes as soon as it opened
        sent = await _inbox(bus)
    assert [c["op"] for c in sent] == ["presences"] * 3
    assert [len(c["entries"]) for c in sent] == [500, 500, 201]
    entries = [e for c in sent for e in c["entries"]]
    assert [e["socket"] for e in entries] == [s.data["socket"] for s in sessions] + [sessions[0].data["socket"]]
    assert entries[0]["present"] is True and entries[-1]["present"] is False
    assert len(presence.sessions) == 1199


async def test_the_reannounce_tells_every_socket_but_supervisors():
    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1", limit=100)
        sessions = [_session(presence, role="customer", identity=f"v{n}") for n in range(250)]
        supervisor = _session(presence, role="supervisor", identity="s1")
        for session in [*sessions, supervisor]:
            await presence.announce(session, True)
        await _inbox(bus)

        await presence.reannounce()
        sent = await _inbox(bus)
    assert [len(c["entries"]) for c in sent] == [100, 100, 50]
    assert {e["socket"] for c in sent for e in c["entries"]} == {s.data["socket"] for s in sessions}
    assert supervisor.data["socket"] in presence.sessions  # kept, never announced


async def test_a_cancelled_announcer_is_still_heard():
    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        session = _session(presence)
        task = asyncio.create_task(presence.announce(session, False))
        await asyncio.sleep(0)  # queued, not sent yet
        task.cancel()
        await presence.aclose()
        sent = await _inbox(bus)
    assert [e["socket"] for c in sent for e in c["entries"]] == [session.data["socket"]]


# -- while a send is under way ----------------------------------------------------------------

class _SlowRouter:
    """A router client whose sends wait for ``gate`` (Redis busy) and may fail."""

    def __init__(self):
        self.gate = asyncio.Event()
        self.sent: list[commands.Presences] = []
        self.fail_next: Exception | None = None

    async def notify(self, command: commands.Command) -> None:
        await self.gate.wait()
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.sent.append(command)

    async def send_asking(self, command: commands.Command) -> asyncio.Future:
        await self.notify(command)
        answer = asyncio.get_running_loop().create_future()
        answer.set_result({})  # a leader that reads presences
        return answer


async def test_a_single_announce_is_sent_before_it_returns():
    router = _SlowRouter()
    router.gate.set()
    presence = Presence(router, "p1")  # type: ignore[arg-type]
    await presence.announce(_session(presence), True)
    assert [len(command.entries) for command in router.sent] == [1]  # no wait for others to join


async def test_announcements_made_during_a_send_go_together_in_the_next():
    router = _SlowRouter()
    presence = Presence(router, "p1")  # type: ignore[arg-type]
    first = asyncio.create_task(presence.announce(_session(presence, identity="a0"), True))
    await asyncio.sleep(0.01)  # its send is under way
    later = [asyncio.create_task(presence.announce(_session(presence, identity=f"a{n}"), True))
             for n in range(1, 300)]
    await asyncio.sleep(0.01)
    assert router.sent == [] and not first.done()
    router.gate.set()
    await asyncio.gather(first, *later)
    assert [len(command.entries) for command in router.sent] == [1, 299]


async def test_a_failed_send_is_raised_to_its_announcers_only():
    router = _SlowRouter()
    presence = Presence(router, "p1", limit=2)  # type: ignore[arg-type]
    router.fail_next = BusUnavailable("Redis unavailable while sending to the router: gone")
    tasks = [asyncio.create_task(presence.announce(_session(presence, identity=f"a{n}"), True)) for n in range(3)]
    await asyncio.sleep(0)
    router.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r) for r in results] == [BusUnavailable, BusUnavailable, type(None)]
    assert [e.identity for c in router.sent for e in c.entries] == ["a2"]


async def test_a_closed_bus_is_raised_to_the_announcer():
    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        await bus.close()
        with pytest.raises(BusClosed):
            await presence.announce(_session(presence), True)


# -- re-announcing to a new leader (desktop/app.py) ---------------------------------------------

class _FlakyBus:
    """The memory bus, but its first subscription fails as Redis down does."""

    def __init__(self, bus):
        self.bus, self.failures = bus, 1

    def subscribe(self, room: str):
        if self.failures:
            self.failures -= 1
            raise BusUnavailable("Redis unavailable while subscribing: gone")
        return self.bus.subscribe(room)


async def test_the_sockets_are_re_announced_to_each_new_leader_even_after_the_bus_failed():
    from desktop.app import _reannounce_on_new_leader
    from desktop.rooms import SYSTEM_ROOM
    from signaling.protocol.outbound import BusLeader

    async with open_bus(None) as bus, RouterClient(bus, "p1") as router:
        presence = Presence(router, "p1")
        session = _session(presence)
        await presence.announce(session, True)
        await _inbox(bus)
        task = asyncio.create_task(_reannounce_on_new_leader(_FlakyBus(bus), presence))
        try:
            async with bus.router_inbox() as inbox:
                received = aiter(inbox)
                # Back after the failure: a leader may have been elected meanwhile.
                first = await asyncio.wait_for(anext(received), 5)
                await bus.publish(SYSTEM_ROOM, BusLeader(owner="p2", epoch=2).to_dict())
                second = await asyncio.wait_for(anext(received), 5)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    for command in (first, second):
        assert command["entries"] == [{"role": "agent", "identity": "a1", "socket": "p1:1", "present": True}]
