"""Scale: 10,000 agent sockets and 10,000 waiting customers on two otodesk processes behind nginx.

The deployment: Debian's nginx with deploy/nginx.conf (rendered for this run's ports by
tests/helpers/nginx.py, as tests/integration/test_nginx.py runs it) in front of two
``otodesk serve`` processes (``bench.offer_latency.Server``) on a PostgreSQL database and a
Redis database index and namespace of their own (created for the run, removed after). Every
socket goes through nginx, which spreads them over both processes (no sticky sessions).

The bots run in ``--workers`` processes of their own (multiprocessing, spawn), each driving
its share of the agents and waiting customers with asyncio (``bench.offer_latency.Bots``) and
answering the bench over a pipe; one more process, the probe, holds the callers, one
supervisor's socket (``SupervisorBot``) and the echo probe. The bench's process holds no socket.
The bots send no ping frames, as browsers (the servers ping every socket every
``heartbeat_interval``, 15 s, themselves).

In order:

1. the floor: a bare ``websockets`` echo round trip (``EchoServer``), from the probe, before
   anything connects;
2. ``--first`` agents available in queue "bench" and waiting customers in the same proportion
   to ``--waiting`` in "hold" (nobody has its skill), then ``--samples`` calls (after
   ``--warmup``) timed as bench.offer_latency times them: a fresh customer's ``call_me`` sent
   -> the ``offer`` read on the agent's socket; that agent accepts, ends and wraps up; one call
   in flight, the next ``--pause`` s after the customer saw the call completed;
3. the rest, up to ``--agents`` and ``--waiting``, and the same calls again.

Also: each server's RSS per idle socket (as bench.idle_sockets: RSS 2 s after the last connect,
before and after each step's sockets; the sockets each process holds from its /metrics), the
worst event-loop lag each reported, the router lease's epoch (a change is a lost lease), and
what the supervisor's socket read of the wall: JSON and wire (permessage-deflate) bytes per
minute and per agent state change (the ``agent_state`` messages the agents read meanwhile).
Send and read are stamped in different processes with ``time.perf_counter``:
CLOCK_MONOTONIC, one clock for the whole machine on Linux.

Targets (issue 15), printed beside the figures, never failed on: offer p99 <= 50 ms at 10,000
agents; <= 40 KiB per idle socket; the wall <= 5 KB per agent state change.

Open files: raised to the hard limit for the bench and its children, as offer_latency does.
A machine that caps every process at 20,000 (no CAP_SYS_RESOURCE) needs nginx to hold its
2 x sockets (client and upstream) in ``--nginx-workers`` workers, so the listen line gets
``reuseport`` (the kernel spreads connections evenly; the one change to the shipped file).

    .venv/bin/python -m bench.scale [--agents 10000] [--waiting 10000] [--first 1000]
        [--samples 500] [--workers 4]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import _scale_bots as scale_bots
from bench.common import cpu_seconds, free_port, rss_mb, summary
from bench.offer_latency import (EchoServer, Profiler, Server, _die_with_parent, fmt, log, postgres_database,
                                 raise_open_file_limit, redis_database, seed)
from tests.helpers.nginx import NGINX, main_conf, rendered_site

TARGET_P99_MS = 50.0
TARGET_KIB_PER_SOCKET = 40.0
TARGET_WALL_BYTES_PER_CHANGE = 5000
NGINX_OPEN_FILES = 20000  # per nginx worker: this machine's hard limit


class Nginx:
    """Debian's nginx in front of the servers, from a prefix directory of its own."""

    def __init__(self, tmp: Path, port: int, upstreams: list[int], *, workers: int):
        self.tmp, self.port = tmp, port
        self.url = f"http://127.0.0.1:{self.port}"
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "site.conf").write_text(rendered_site(self.port, upstreams, listen_options="reuseport"))
        (tmp / "nginx.conf").write_text(main_conf(tmp, workers=workers, connections=NGINX_OPEN_FILES - 500,
                                                  open_files=NGINX_OPEN_FILES, access_log=False))
        self.process: subprocess.Popen | None = None

    async def start(self) -> Nginx:
        if not Path(NGINX).exists():
            raise RuntimeError("nginx is missing: `make nginx` installs Debian's")
        self.process = subprocess.Popen([NGINX, "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf"),
                                         "-e", str(self.tmp / "error.log")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        async with httpx.AsyncClient(timeout=1.0) as http:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return self
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
        raise RuntimeError(f"nginx did not start:\n{self.errors()}")

    def pids(self) -> list[int]:
        """The master and its workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *map(int, children.read_text().split())] if children.exists() else []

    def errors(self, lines: int = 20) -> str:
        path = self.tmp / "error.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()


async def snapshot(servers: list[Server]) -> dict[str, dict[str, Any]]:
    """Each server's RSS, sockets, worst loop lag since the last snapshot and lease epoch."""
    figures = {}
    async with httpx.AsyncClient(timeout=30.0) as http:
        for server in servers:
            text = (await http.get(f"{server.base_url}/metrics")).text
            value = lambda name: [float(v) for v in re.findall(  # noqa: E731
                rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)]
            figures[server.name] = {"rss_mb": rss_mb(server.pid), "sockets": sum(value("otodesk_sockets")),
                                    "lag_ms": max(value("otodesk_event_loop_lag_seconds") or [0.0]) * 1000,
                                    "leader": bool(sum(value("otodesk_leader"))),
                                    "epoch": max(value("otodesk_leader_epoch") or [0.0]),
                                    "full_gcs": sum(value('python_gc_collections_total{generation="2"}')),
                                    # The leader's router: is everyone there?
                                    "available": sum(value('otodesk_agents{state="available"}')),
                                    "waiting": sum(value('otodesk_queue_waiting{queue="hold"}')),
                                    "buckets": timed_buckets(text)}
    return figures


#: The /metrics histograms that split an offer's time (docs/operations.md), as printed: family
#: and the labels its series must carry.
TIMED = {"call_me handled": ("otodesk_ws_message_seconds", {"type": "call_me"}),
         "router inbox wait": ("otodesk_router_command_wait_seconds", {}),
         "CallbackAdded applied": ("otodesk_router_command_seconds", {"command": "CallbackAdded"}),
         "database writes": ("otodesk_db_query_seconds", {"kind": "write"}),
         "database reads": ("otodesk_db_query_seconds", {"kind": "read"}),
         "bus publishes": ("otodesk_bus_publish_seconds", {})}
TAIL_BOUNDS = ("0.01", "0.025", "0.05")


def timed_buckets(text: str) -> dict[str, dict[str, float]]:
    """what -> {le: cumulative count} of each TIMED histogram in one process's /metrics, and
    ``applied:<command>`` for every router command's apply time (which one held the inbox)."""
    out: dict[str, dict[str, float]] = {}
    for family, labels, value in re.findall(r"^(otodesk_\w+_seconds)_bucket{([^}]*)} (\S+)$", text, re.M):
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        le = pairs.pop("le")
        le = le if le == "+Inf" else str(float(le))
        whats = [what for what, (name, wanted) in TIMED.items()
                 if name == family and all(pairs.get(k) == v for k, v in wanted.items())]
        if family == "otodesk_router_command_seconds":
            whats.append(f"applied:{pairs['command']}")
        for what in whats:
            counts = out.setdefault(what, {})
            counts[le] = counts.get(le, 0.0) + float(value)
    return out


def tails(before: dict, after: dict) -> dict[str, tuple[float, dict[str, float]]]:
    """what -> (observations in the window, {bound: observations over it}), all servers added."""
    out = {}
    applied = sorted({w for name in after for w in after[name]["buckets"] if w.startswith("applied:")})
    for what in (*TIMED, *applied):
        moved: dict[str, float] = {}
        for name in after:
            for le, count in after[name]["buckets"].get(what, {}).items():
                moved[le] = moved.get(le, 0.0) + count - before[name]["buckets"].get(what, {}).get(le, 0.0)
        total = moved.get("+Inf", 0.0)
        out[what] = (total, {b: total - moved[b] for b in TAIL_BOUNDS if b in moved})
    return out


async def settled(servers: list[Server], seconds: float) -> dict[str, dict[str, Any]]:
    await asyncio.sleep(seconds)  # as bench.idle_sockets: RSS once no connection is opening
    return await snapshot(servers)


def per_socket_kib(before: dict, after: dict) -> dict[str, float | None]:
    added = {name: after[name]["sockets"] - before[name]["sockets"] for name in after}
    return {name: (after[name]["rss_mb"] - before[name]["rss_mb"]) * 1024 / added[name] if added[name] > 0 else None
            for name in after}


class Steps:
    """Both steps against a running deployment: connect, settle, call; and what was read."""

    def __init__(self, args: argparse.Namespace, servers: list[Server], nginx: Nginx,
                 bots: scale_bots.Workers, echo_port: int):
        self.args, self.servers, self.nginx, self.bots, self.echo_port = args, servers, nginx, bots, echo_port
        self.windows: dict[str, tuple[float, float]] = {}
        self.profiler = Profiler(Path(args.profile) if args.profile else None, "raw", native=True, rate=100)
        self.snapshots: dict[str, dict] = {}
        self.results: dict[str, Any] = {}

    async def run(self, agent_ids: list[tuple[str, str, str]], supervisor: tuple[str, str, str]) -> None:
        args = self.args
        self.results["echo"] = summary(await self.bots.probe("echo", port=self.echo_port, count=args.echo))
        self.snapshots["base"] = await settled(self.servers, args.settle)
        await self.bots.probe("supervise", agent_id=supervisor[0], session_id=supervisor[2])
        first_waiting = round(args.waiting * args.first / args.agents)
        done = (0, 0)
        for label, agents, waiting in (("first", args.first, first_waiting), ("scale", args.agents, args.waiting)):
            await self.step(label, agent_ids[done[0]:agents], range(done[1], waiting))
            done = (agents, waiting)

    async def step(self, label: str, agent_ids: list, waiting: range) -> None:
        args, started = self.args, time.perf_counter()
        log(f"[{label}] connecting {len(agent_ids)} more agents and {len(waiting)} more waiting customers "
            f"through nginx, over {len(self.bots.load)} bot processes...")
        connected = await self.bots.load_all("connect", lambda i, n: {
            "agents": agent_ids[i::n], "waiting": list(waiting[i::n])})
        await self.bots.probe("callers", count=args.warmup + args.samples)
        await self.bots.load[0].ask("sync")  # the router's inbox is empty once this is answered
        self.windows[f"{label}_setup"] = (started, time.perf_counter())
        log(f"[{label}] connected in {time.perf_counter() - started:.0f} s "
            f"({sum(c['not_ready'] for c in connected)} not_ready answers retried)")
        self.snapshots[f"{label}_ready"] = await settled(self.servers, args.settle)
        await self.bots.load_all("freeze", lambda i, n: {})
        await self.bots.probe("freeze")
        pids = {s.name: s.pid for s in self.servers} | {"nginx": self.nginx.pids(), "bots": self.bots.pids()}
        cpu = lambda: {k: sum(map(cpu_seconds, v if isinstance(v, list) else [v])) for k, v in pids.items()}  # noqa: E731
        cpu_before, load_before, started = cpu(), os.getloadavg()[0], time.perf_counter()
        log(f"[{label}] {args.warmup + args.samples} calls ({args.warmup} warm-up), one in flight...")
        self.profiler.start(label, {s.name: s.pid for s in self.servers})
        try:
            calls = await self.bots.probe("calls", label=label, warmup=args.warmup, echo_port=self.echo_port,
                                          pause=args.pause)
        finally:
            self.profiler.stop()
        seconds = time.perf_counter() - started
        self.windows[f"{label}_calls"] = (started, time.perf_counter())
        self.results[label] = {**calls, "seconds": seconds, "load": (load_before, os.getloadavg()[0]),
                               "cpu": {k: (v - cpu_before[k]) / seconds for k, v in cpu().items()}}
        self.snapshots[f"{label}_after"] = await settled(self.servers, args.settle)

    async def collect(self) -> None:
        """The agents' offer reads and state changes, the supervisor's reads; offers joined to calls."""
        reports = await self.bots.load_all("report", lambda i, n: {})
        offered = {name: at for r in reports for name, at in r["offered"].items()}
        stamps = {name: at for r in reports for name, at in r["stamps"].items()}
        self.results["failures"] = [f for r in reports for f in r["failures"]]
        self.results["stray_offers"] = sum(r["stray"] for r in reports)
        self.results["state_reads"] = sorted(t for r in reports for t in r["state_reads"])
        self.results["wall"] = await self.bots.probe("wall")
        for label in ("first", "scale"):
            rows = self.results[label].pop("rows")
            missing = [name for name, *_ in rows if name not in offered]
            if missing:
                raise RuntimeError(f"{len(missing)} calls completed without an offer read, e.g. {missing[:3]}")
            counted = [row for row in rows if row[3]]
            self.results[label]["offer"] = summary([(offered[n] - sent) * 1000 for n, sent, *_ in counted])
            self.results[label]["ack"] = summary([(ack - sent) * 1000 for _, sent, ack, *_ in counted])
            self.results[label]["hops"] = offer_hops(counted, stamps)

    def wall_window(self, name: str) -> dict[str, float]:
        """What the supervisor's socket read in a window, and the agents' state changes in it."""
        start, end = self.windows[name]
        reads, walls = self.results["wall"]["reads"], self.results["wall"]["walls"]
        inside = [r for r in reads if start <= r[0] < end]
        states = self.results["state_reads"]
        changes = bisect.bisect_left(states, end) - bisect.bisect_left(states, start)
        sizes = [agents for t, agents in walls if start <= t < end]
        minutes = (end - start) / 60
        payload, wire = sum(r[2] for r in inside), sum(r[1] for r in inside)
        return {"minutes": minutes, "walls": len(sizes), "agents_in_wall": max(sizes or [0]),
                "payload_bytes": payload, "wire_bytes": wire, "state_changes": changes,
                "payload_kb_per_minute": payload / 1000 / minutes, "wire_kb_per_minute": wire / 1000 / minutes,
                "payload_bytes_per_change": payload / changes if changes else None,
                "wire_bytes_per_change": wire / changes if changes else None}


#: An offer's path cut where the servers stamp it (wall clock, one for the machine): the
#: customer's process takes the call_me (the callback's created_at); the leader starts applying
#: its command (the offer's offered_at); the agent's bot reads the offer.
HOPS = {"in": "call_me sent -> the customer's process takes it",
        "route": "-> the leader applies it (callback written, told, inbox)",
        "out": "-> the agent reads the offer (offer written, card read, published, forwarded)"}


def offer_hops(rows: list[tuple], stamps: dict[str, tuple[float, float, float]]) -> dict[str, Any]:
    """Each hop's figures over the counted calls, and the eight slowest calls hop by hop."""
    per_call = []
    for name, sent, ack, _counted, sent_wall in rows:
        read_at, created_at, offered_at = stamps[name]
        hops = {"in": created_at - sent_wall, "route": offered_at - created_at, "out": read_at - offered_at}
        per_call.append(({k: v * 1000 for k, v in hops.items()}, (read_at - sent_wall) * 1000, (ack - sent) * 1000))
    slowest = sorted(per_call, key=lambda c: c[1], reverse=True)[:8]
    return {"summary": {hop: summary([c[0][hop] for c in per_call]) for hop in HOPS}, "slowest": slowest}


async def deploy_and_run(args: argparse.Namespace, tmp: Path, echo: EchoServer) -> Steps:
    secret, namespace = secrets.token_urlsafe(32), f"otodesk-bench-{secrets.token_hex(4)}"
    async with postgres_database(args.postgres_url) as database_url, \
            redis_database(args.redis_url, namespace) as redis_url, contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        agent_ids = await seed(database_url, args.agents)
        supervisor = (await seed(database_url, 1, role="supervisor", prefix="super"))[0]
        log(f"seeded {args.agents} agents and a supervisor in PostgreSQL in {time.perf_counter() - started:.0f} s")
        front = free_port()
        env = {"OTODESK_SECRET_KEY": secret, "OTODESK_DATABASE_URL": database_url, "OTODESK_REDIS_URL": redis_url,
               "OTODESK_REDIS_NAMESPACE": namespace, "OTODESK_TRUSTED_PROXIES": "127.0.0.1",
               "OTODESK_PUBLIC_ORIGINS": f"http://127.0.0.1:{front}",
               "OTODESK_DRAIN_SECONDS": "1"}  # the run is over when they stop: no need to drain
        servers = [Server(name, tmp / name, {**env, "OTODESK_PROCESS_ID": f"scale-{name}"}) for name in "AB"]
        if args.logs:  # pushed first, so it runs last: once the servers stopped, before the temp dir goes
            stack.callback(_keep_logs, Path(args.logs), [s.log_path for s in servers] + [tmp / "nginx" / "error.log"])
        for server in servers:
            stack.callback(server.stop)
        stack.push_async_exit(_logs_on_failure(servers))
        await servers[0].start()
        deadline = time.monotonic() + 30
        while not (await servers[0].health())["leader"]:  # A leads: B must not race it for the lease
            if time.monotonic() > deadline:
                raise RuntimeError("process A never took the router lease")
            await asyncio.sleep(0.1)
        await servers[1].start()
        nginx = Nginx(tmp / "nginx", front, [s.port for s in servers], workers=args.nginx_workers)
        stack.callback(nginx.stop)
        await nginx.start()
        log(f"servers and nginx up ({time.perf_counter() - started:.0f} s); starting the bot processes")
        bots = scale_bots.Workers(args.workers, {"url": nginx.url, "secret": secret,
                                                 "concurrency": max(1, args.connect_concurrency // args.workers)})
        stack.callback(bots.stop)
        steps = Steps(args, servers, nginx, bots, echo.port)
        await steps.run(agent_ids, supervisor)
        await steps.collect()
        steps.results["warnings"] = servers[0].warnings() + servers[1].warnings()
        steps.results["nginx_errors"] = nginx.errors(5)
        return steps


def _keep_logs(directory: Path, paths: list[Path]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.exists():
            shutil.copyfile(path, directory / f"{path.parent.name}-{path.name}")
    log(f"logs kept in {directory}")


def _logs_on_failure(servers: list[Server]):
    async def show(exc_type, exc, tb) -> bool:
        if exc_type is not None:
            for server in servers:
                kept = [line for line in server.tail(100000).splitlines() if " INFO uvicorn." not in line]
                log(f"--- process {server.name} log (tail, uvicorn's lines left out; whole log: "
                    f"{server.keep_log()}) ---\n" + "\n".join(kept[-40:]))
        return False
    return show


async def main(args: argparse.Namespace) -> dict[str, Any]:
    # Per process: a server holds about half the sockets (nginx spreads them), and its database and Redis
    # connections; each nginx worker and bot process holds less.
    raise_open_file_limit((args.agents + args.waiting) // 2 + 2 * (args.samples + args.warmup) + 1000)
    tmp = Path(tempfile.mkdtemp(prefix="scale-"))
    started = time.perf_counter()
    echo = EchoServer()
    try:
        await echo.start()
        steps = await deploy_and_run(args, tmp, echo)
    finally:
        echo.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return report(args, steps, time.perf_counter() - started)


def report(args: argparse.Namespace, steps: Steps, seconds: float) -> dict[str, Any]:
    results, snaps = steps.results, steps.snapshots
    echo, first_waiting = results["echo"], round(args.waiting * args.first / args.agents)
    leader = next(name for name, s in snaps["scale_after"].items() if s["leader"])
    print(f"scale: 2 otodesk processes (PostgreSQL, Redis; {leader} leads) behind nginx "
          f"({args.nginx_workers} workers), bots in {args.workers} + 1 processes; {args.samples} calls a step "
          f"after {args.warmup} warm-up, one in flight; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  echo floor (bare websockets echo server, 127.0.0.1, quiet): {fmt(echo)}")
    figures: dict[str, Any] = {"agents": args.agents, "waiting": args.waiting, "first_agents": args.first,
                               "first_waiting": first_waiting, "samples": args.samples,
                               "echo_p50_ms": round(echo["p50"], 3), "echo_p99_ms": round(echo["p99"], 3)}
    before = {"first": "base", "scale": "first_after"}
    for label, agents, waiting in (("first", args.first, first_waiting), ("scale", args.agents, args.waiting)):
        result, ready = results[label], snaps[f"{label}_ready"]
        setup, calls = steps.windows[f"{label}_setup"], steps.windows[f"{label}_calls"]
        print(f"  {agents} agents available, {waiting} customers waiting "
              f"({sum(s['sockets'] for s in ready.values()):.0f} sockets: "
              + ", ".join(f"{n} {s['sockets']:.0f}" for n, s in ready.items()) + "):")
        router = next(s for s in ready.values() if s["leader"])
        print(f"    the leader's router: {router['available']:.0f} agents available, {router['waiting']:.0f} waiting "
              "in 'hold' (its /metrics)")
        print(f"    offer         {fmt(result['offer'])}")
        print(f"    call_me ack   {fmt(result['ack'])}")
        for hop, what in HOPS.items():
            print(f"      {hop:<6} {fmt(result['hops']['summary'][hop])}  ({what})")
        print("      the slowest offers, hop by hop: " + "; ".join(
            f"{total:.1f} = " + " + ".join(f"{hop} {ms:.1f}" for hop, ms in hops.items()) + f" (ack {ack:.1f})"
            for hops, total, ack in result["hops"]["slowest"]))
        print("      server side while calling (/metrics; n, and how many took longer than 10 / 25 / 50 ms): "
              + "; ".join(f"{what} {n:.0f} (" + " / ".join(f"{over[b]:.0f}" for b in TAIL_BOUNDS if b in over) + ")"
                          for what, (n, over) in tails(ready, snaps[f"{label}_after"]).items()
                          if n and (not what.startswith("applied:") or any(over.values()))))
        print(f"    echo probe    {fmt(summary(result['echo_probe']))}  (every 20 ms during the calls: machine noise)")
        print("    CPU while calling: " + ", ".join(f"{k} {v * 100:.0f}%" for k, v in result["cpu"].items())
              + f"; load average {result['load'][0]:.1f} -> {result['load'][1]:.1f}; "
              f"setup {setup[1] - setup[0]:.0f} s, calls {calls[1] - calls[0]:.0f} s")
        kib = per_socket_kib(snaps[before[label]], ready)
        print(f"    RSS per idle socket added ({sum(v['sockets'] for v in snaps[before[label]].values()):.0f} -> "
              f"the sockets above, "
              f"settled {args.settle:.0f} s): " + ", ".join(
                  f"{n} {v:.1f} KiB ({snaps[before[label]][n]['rss_mb']:.0f} -> {ready[n]['rss_mb']:.0f} MiB)"
                  for n, v in kib.items() if v is not None) + f"  (target {TARGET_KIB_PER_SOCKET:.0f} KiB)")
        lags = {n: max(snaps[f"{label}_ready"][n]["lag_ms"], snaps[f"{label}_after"][n]["lag_ms"]) for n in kib}
        print("    worst event-loop lag (setup, calls): " + ", ".join(
            f"{n} {ready[n]['lag_ms']:.0f} / {snaps[f'{label}_after'][n]['lag_ms']:.0f} ms" for n in kib)
              + "; the collector's full passes (setup, calls): " + ", ".join(
            f"{n} {ready[n]['full_gcs'] - snaps[before[label]][n]['full_gcs']:.0f} / "
            f"{snaps[f'{label}_after'][n]['full_gcs'] - ready[n]['full_gcs']:.0f}" for n in kib))
        for path in steps.profiler.files:
            if path.name.startswith(f"{label}-") and path.exists():
                shares = profile_shares(path)
                samples = shares.pop("samples")
                print(f"    py-spy --native, {path.name.split('-')[1]} while calling: {samples} busy samples; "
                      + ", ".join(f"{what} {share * 100:.0f}%" for what, share in shares.items()))
        for window in ("setup", "calls"):
            wall = steps.wall_window(f"{label}_{window}")
            per_change = (f"{wall['payload_bytes_per_change']:.0f} B JSON, {wall['wire_bytes_per_change']:.0f} B "
                          f"on the wire per agent state change ({wall['state_changes']} changes)"
                          if wall["state_changes"] else "no agent state change")
            size = wall["payload_bytes"] / wall["walls"] / 1000 if wall["walls"] else 0
            print(f"    wall to one supervisor, {window}: {wall['walls']} walls (up to {wall['agents_in_wall']} "
                  f"agents, ~{size:.0f} KB JSON each), {wall['payload_kb_per_minute']:.0f} KB/min JSON, "
                  f"{wall['wire_kb_per_minute']:.0f} KB/min on the wire; {per_change}")
        calling = steps.wall_window(f"{label}_calls")
        figures.update({
            f"{label}_offer_p50_ms": round(result["offer"]["p50"], 3),
            f"{label}_offer_p99_ms": round(result["offer"]["p99"], 3),
            f"{label}_callme_ack_p50_ms": round(result["ack"]["p50"], 3),
            **{f"{label}_hop_{hop}_p99_ms": round(result["hops"]["summary"][hop]["p99"], 3) for hop in HOPS},
            f"{label}_echo_probe_p99_ms": round(summary(result["echo_probe"])["p99"], 3),
            f"{label}_setup_seconds": round(setup[1] - setup[0], 1),
            **{f"{label}_{n}_kib_per_idle_socket": round(v, 1) for n, v in kib.items() if v is not None},
            **{f"{label}_{n}_worst_loop_lag_ms": round(v, 1) for n, v in lags.items()},
            f"{label}_wall_json_kb_per_minute": round(calling["payload_kb_per_minute"], 1),
            f"{label}_wall_wire_kb_per_minute": round(calling["wire_kb_per_minute"], 1),
            f"{label}_wall_json_bytes_per_state_change": _rounded(calling["payload_bytes_per_change"]),
            f"{label}_wall_wire_bytes_per_state_change": _rounded(calling["wire_bytes_per_change"]),
        })
    p99, first_p99 = figures["scale_offer_p99_ms"], figures["first_offer_p99_ms"]
    figures.update(scale_over_first_p99_ratio=round(p99 / first_p99, 2),
                   scale_p99_over_echo_p99_ratio=round(p99 / echo["p99"], 1))
    wall = figures["scale_wall_json_bytes_per_state_change"]
    kib = [v for k, v in figures.items() if k.startswith("scale_") and k.endswith("_kib_per_idle_socket")]
    print(f"  targets (issue 15): offer p99 {p99:.1f} ms at {args.agents} agents vs {TARGET_P99_MS:.0f} ms: "
          f"{'met' if p99 <= TARGET_P99_MS else 'MISSED'} (x{p99 / first_p99:.2f} of {args.first} agents' "
          f"{first_p99:.1f} ms, x{p99 / echo['p99']:.0f} of the echo floor); "
          f"{max(kib or [0]):.1f} KiB per idle socket vs {TARGET_KIB_PER_SOCKET:.0f}: "
          f"{'met' if kib and max(kib) <= TARGET_KIB_PER_SOCKET else 'MISSED'}; the wall "
          f"{(wall or 0) / 1000:.1f} KB JSON per agent state change vs {TARGET_WALL_BYTES_PER_CHANGE / 1000:.0f}: "
          f"{'met' if wall is not None and wall <= TARGET_WALL_BYTES_PER_CHANGE else 'MISSED'}")
    epochs = sorted({s["epoch"] for snap in snaps.values() for s in snap.values() if s["leader"]})
    print(f"  router lease epochs seen: {epochs} ({'held throughout' if len(epochs) == 1 else 'LEADER CHANGED'}); "
          f"{len(results['failures'])} agent-side failures, {results['stray_offers']} stray offers")
    for failure in results["failures"][:5]:
        print(f"    agent: {failure}")
    for message, count in results["warnings"].most_common(8):
        print(f"    server log: {count} x {message}")
    if results["nginx_errors"].strip():
        print("    nginx error.log (last lines):\n      " + results["nginx_errors"].replace("\n", "\n      "))
    print(f"  whole run: {seconds:.0f} s")
    figures.update(leader_epochs=len(epochs), target_offer_p99_ms=TARGET_P99_MS,
                   target_kib_per_idle_socket=TARGET_KIB_PER_SOCKET,
                   target_wall_bytes_per_state_change=TARGET_WALL_BYTES_PER_CHANGE, total_seconds=round(seconds, 1))
    return figures


PROFILED = {"the collector (gc_collect_main)": "gc_collect_main", "the wall (wall_snapshot, _publish_wall)":
            r"wall_snapshot|_publish_wall", "zlib (deflate)": r"\bdeflate"}


def profile_shares(path: Path) -> dict[str, float]:
    """Of a py-spy raw profile's samples (one stack and its count a line), the share in each of PROFILED."""
    counts = {what: 0 for what in PROFILED}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        for what, pattern in PROFILED.items():
            if re.search(pattern, stack):
                counts[what] += int(count)
    return {"samples": total, **{what: count / total if total else 0.0 for what, count in counts.items()}}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10000, help="bot agents in the end, available in 'bench'")
    parser.add_argument("--waiting", type=int, default=10000, help="customers waiting in 'hold' in the end")
    parser.add_argument("--first", type=int, default=1000, help="agents of the first step (the baseline)")
    parser.add_argument("--samples", type=int, default=500, help="timed calls a step (after --warmup); p99 is the 5th slowest of 500")
    parser.add_argument("--warmup", type=int, default=20, help="calls made first in each step, not counted")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between a call's end and the next")
    parser.add_argument("--workers", type=int, default=4, help="bot processes holding agents and customers")
    parser.add_argument("--nginx-workers", type=int, default=4, help="nginx worker processes")
    parser.add_argument("--connect-concurrency", type=int, default=20,
                        help="bots connecting at once during setup, over all bot processes")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before reading RSS")
    parser.add_argument("--echo", type=int, default=2000, help="echo round trips for the floor")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy record --native both servers while calling (py-spy on PATH; slows them a little)")
    parser.add_argument("--logs", metavar="DIR", help="keep the servers' logs and nginx's error.log here")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379",
                        help="Redis server; an empty database index 1-15 is claimed for the run")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="an existing database to connect to for CREATE/DROP DATABASE")
    args = parser.parse_args(argv)
    if not 0 < args.first < args.agents:
        parser.error("--first must be at least 1 and fewer than --agents")
    if args.samples < 1 or args.workers < 1 or args.warmup < 0:
        parser.error("--samples and --workers must be at least 1, --warmup at least 0")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    async def guarded() -> dict[str, Any]:
        task = asyncio.current_task()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)  # every finally: runs
        return await main(args)

    return asyncio.run(guarded())


if __name__ == "__main__":
    arguments = parse_args()
    try:
        outcome = run(arguments)
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; cleaned up")
        sys.exit(130)
    print(json.dumps(outcome))
