"""The wall as one whole wall then deltas across two processes on the real Redis and
PostgreSQL: a supervisor on the process that does not lead follows an agent on the other by
deltas; a supervisor joining on either process starts from the same wall; ``wall_resync``
brings a whole one; after ``kill -9`` of the leader the new leader's term starts with a whole
wall and its deltas follow, with no gap and no delta applied to another term's wall."""

from __future__ import annotations

import json
import time

import pytest

from desktop.demo.seed import DEMO_PASSWORD
from signaling.client import AgentBot, SupervisorBot
from tests.integration.test_two_processes import cluster, wait_until  # noqa: F401  (the two-process fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def _state(wall: dict, username: str) -> str | None:
    return next((row["state"] for row in wall["agents"] if row["username"] == username), None)


def _frames(bot: SupervisorBot, kind: str, since: int = 0) -> list[dict]:
    return [m for m in bot.messages[since:] if m.get("type") == kind]


async def _same_wall(first: SupervisorBot, second: SupervisorBot) -> None:
    """Both show the same wall once they are at the same message of the same term."""
    async def caught_up():
        return (first.view.term, first.view.wall_seq) == (second.view.term, second.view.wall_seq)
    deadline = time.monotonic() + 10
    while not await caught_up():
        assert time.monotonic() < deadline, "the two supervisors never reached the same wall"
        await first.wait_for_wall(start=first.mark_wall(), timeout=10) if first.view.wall_seq < second.view.wall_seq \
            else await second.wait_for_wall(start=second.mark_wall(), timeout=10)
    assert first.view.wall == second.view.wall


async def test_a_supervisor_on_either_process_follows_the_wall_by_deltas_across_a_failover(cluster):  # noqa: F811
    a, b = cluster
    assert a.health()["leader"] and not b.health()["leader"]
    sam = await SupervisorBot.login(b.base_url, "sam", DEMO_PASSWORD)
    alice = await AgentBot.login(a.base_url, "alice", DEMO_PASSWORD)
    bob = await AgentBot.login(b.base_url, "bob", DEMO_PASSWORD)
    bots = [sam, alice, bob]
    try:
        assert sam.welcome["term"] and sam.walls, "the welcome shows the wall the leader published"
        term = sam.view.term

        # Alice's state, on the leader's process, reaches sam on the other by deltas only.
        mark, seen = sam.mark(), sam.mark_wall()
        await alice.command("set_state", state="available")
        await sam.wait_for_wall(lambda w: _state(w, "alice") == "available", start=seen)
        await alice.command("set_state", state="away", reason="break")
        wall = await sam.wait_for_wall(lambda w: _state(w, "alice") == "away", start=seen)
        assert next(row for row in wall["agents"] if row["username"] == "alice")["reason"] == "break"
        deltas = _frames(sam, "wall_delta", mark)
        told = {(row["username"], row["state"]) for delta in deltas for row in delta["agents"]}
        assert {("alice", "available"), ("alice", "away")} <= told  # each by a delta, not a whole wall
        assert all(len(json.dumps(delta)) < 5_000 for delta in deltas)
        numbers = [m["wall_seq"] for m in sam.messages[mark:] if m.get("type") in ("wall", "wall_delta")]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # one term, none missing

        # A supervisor joining on the leader's process starts from the same wall.
        joiner = await SupervisorBot.login(a.base_url, "sam", DEMO_PASSWORD)
        bots.append(joiner)
        assert joiner.welcome["term"] == term
        await _same_wall(sam, joiner)

        # Asked, the leader publishes a whole wall: to the one who asked, whole; to a supervisor
        # who follows, as the delta from the wall it shows (desktop/sockets/wall_relay.py).
        mark, joiner_mark = sam.mark(), joiner.mark()
        await sam.command("wall_resync")
        whole = await sam.wait_for("wall", start=mark, timeout=5)
        assert whole["term"] == term and _state(whole, "alice") == "away"
        instead = await joiner.wait_for("wall_delta", lambda m: m["wall_seq"] == whole["wall_seq"],
                                        start=joiner_mark, timeout=5)
        assert not _frames(joiner, "wall", joiner_mark) and len(json.dumps(instead)) < len(json.dumps(whole))
        await _same_wall(sam, joiner)
        assert joiner.gaps == 0

        # The leader dies: the new one's term starts with a whole wall; its deltas follow it.
        mark = sam.mark()
        a.kill()
        await wait_until(lambda: b.health()["leader"], timeout=10)
        first = await sam.wait_for("wall", lambda m: m["term"] != term, start=mark, timeout=10)
        new_walls = [m for m in sam.messages[mark:] if m.get("type") in ("wall", "wall_delta") and m["term"] != term]
        assert new_walls[0] is first  # the new term's first message is whole
        seen = sam.mark_wall()
        await bob.command("set_state", state="available")
        await sam.wait_for_wall(lambda w: _state(w, "bob") == "available", start=seen, timeout=10)
        new_term = [d for d in _frames(sam, "wall_delta", mark) if d["term"] == first["term"]]
        assert new_term and new_term[0]["wall_seq"] == first["wall_seq"] + 1
        assert sam.gaps == 0  # never a delta that did not follow

        # A supervisor joining after the failover starts from the new leader's wall.
        late = await SupervisorBot.login(b.base_url, "sam", DEMO_PASSWORD)
        bots.append(late)
        assert late.welcome["term"] == first["term"]
        await _same_wall(sam, late)
    finally:
        for bot in bots:
            await bot.close()
