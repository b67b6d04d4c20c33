"""The wall's weight: bytes one supervisor's socket receives per agent state change and per
minute, now that the wall is one whole wall then deltas, beside main's whole wall per
publication, in the same run.

A real ``otodesk serve`` (one process: SQLite, the memory bus) with ``--agents`` agents
(1,000) connected on their desks (bot sockets, minted session cookies) and available in four
queues, two skills each, and one supervisor's socket: a raw websocket whose every frame is
counted in bytes as received. Then ``--changes`` agent state changes, one every
``--interval`` seconds, each acknowledged: an agent goes away ("Break"), later available
again. The window runs from the first change to ``SETTLE`` seconds after the last.

The baseline, measured in the same run: main publishes a whole ``wall`` at every publication,
on the same schedule as now (at most one a second, at least one every 5 s); so at each wall
message the socket receives, the wall the page shows then (the whole wall and the deltas
since, applied as the page applies them) encoded as main's ``wall`` frame (``type``, ``at``,
``queues``, ``agents``, ``history``, ``seq``) is what main would have sent. At the end, checked:
the wall rebuilt from the deltas is the one a supervisor joining now is welcomed with; and a
whole ``wall`` asked for (``wall_resync``) is weighed over the socket.

    .venv/bin/python -m bench.wall [--agents 1000] [--changes 120] [--interval 0.5]

About 2.5 minutes with the defaults (most of it connecting the agents). Never passes or fails on
a figure. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import websockets
from argon2 import PasswordHasher

from bench.common import free_port
from desktop.auth.tokens import SESSION_COOKIE, Signer
from desktop.repository.repository import Repository
from signaling.client import AgentBot, SupervisorBot
from signaling.protocol import wall_delta
from tests.helpers.server import ServerProcess

QUEUES = ("sales", "support", "billing", "tech")
PASSWORD = "bench-password"
SETTLE = 3.0         # seconds after the last change for its delta (and the next refresh) to arrive
TARGET_BYTES = 5 * 1024  # issue 15: at most 5 KB per agent state change with 1,000 agents
_encode = msgspec.json.Encoder().encode


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def seed(url: str, agents: int) -> tuple[list[tuple[str, str]], tuple[str, str]]:
    """The queues, ``agents`` agents and a supervisor, each with an open staff session:
    ([(agent id, session id)], (supervisor id, session id))."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    async with Repository.open(url, upgrade=True, password_hasher=cheap) as repo:
        for name in QUEUES:
            await repo.upsert_queue(name, title=name.title(), skills=[name], service_level_target=20)

        async def add(i: int, role: str = "agent") -> tuple[str, str]:
            record = await repo.add_agent(f"bench{i:05d}" if role == "agent" else "boss", PASSWORD,
                                          display_name=f"Bench Agent {i}", role=role,
                                          skills=[QUEUES[i % 4], QUEUES[(i + 1) % 4]] if role == "agent" else [])
            session_id = secrets.token_urlsafe(16)
            await repo.open_staff_session(session_id, record.id, now=time.time(), max_age=24 * 3600)
            return record.id, session_id

        made = []
        for start in range(0, agents, 100):
            made += await asyncio.gather(*(add(i) for i in range(start, min(agents, start + 100))))
        return made, await add(0, "supervisor")


class WallSocket:
    """The supervisor's socket, raw: each frame's bytes and what the page would show."""

    def __init__(self, url: str, cookie: str):
        self.url, self.cookie = url, cookie
        self.view = wall_delta.WallView()
        #: (monotonic s, bytes received, type, bytes main's whole wall would have been)
        self.frames: list[tuple[float, int, str, int]] = []
        self.gaps = 0

    async def start(self) -> None:
        self.ws = await websockets.connect(self.url, additional_headers={"Cookie": self.cookie}, max_size=2**24)
        await self.ws.send(json.dumps({"type": "hello", "last_seq": None}))
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            size = len(text.encode() if isinstance(text, str) else text)
            message = json.loads(text)
            kind, baseline = message.get("type"), 0
            if kind in ("welcome", "wall", "wall_delta"):
                if self.view.take(message) is wall_delta.Taken.GAP:
                    self.gaps += 1
                elif self.view.wall is not None and kind != "welcome":
                    baseline = len(_encode({"type": "wall", **self.view.wall, "seq": message.get("seq")}))
            self.frames.append((time.monotonic(), size, kind, baseline))

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()


async def agent_bot(base_url: str, signer: Signer, agent_id: str, session_id: str) -> AgentBot:
    bot = AgentBot(base_url, headers={"Cookie": f"{SESSION_COOKIE}={signer.session_token(agent_id, session_id)}"})
    await bot.connect()
    await bot.command("set_state", state="available", timeout=60)
    bot.messages.clear()  # its own frames are not measured; keep the bench's memory flat
    return bot


def raise_open_file_limit(needed: int) -> None:
    """Two sockets an agent (here and in the server, which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        log(f"warning: open-file limit below the {needed} sockets needed; expect failures")


async def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    raise_open_file_limit(args.agents + 200)
    secret = secrets.token_urlsafe(16)
    db_url = f"sqlite+aiosqlite:///{tmp / 'wall.db'}"
    log(f"seeding {args.agents} agents...")
    agents, supervisor = await seed(db_url, args.agents)
    server = ServerProcess(tmp / "var", port=free_port(), seed=False, log_dir=tmp,
                           env={"OTODESK_DATABASE_URL": db_url, "OTODESK_SECRET_KEY": secret}).start()
    signer, bots = Signer(secret), []
    try:
        log(f"connecting {args.agents} agents, available...")
        started = time.perf_counter()
        for start in range(0, len(agents), 50):
            bots += await asyncio.gather(*(agent_bot(server.base_url, signer, *agent)
                                           for agent in agents[start:start + 50]))
        log(f"  {time.perf_counter() - started:.1f} s")
        cookie = f"{SESSION_COOKIE}={signer.session_token(*supervisor)}"
        wall = WallSocket(server.base_url.replace("http", "ws") + "/ws/supervisor", cookie)
        await wall.start()
        await asyncio.sleep(SETTLE)  # the agents' last changes are on the wall
        assert wall.view.wall is not None and len(wall.view.wall["agents"]) == args.agents, "not every agent on the wall"
        whole = len(_encode({"type": "wall", **wall.view.wall, "seq": 0}))

        log(f"{args.changes} state changes, one every {args.interval} s...")
        begin, first = time.monotonic(), len(wall.frames)
        movers = bots[:: max(1, len(bots) // max(1, args.changes // 2))]
        for n in range(args.changes):
            bot = movers[(n // 2) % len(movers)]
            fields = {"state": "away", "reason": "Break"} if n % 2 == 0 else {"state": "available"}
            await bot.command("set_state", **fields, timeout=30)
            await asyncio.sleep(max(0.0, begin + (n + 1) * args.interval - time.monotonic()))
        await asyncio.sleep(SETTLE)
        end = time.monotonic()
        frames = [frame for frame in wall.frames[first:] if frame[0] <= end]

        # The wall rebuilt from the deltas is the one a joiner gets; a whole wall asked for, weighed.
        joiner = SupervisorBot(server.base_url, headers={"Cookie": cookie})
        await joiner.connect()
        while (joiner.view.term, joiner.view.wall_seq) != (wall.view.term, wall.view.wall_seq):
            await asyncio.sleep(0.05)
        consistent = joiner.view.wall == wall.view.wall and wall.gaps == 0
        await joiner.close()
        mark = len(wall.frames)
        await wall.ws.send(json.dumps({"type": "wall_resync", "id": "bench"}))
        while not [f for f in wall.frames[mark:] if f[2] == "wall"]:
            await asyncio.sleep(0.05)
        asked = next(f[1] for f in wall.frames[mark:] if f[2] == "wall")
        await wall.close()
    finally:
        for bot in bots:
            await bot.close()
        server.stop()

    seconds = end - begin
    walls = [f for f in frames if f[2] in ("wall", "wall_delta")]
    deltas = [f[1] for f in walls if f[2] == "wall_delta"]
    received, baseline = sum(f[1] for f in frames), sum(f[3] for f in walls)
    return {
        "agents": args.agents, "changes": args.changes, "window_s": round(seconds, 1),
        "whole_wall_bytes": whole, "asked_whole_wall_bytes": asked,
        "wall_messages": len(walls), "deltas": len(deltas), "whole_walls": len(walls) - len(deltas),
        "bytes_per_change": round(received / args.changes), "baseline_bytes_per_change": round(baseline / args.changes),
        "delta_bytes_per_change": round(sum(deltas) / args.changes),
        "bytes_per_minute": round(received / seconds * 60), "baseline_bytes_per_minute": round(baseline / seconds * 60),
        "ratio_baseline_to_deltas": round(baseline / received, 1),
        "delta_bytes_p50": round(statistics.median(deltas)) if deltas else None,
        "delta_bytes_max": max(deltas, default=None),
        "target_bytes_per_change": TARGET_BYTES, "target_met": received / args.changes <= TARGET_BYTES,
        "consistent": consistent,
    }


def report(results: dict[str, Any]) -> None:
    r = results
    log(f"\n{r['agents']} agents, {r['changes']} state changes over {r['window_s']} s")
    log(f"  a whole wall: {r['whole_wall_bytes']:,} B (one asked for over the socket: {r['asked_whole_wall_bytes']:,} B)")
    log(f"  wall messages received: {r['wall_messages']} ({r['deltas']} deltas, {r['whole_walls']} whole); "
        f"delta p50 {r['delta_bytes_p50']} B, max {r['delta_bytes_max']} B")
    log(f"  per agent state change: {r['bytes_per_change']:,} B (main: {r['baseline_bytes_per_change']:,} B; "
        f"target <= {r['target_bytes_per_change']:,} B: {'met' if r['target_met'] else 'NOT met'}); "
        f"the deltas alone {r['delta_bytes_per_change']:,} B, the rest the minute's whole wall")
    log(f"  per minute: {r['bytes_per_minute']:,} B (main: {r['baseline_bytes_per_minute']:,} B); "
        f"main sends x{r['ratio_baseline_to_deltas']}")
    log(f"  the wall rebuilt from deltas is a joiner's, no gap: {r['consistent']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.wall", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=120)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between state changes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="otodesk-bench-wall-") as tmp:
        results = asyncio.run(measure(args, Path(tmp)))
    report(results)
    print(json.dumps(results), flush=True)
    return results


if __name__ == "__main__":
    main()
