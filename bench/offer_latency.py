"""Offer latency: a customer's ``call_me`` sent -> the ``offer`` on the agent's socket, in ms.

With ``--agents`` bot agents connected and available in queue "bench" and ``--waiting``
customer bots connected and waiting in queue "hold" (no agent has its skill, so they wait
for ever), a pool of fresh customer bots each sends one ``call_me`` to "bench"; the time
runs from just before the frame is sent to the moment the offered agent's socket has read
the ``offer`` (the card carries the sample's name, so the bench knows which call it is).
That agent then accepts, ends and wraps up (it is available again) before the worker
starts its next call: ``--concurrency`` calls are in flight at most (default 1), so this
measures latency, not saturation.

Measured, in the same run:

1. one process: ``otodesk serve`` with default settings (SQLite in a temp var dir,
   in-memory bus);
2. two processes: ``otodesk serve`` x2 on one PostgreSQL database (created for the run)
   and one Redis database index (claimed for the run) under a namespace of its own
   (``OTODESK_REDIS_NAMESPACE``: pub/sub channels are global to a Redis server, whatever
   the index), customers on process A (started first: it leads the router), agents on
   process B, so every command and every offer crosses Redis;
3. the floor: the round trip of a bare ``websockets`` echo server on 127.0.0.1 (its own
   process, uvloop like uvicorn) from this same client process and library, one message
   in flight, on a quiet machine; the same echo is also probed every 20 ms while the calls
   run, which shows how noisy the machine was meanwhile (the figures are only as good as
   that probe: a shared 2-CPU box with browser tests running can add 100 ms hiccups).

Also printed, to tell where the time goes: the ``call_me`` ack (customer side), the hub's
own ``ping`` round trip (no routing, no database), the ``accept`` round trip, the CPU of
every process while calling, the servers' RSS, and in Redis the size of the wall room's
replay window.

Agents are seeded through ``Repository.open(url, upgrade=True, password_hasher=cheap)``.
Their session cookies are minted with the server's own ``Signer`` and the shared
``OTODESK_SECRET_KEY`` (``--login form`` logs in through ``POST /login`` instead; slow: the
server re-hashes a cheap hash with its default argon2 parameters at first login, ~0.25 s
of CPU each). Customers get their tokens from ``POST /api/visitor`` (the servers run with
``OTODESK_NEW_VISITORS_PER_MINUTE`` lifted: every bot comes from 127.0.0.1). Everything
started is stopped, and the temp dir, the Redis keys and the PostgreSQL database are
removed, also on failure, Ctrl-C or SIGTERM (a server's log is kept in the temp directory
of the system if the run fails). Never passes or fails on time.

    .venv/bin/python -m bench.offer_latency [--agents 1000] [--waiting 1000] [--samples 400]
        [--concurrency 1] [--only one|redis] [--dump calls.csv] [--profile DIR]

About 3.5 minutes on a quiet 2-CPU machine with the defaults. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import ctypes
import gc
import json
import os
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
import websockets
from argon2 import PasswordHasher

from bench.common import ROOT, cpu_seconds, free_port, rss_mb, summary
from desktop.repository.repository import Repository
from desktop.auth.tokens import SESSION_COOKIE, Signer
from signaling.client import AgentBot, CommandFailed, CustomerBot, login_cookie

PASSWORD = "bench-password"
BENCH_QUEUE, HOLD_QUEUE = "bench", "hold"
SAMPLE_TIMEOUT = 30.0  # seconds for one offer to arrive before the bench gives up
SETUP_TIMEOUT = 60.0   # seconds for one bot's connect / command during setup
ECHO_BYTES = 850       # the echo floor's frame: about an offer's size
PING_SPACING = 0.06    # seconds between hub pings: under the 20 messages/s rate limit
TARGETS_MS = {"one_process": 25.0, "redis": 60.0}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fmt(stats: dict[str, float]) -> str:
    return (f"p50 {stats['p50']:.2f} ms, p90 {stats['p90']:.2f}, p99 {stats['p99']:.2f}, "
            f"mean {stats['mean']:.2f}, max {stats['max']:.2f} (n={stats['n']})")


def raise_open_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < needed:
        log(f"warning: open-file limit {soft} < {needed} sockets needed; expect failures")


try:  # resolved here, not in the child: the child only calls it
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def _die_with_parent() -> None:
    """In a child, between fork and exec: SIGTERM it when the bench dies (even by kill -9)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# -- processes -------------------------------------------------------------------------


class Server:
    """One ``otodesk serve`` (``python -m desktop.cli serve``) on 127.0.0.1."""

    def __init__(self, name: str, var_dir: Path, env: dict[str, str], cwd: Path = ROOT):
        self.name = name
        self.cwd = cwd  # another checkout's code (a bench's baseline in the same run)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        var_dir.mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("OTODESK_")}
        self.env = {**inherited, "OTODESK_VAR_DIR": str(var_dir), "OTODESK_HOST": "127.0.0.1",
                    "OTODESK_PORT": str(self.port), "PYTHONUNBUFFERED": "1",
                    # Every bot comes from 127.0.0.1: lift the per-address limit on new visitors.
                    "OTODESK_NEW_VISITORS_PER_MINUTE": "1000000", **env}
        self.log_path = var_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    async def start(self, timeout: float = 60.0) -> Server:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "desktop.cli", "serve"], cwd=self.cwd,
                                        env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                        preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.base_url}/healthz")).status_code == 200:
                        return self
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout} s:\n{self.tail()}")

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5.0) as http:
            return (await http.get(f"{self.base_url}/healthz")).json()

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 40) -> str:
        """The log's last lines, without uvicorn's access lines."""
        if not self.log_path.exists():
            return ""
        kept = [line for line in self.log_path.read_text(errors="replace").splitlines()
                if not line.startswith("INFO:     127.0.0.1:") and line.strip()]
        return "\n".join(kept[-lines:])

    def warnings(self) -> collections.Counter:
        """WARNING/ERROR lines of the log, counted by message (ids and numbers blurred)."""
        counts: collections.Counter = collections.Counter()
        if self.log_path.exists():
            for line in self.log_path.read_text(errors="replace").splitlines():
                match = re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) (.*)", line)
                if match:
                    counts[re.sub(r"\d+(\.\d+)?", "N", f"{match[1]} {match[2]}")[:120]] += 1
        return counts

    def keep_log(self) -> Path | None:
        """Copy the log out of the temp dir (on failure); return where."""
        if not self.log_path.exists():
            return None
        keep = Path(tempfile.gettempdir()) / f"offer_latency-{self.name}-{os.getpid()}.log"
        shutil.copyfile(self.log_path, keep)
        return keep

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; never raises (it runs in cleanup paths)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                log(f"{self.name} ignored SIGTERM for 15 s; killing it")
                self.process.kill()
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    log(f"{self.name} (pid {self.process.pid}) survived SIGKILL for 30 s")
        if getattr(self, "_log", None):
            self._log.close()


ECHO_SERVER = textwrap.dedent("""
    import asyncio, sys
    from websockets.asyncio.server import serve
    async def echo(ws):
        async for message in ws:
            await ws.send(message)
    async def main():
        async with serve(echo, "127.0.0.1", 0, max_size=2**22) as server:
            print(server.sockets[0].getsockname()[1], flush=True)
            await asyncio.get_running_loop().create_future()
    try:
        import uvloop
        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
""")


class Profiler:
    """``py-spy record`` on some pids for the duration of a block (``--profile DIR``).

    ``native``: C frames too (the collector's ``gc_collect_main``, zlib); py-spy then stops
    the process for each sample, so the run is a little slower.
    """

    def __init__(self, directory: Path | None, fmt: str, *, native: bool = False, rate: int = 250):
        self.directory = directory
        self.fmt = fmt
        self.native = native
        self.rate = rate
        self.processes: list[subprocess.Popen] = []
        self.files: list[Path] = []

    def start(self, label: str, pids: dict[str, int]) -> None:
        if self.directory is None:
            return
        spy = Path(sys.executable).with_name("py-spy")
        if not spy.exists():
            spy = Path(shutil.which("py-spy") or "py-spy")
        self.directory.mkdir(parents=True, exist_ok=True)
        suffix = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}[self.fmt]
        for name, pid in pids.items():
            out = self.directory / f"{label}-{name}-{pid}.{suffix}"
            self.files.append(out)
            self.processes.append(subprocess.Popen(
                [str(spy), "record", "--pid", str(pid), "--rate", str(self.rate), "--format", self.fmt,
                 "--output", str(out), "--threads", "--native" if self.native else "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


# -- bots ------------------------------------------------------------------------------


class Inbox(list):
    """A bot's ``messages`` that stamps each arrival (``_rx``, perf_counter) and reports it."""

    def __init__(self, on_message: Callable[[dict[str, Any]], None] | None = None):
        super().__init__()
        self.on_message = on_message

    def append(self, message: dict[str, Any]) -> None:
        message["_rx"] = time.perf_counter()
        super().append(message)
        if self.on_message is not None:
            self.on_message(message)


class SetupStats:
    not_ready_retries = 0


async def command_with_retry(bot, type_: str, **fields: Any) -> dict[str, Any]:
    """A setup command, retried with the same id while the router answers ``not_ready``.

    The server gives up on a router reply after 5 s (RouterClient.timeout) and answers
    ``not_ready``; under a setup storm the router's inbox can be that far behind.
    """
    command_id = f"setup.{secrets.token_hex(6)}"
    for attempt in range(20):
        try:
            return await bot.command(type_, id=command_id, timeout=SETUP_TIMEOUT, **fields)
        except CommandFailed as exc:
            if exc.code != "not_ready":
                raise
            SetupStats.not_ready_retries += 1
            await asyncio.sleep(1.0)
    raise RuntimeError(f"{type_}: the router stayed not_ready for 20 attempts")


class Bots:
    """All the bots of one deployment, in this process."""

    def __init__(self, customer_url: str, agent_url: str, secret_key: str, concurrency: int):
        self.customer_url = customer_url
        self.agent_url = agent_url
        self.signer = Signer(secret_key)
        self.limit = asyncio.Semaphore(concurrency)
        self.all: list[Any] = []
        self.agents: list[AgentBot] = []
        self.offers: dict[str, asyncio.Future] = {}  # sample name -> (agent, offer message)
        self.stray_offers = 0
        self._http = httpx.AsyncClient(base_url=customer_url, timeout=SETUP_TIMEOUT)

    async def close(self) -> None:
        async def close_one(bot):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot.close(), 5)
        for start in range(0, len(self.all), 200):
            await asyncio.gather(*(close_one(bot) for bot in self.all[start:start + 200]))
        self.all.clear()
        await self._http.aclose()

    async def customer(self) -> CustomerBot:
        """A new visitor (token from POST /api/visitor), connected and welcomed."""
        async with self.limit:
            for attempt in range(3):
                try:
                    response = await self._http.post("/api/visitor", json={})
                    break
                except httpx.TransportError:
                    # uvicorn closes idle keep-alive connections after 5 s; a POST that
                    # races the close is lost: take another connection.
                    if attempt == 2:
                        raise
            response.raise_for_status()
            data = response.json()
            bot = CustomerBot(self.customer_url, hello={"token": data["token"],
                                                        "url": "http://shop.test/bench", "title": "Bench"})
            bot.token, bot.visitor_id = data["token"], data["visitor_id"]
            bot.messages = Inbox()
            await asyncio.wait_for(bot.connect(), SETUP_TIMEOUT)
            self.all.append(bot)
            return bot

    async def waiting_customer(self, index: int) -> CustomerBot:
        """A customer whose call waits in "hold"; returns once the router has queued it.

        Waiting for the router's ``callback_status`` (not just the ack) keeps the setup
        closed-loop: the router's inbox never holds more than a few commands per bot
        connecting at once. (Flooding it makes the leader think live processes went
        silent: see the report.)
        """
        bot = await self.customer()
        async with self.limit:
            start = bot.mark()
            await command_with_retry(bot, "call_me", name=f"hold-{index}", queue=HOLD_QUEUE)
            await bot.wait_for("callback_status", lambda m: m["callback"]["state"] == "queued",
                               start=start, timeout=SETUP_TIMEOUT)
        return bot

    async def agent(self, agent_id: str, username: str, session_id: str, login: str) -> AgentBot:
        """Log in (minted cookie or the login form), connect, and become available."""
        async with self.limit:
            if login == "form":
                cookie = await login_cookie(self.agent_url, username, PASSWORD)
            else:
                cookie = f"{SESSION_COOKIE}={self.signer.session_token(agent_id, session_id)}"
            bot = AgentBot(self.agent_url, headers={"Cookie": cookie})
            bot.messages = Inbox(lambda message, bot=bot: self._agent_message(bot, message))
            await asyncio.wait_for(bot.connect(), SETUP_TIMEOUT)
            self.all.append(bot)
            await command_with_retry(bot, "set_state", state="available")
            self.agents.append(bot)
            return bot

    def _agent_message(self, bot: AgentBot, message: dict[str, Any]) -> None:
        if message.get("type") != "offer":
            return
        name = message["offer"]["callback"]["name"]
        future = self.offers.get(name)
        if future is None or future.done():
            self.stray_offers += 1
            return
        future.set_result((bot, message))


async def gather_in_batches(make: Callable[[int], Any], count: int, label: str) -> list[Any]:
    started = time.perf_counter()
    results: list[Any] = []
    step = 100
    for start in range(0, count, step):
        results += await asyncio.gather(*(make(i) for i in range(start, min(count, start + step))))
        if count >= 500 and (start // step) % 5 == 4:
            log(f"    {label}: {len(results)}/{count} ({time.perf_counter() - started:.1f} s)")
    return results


# -- measurements ------------------------------------------------------------------------


class EchoServer:
    """A bare ``websockets`` echo server in its own process, for the floor."""

    def __init__(self, payload_bytes: int = ECHO_BYTES):
        self.message = json.dumps({"type": "offer", "seq": 1, "pad": "x" * max(0, payload_bytes - 40)})
        self.process: subprocess.Popen | None = None
        self.port = 0

    async def start(self) -> EchoServer:
        self.process = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE,
                                        preexec_fn=_die_with_parent)
        self.port = int(await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 30))
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()

    async def round_trips(self, count: int, *, warmup: int = 200, spacing: float = 0.0,
                          stop: asyncio.Event | None = None) -> list[float]:
        """One message in flight; ``stop`` ends it early (the probe during the calls)."""
        samples = []
        async with websockets.connect(f"ws://127.0.0.1:{self.port}/", max_size=2**22) as socket:
            for i in range(warmup + count):
                if stop is not None and stop.is_set():
                    break
                started = time.perf_counter()
                await socket.send(self.message)
                json.loads(await socket.recv())
                if i >= warmup:
                    samples.append((time.perf_counter() - started) * 1000)
                if spacing:
                    await asyncio.sleep(spacing)
        return samples


async def measure_pings(bot, count: int, spacing: float) -> dict[str, float]:
    """Hub round trip (``ping`` -> ``pong``, no routing, no database), spread over time."""
    samples = []
    for _ in range(count):
        start = bot.mark()
        started = time.perf_counter()
        await bot.send({"type": "ping"})
        try:
            pong = await bot.wait_for("pong", start=start, timeout=SAMPLE_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"no pong in {SAMPLE_TIMEOUT} s; socket close code "
                               f"{bot._socket.close_code}, reason {bot._socket.close_reason!r}") from None
        samples.append((pong["_rx"] - started) * 1000)
        await asyncio.sleep(spacing)
    return summary(samples)


async def measure_offers(bots: Bots, customers: list[CustomerBot], warmup: int,
                         concurrency: int) -> dict[str, Any]:
    """Each customer calls once; time call_me -> offer on the agent's socket."""
    offer_ms: list[float] = []
    rows: list[tuple] = []  # (index, started at epoch s, offer ms, ack ms) for --dump
    leg_ms: list[float] = []
    ack_ms: list[float] = []
    accept_ms: list[float] = []
    offer_bytes: list[int] = []
    suggestions_ms: list[float] = []  # call_me -> the rules' suggestions on the agent's socket
    with_suggestions: list[int] = []  # offers whose card carried the rules' suggestions (bench.offer_rules)
    next_index = iter(range(len(customers)))

    async def worker() -> None:
        for index in next_index:
            customer = customers[index]
            name = f"sample-{index}"
            future = asyncio.get_running_loop().create_future()
            bots.offers[name] = future
            started = time.perf_counter()
            ack_task = asyncio.create_task(customer.command(
                "call_me", name=name, queue=BENCH_QUEUE, channel="browser", timeout=SAMPLE_TIMEOUT))
            try:
                agent, offer = await asyncio.wait_for(future, SAMPLE_TIMEOUT)
            except TimeoutError:
                raise RuntimeError(f"no offer for {name} within {SAMPLE_TIMEOUT} s "
                                   f"(call_me ack: {await ack_task})") from None
            ack = await ack_task
            card = offer["offer"]
            assert card["callback_id"] == ack["callback_id"], (card["callback_id"], ack)
            accept_started = time.perf_counter()
            await agent.command("accept", offer_id=card["offer_id"], timeout=SAMPLE_TIMEOUT)
            accepted = time.perf_counter()
            await agent.command("end", callback_id=card["callback_id"], timeout=SAMPLE_TIMEOUT)
            await agent.command("wrap_up", callback_id=card["callback_id"], disposition="Resolved",
                                timeout=SAMPLE_TIMEOUT)
            del bots.offers[name]
            if index >= warmup:
                offer_ms.append((offer["_rx"] - started) * 1000)
                leg_ms.append((offer["_rx"] - ack["_rx"]) * 1000)
                rows.append((index, time.time() - (time.perf_counter() - started),
                             offer_ms[-1], (ack["_rx"] - started) * 1000))
                ack_ms.append((ack["_rx"] - started) * 1000)
                accept_ms.append((accepted - accept_started) * 1000)
                offer_bytes.append(len(json.dumps({k: v for k, v in offer.items() if k != "_rx"})))
                # The rules' suggestions follow the offer in a message of their own (none without rules).
                follow = next((m for m in reversed(agent.messages) if m.get("type") == "suggestions"
                               and m.get("callback_id") == card["callback_id"]), None)
                with_suggestions.append(bool(card.get("suggestions") or (follow and follow["suggestions"])))
                if follow is not None:
                    suggestions_ms.append((follow["_rx"] - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"offer": summary(offer_ms), "ack": summary(ack_ms), "leg": summary(leg_ms),
            "accept": summary(accept_ms), "rows": rows,
            "offer_bytes": int(statistics.median(offer_bytes)), "seconds": elapsed,
            "calls_per_second": len(customers) / elapsed, "with_suggestions": sum(with_suggestions), "suggestions_ms": suggestions_ms}


async def seed(url: str, agents: int, *, role: str = "agent", prefix: str = "bench") -> list[tuple[str, str, str]]:
    """Queues "bench" and "hold", and ``agents`` accounts of ``role`` (usernames ``prefix``
    and a number) with skill "bench", each with an open desk session (a minted cookie needs
    one): [(id, username, session id)]."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    async with Repository.open(url, upgrade=True, password_hasher=cheap) as repo:
        await repo.upsert_queue(BENCH_QUEUE, title="Bench", skills=[BENCH_QUEUE], service_level_target=20)
        await repo.upsert_queue(HOLD_QUEUE, title="Hold", skills=[HOLD_QUEUE], service_level_target=20)

        async def add(i: int) -> tuple[str, str, str]:
            username = f"{prefix}{i:05d}"
            record = await repo.add_agent(username, PASSWORD, display_name=f"Bench {role.title()} {i}",
                                          role=role, skills=[BENCH_QUEUE])
            session_id = secrets.token_urlsafe(16)
            await repo.open_staff_session(session_id, record.id, now=time.time(), max_age=24 * 3600)
            return record.id, username, session_id

        return await gather_in_batches(add, agents, "seeded agents")


async def connect_bots(label: str, bots: Bots, args: argparse.Namespace,
                       agent_ids: list[tuple[str, str, str]], callers: int) -> tuple[list[CustomerBot], dict]:
    """The waiting customers, the available agents and ``callers`` fresh caller bots; returns
    the callers and the setup's seconds. Ends with the router's inbox empty."""
    t = time.perf_counter()
    log(f"  [{label}] {args.waiting} customers waiting in '{HOLD_QUEUE}'...")
    await gather_in_batches(bots.waiting_customer, args.waiting, "waiting customers")
    t_waiting = time.perf_counter() - t
    t = time.perf_counter()
    log(f"  [{label}] {len(agent_ids)} agents connecting, available in '{BENCH_QUEUE}' "
        f"({args.login} login)...")
    await gather_in_batches(lambda i: bots.agent(*agent_ids[i], args.login), len(agent_ids), "agents")
    t_agents = time.perf_counter() - t
    t = time.perf_counter()
    log(f"  [{label}] {callers} caller bots connecting...")
    bots_calling = await gather_in_batches(lambda i: bots.customer(), callers, "callers")
    t_callers = time.perf_counter() - t
    # A router round trip behind everything queued so far (set_state is a no-op for an
    # available agent): once it is answered, the router's inbox is empty.
    await command_with_retry(bots.agents[-1], "set_state", state="available")
    return bots_calling, {"waiting": t_waiting, "agents": t_agents, "callers": t_callers}


async def run_deployment(label: str, customer_server: Server, agent_server: Server, secret: str,
                         args: argparse.Namespace, agent_ids: list[tuple[str, str, str]],
                         profiler: Profiler, echo: EchoServer) -> dict[str, Any]:
    bots = Bots(customer_server.base_url, agent_server.base_url, secret, args.connect_concurrency)
    SetupStats.not_ready_retries = 0
    try:
        total = args.warmup + args.samples
        callers, setup_seconds = await connect_bots(label, bots, args, agent_ids, total)
        await asyncio.sleep(args.settle)
        # This process holds thousands of bots: keep its own full GC passes out of the figures.
        gc.collect()
        gc.freeze()
        log(f"  [{label}] setup done ({SetupStats.not_ready_retries} not_ready answers retried); "
            "hub ping on an idle agent socket...")
        ping = await measure_pings(bots.agents[0], args.pings, PING_SPACING)
        pids = {s.name: s.pid for s in dict.fromkeys((customer_server, agent_server))}
        pids["bench"] = os.getpid()
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        load_before = os.getloadavg()[0]
        profiler.start(label, {k: v for k, v in pids.items() if k != "bench"})
        log(f"  [{label}] {total} calls ({args.warmup} warm-up), {args.concurrency} in flight...")
        # The machine's own noise meanwhile: an echo round trip every 20 ms from this loop.
        stop_probe = asyncio.Event()
        probe = asyncio.create_task(echo.round_trips(10**9, warmup=0, spacing=0.02, stop=stop_probe))
        try:
            result = await measure_offers(bots, callers, args.warmup, args.concurrency)
        finally:
            profiler.stop()
            stop_probe.set()
            probe_ms = await probe
        result["cpu"] = {name: (cpu_seconds(pid) - cpu_before[name]) / result["seconds"]
                         for name, pid in pids.items()}
        result["echo_probe"] = summary(probe_ms)
        result["load"] = (load_before, os.getloadavg()[0])
        result["rss_mb"] = {name: rss_mb(pid) for name, pid in pids.items() if name != "bench"}
        result["ping"] = ping
        result["setup_seconds"] = setup_seconds
        result["stray_offers"] = bots.stray_offers
        result["not_ready_retries"] = SetupStats.not_ready_retries
        return result
    finally:
        gc.unfreeze()
        await bots.close()


async def one_process(args: argparse.Namespace, tmp: Path, profiler: Profiler,
                      echo: EchoServer) -> dict[str, Any]:
    var_dir = tmp / "one"
    url = f"sqlite+aiosqlite:///{var_dir / 'otodesk.db'}"  # what Settings picks for this var dir
    secret = secrets.token_urlsafe(32)
    t = time.perf_counter()
    agent_ids = await seed(url, args.agents)
    log(f"  [one] seeded {args.agents} agents in {time.perf_counter() - t:.1f} s")
    server = Server("one", var_dir, {"OTODESK_SECRET_KEY": secret})
    try:
        await server.start()
        result = await run_deployment("one", server, server, secret, args, agent_ids, profiler, echo)
        health = await server.health()
        result["leader"] = "one" if health["leader"] else "?"
        result["warnings"] = server.warnings()
        return result
    except BaseException:
        log(f"--- one-process server log (tail, access lines left out; whole log: "
            f"{server.keep_log()}) ---\n{server.tail()}")
        raise
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def redis_database(url: str, namespace: str):
    """Claim an empty Redis database index for the run; delete what was written there after.

    The servers also get their own ``OTODESK_REDIS_NAMESPACE``: a database index does not
    separate pub/sub channels, which are global to the Redis server.
    """
    base = url.rstrip("/")
    token = secrets.token_hex(8)
    for index in range(15, 0, -1):
        client = aioredis.Redis.from_url(f"{base}/{index}")
        try:
            if await client.set("otodesk-bench:claim", token, nx=True, ex=3600) and await client.dbsize() == 1:
                break
            if await client.get("otodesk-bench:claim") == token.encode():
                await client.delete("otodesk-bench:claim")
        except Exception:
            await client.aclose()
            raise
        await client.aclose()
    else:
        raise RuntimeError(f"no empty Redis database index 1-15 at {base}")
    try:
        yield f"{base}/{index}"
    finally:
        keys = [key for pattern in (f"{namespace}:*", "otodesk:*")
                async for key in client.scan_iter(match=pattern, count=1000)]
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start:start + 500])
        await client.delete("otodesk-bench:claim")
        await client.aclose()


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str):
    """A fresh database on the server of ``admin_url``, dropped after."""
    import asyncpg

    name = f"otodesk_bench_offer_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            prefix, _ = admin_url.rsplit("/", 1)
            yield prefix.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def wall_replay(redis_url: str, namespace: str) -> dict[str, float]:
    """What the wall room's replay window holds in Redis (the router publishes a wall a second)."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        key = f"{namespace}:replay:wall"
        count = await client.zcard(key)
        size = await client.execute_command("MEMORY", "USAGE", key, "SAMPLES", "0") or 0
        last = await client.zrange(key, -1, -1)
        return {"walls": count, "mb": size / 1e6, "last_bytes": len(last[0]) if last else 0}
    finally:
        await client.aclose()


async def two_processes(args: argparse.Namespace, tmp: Path, profiler: Profiler,
                        echo: EchoServer) -> dict[str, Any]:
    secret = secrets.token_urlsafe(32)
    namespace = f"otodesk-bench-{secrets.token_hex(4)}"
    async with postgres_database(args.postgres_url) as database_url, \
            redis_database(args.redis_url, namespace) as redis_url:
        t = time.perf_counter()
        agent_ids = await seed(database_url, args.agents)
        log(f"  [redis] seeded {args.agents} agents in PostgreSQL in {time.perf_counter() - t:.1f} s; "
            f"bus {redis_url}")
        env = {"OTODESK_SECRET_KEY": secret, "OTODESK_DATABASE_URL": database_url,
               "OTODESK_REDIS_URL": redis_url, "OTODESK_REDIS_NAMESPACE": namespace}
        a = Server("A", tmp / "A", {**env, "OTODESK_PROCESS_ID": "bench-A"})
        b = Server("B", tmp / "B", {**env, "OTODESK_PROCESS_ID": "bench-B"})
        try:
            await a.start()
            deadline = time.monotonic() + 30
            while not (await a.health())["leader"]:  # A leads: B must not race it for the lease
                if time.monotonic() > deadline:
                    raise RuntimeError("process A never took the router lease")
                await asyncio.sleep(0.1)
            await b.start()
            result = await run_deployment("redis", a, b, secret, args, agent_ids, profiler, echo)
            result["wall_replay"] = await wall_replay(redis_url, namespace)
            leaders = [s.name for s in (a, b) if (await s.health())["leader"]]
            if len(leaders) != 1:
                raise RuntimeError(f"expected one router leader, got {leaders}")
            result["leader"] = leaders[0]
            result["warnings"] = a.warnings() + b.warnings()
            return result
        except BaseException:
            for server in (a, b):
                log(f"--- process {server.name} log (tail, access lines left out; whole log: "
                    f"{server.keep_log()}) ---\n{server.tail()}")
            raise
        finally:
            a.stop()
            b.stop()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="offer-latency-"))
    profiler = Profiler(Path(args.profile) if args.profile else None, args.profile_format)
    results: dict[str, Any] = {}
    started = time.perf_counter()
    echo = EchoServer(payload_bytes=ECHO_BYTES)
    try:
        await echo.start()
        log(f"echo floor: {args.echo} round trips...")
        results["echo"] = summary(await echo.round_trips(args.echo))
        if args.only in (None, "one"):
            log("one process (SQLite, in-memory bus)...")
            results["one_process"] = await one_process(args, tmp, profiler, echo)
        if args.only in (None, "redis"):
            log("two processes (PostgreSQL, Redis bus)...")
            results["redis"] = await two_processes(args, tmp, profiler, echo)
    finally:
        echo.stop()
        profiler.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    results["seconds"] = time.perf_counter() - started
    return results


def report(args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    echo = results["echo"]
    print(f"offer latency: call_me sent by a customer bot -> offer read on the agent bot's socket; "
          f"{args.agents} agents available, {args.waiting} customers waiting, {args.samples} calls "
          f"after {args.warmup} warm-up, {args.concurrency} in flight; Python {sys.version.split()[0]}, "
          f"websockets {websockets.__version__}, {os.cpu_count()} CPUs")
    print(f"  echo floor (bare websockets echo server, 127.0.0.1, {ECHO_BYTES} B, quiet): {fmt(echo)}")
    figures: dict[str, Any] = {}
    titles = {"one_process": "one process (SQLite file, in-memory bus)",
              "redis": "two processes (PostgreSQL, Redis bus; customers on A, agents on B)"}
    for key, title in titles.items():
        result = results.get(key)
        if result is None:
            continue
        cpu = ", ".join(f"{name} {share * 100:.0f}%" for name, share in result["cpu"].items())
        rss = ", ".join(f"{name} {mb:.0f} MB" for name, mb in result["rss_mb"].items())
        setup = result["setup_seconds"]
        print(f"  {title}, router led by {result['leader']}:")
        print(f"    offer         {fmt(result['offer'])}")
        print(f"    call_me ack   {fmt(result['ack'])}  (customer socket, same clock)")
        print(f"    ack -> offer  {fmt(result['leg'])}  (the router's leg, roughly)")
        print(f"    accept ack    {fmt(result['accept'])}")
        print(f"    hub ping      {fmt(result['ping'])}  (agent socket, idle, before the calls)")
        print(f"    echo probe    {fmt(result['echo_probe'])}  (every 20 ms during the calls: machine noise)")
        print(f"    {result['calls_per_second']:.1f} calls/s end to end (call, offer, accept, end, wrap-up); "
              f"CPU while calling: {cpu}; load average {result['load'][0]:.1f} -> {result['load'][1]:.1f}; "
              f"server RSS after: {rss}")
        print(f"    offer frame {result['offer_bytes']} B; setup: {setup['waiting']:.0f} s waiting customers, "
              f"{setup['agents']:.0f} s agents, {setup['callers']:.0f} s callers; "
              f"{result['not_ready_retries']} not_ready answers retried during setup")
        if result["stray_offers"]:
            print(f"    {result['stray_offers']} offers did not match a call in flight (re-offers?)")
        for message, count in result["warnings"].most_common(8):
            print(f"    server log: {count} x {message}")
        if "wall_replay" in result:
            wall = result["wall_replay"]
            print(f"    Redis replay window of the 'wall' room: {wall['walls']} walls, {wall['mb']:.1f} MB "
                  f"(last wall {wall['last_bytes'] / 1000:.0f} KB)")
        target = TARGETS_MS[key]
        p99 = result["offer"]["p99"]
        print(f"    p99 {p99:.2f} ms vs target {target:.0f} ms: {'met' if p99 <= target else 'MISSED'}; "
              f"p99 / echo p99 = x{p99 / echo['p99']:.1f}, p50 / echo p50 = x{result['offer']['p50'] / echo['p50']:.1f}")
        figures[f"{key}_p50_ms"] = round(result["offer"]["p50"], 3)
        figures[f"{key}_p99_ms"] = round(p99, 3)
        figures[f"{key}_max_ms"] = round(result["offer"]["max"], 3)
        figures[f"{key}_callme_ack_p50_ms"] = round(result["ack"]["p50"], 3)
        figures[f"{key}_ping_p99_ms"] = round(result["ping"]["p99"], 3)
        figures[f"{key}_echo_probe_p99_ms"] = round(result["echo_probe"]["p99"], 3)
        figures[f"{key}_p99_over_echo_p99_ratio"] = round(p99 / echo["p99"], 2)
    if "one_process" in results and "redis" in results:
        print(f"  ratios: one-process p99 / echo p99 = x{figures['one_process_p99_over_echo_p99_ratio']}, "
              f"Redis p99 / echo p99 = x{figures['redis_p99_over_echo_p99_ratio']}, "
              f"Redis p99 / one-process p99 = x{figures['redis_p99_ms'] / figures['one_process_p99_ms']:.2f}")
    figures["echo_p50_ms"] = round(echo["p50"], 4)
    figures["echo_p99_ms"] = round(echo["p99"], 4)
    figures.update(agents=args.agents, waiting=args.waiting, samples=args.samples,
                   warmup=args.warmup, concurrency=args.concurrency,
                   total_seconds=round(results["seconds"], 1))
    print(f"  whole run: {results['seconds']:.0f} s")
    if args.dump:
        with open(args.dump, "w") as out:
            out.write("deployment,index,started_at_epoch_s,offer_ms,ack_ms\n")
            for key in titles:
                for row in results.get(key, {}).get("rows", []):
                    out.write(f"{key},{row[0]},{row[1]:.6f},{row[2]:.3f},{row[3]:.3f}\n")
        print(f"  samples written to {args.dump}")
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="bot agents, available in 'bench'")
    parser.add_argument("--waiting", type=int, default=1000, help="customer bots waiting in 'hold'")
    parser.add_argument("--samples", type=int, default=400, help="timed calls (after --warmup)")
    parser.add_argument("--warmup", type=int, default=20, help="calls made first and not counted")
    parser.add_argument("--concurrency", type=int, default=1, help="calls in flight at most")
    parser.add_argument("--connect-concurrency", type=int, default=20,
                        help="bots connecting / logging in at once during setup")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of quiet before measuring")
    parser.add_argument("--pings", type=int, default=100,
                        help=f"hub pings, {PING_SPACING * 1000:.0f} ms apart (the hub allows 20 messages/s)")
    parser.add_argument("--echo", type=int, default=2000, help="echo round trips for the floor")
    parser.add_argument("--only", choices=("one", "redis"), help="run one deployment only")
    parser.add_argument("--login", choices=("mint", "form"), default="mint",
                        help="mint session cookies with the shared secret (default) or POST /login")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379",
                        help="Redis server; an empty database index 1-15 is claimed for the run")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="an existing database to connect to for CREATE/DROP DATABASE")
    parser.add_argument("--dump", metavar="CSV", help="write every timed call to this CSV file")
    parser.add_argument("--profile", metavar="DIR", help="py-spy record the server(s) while calling")
    parser.add_argument("--profile-format", choices=("flamegraph", "raw", "speedscope"), default="flamegraph")
    args = parser.parse_args(argv)
    if args.agents < 1 or args.samples < 1:
        parser.error("--agents and --samples must be at least 1")
    if args.agents < args.concurrency:
        parser.error("need at least as many agents as calls in flight")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_open_file_limit(2 * (args.agents + args.waiting + args.samples + args.warmup) + 200)

    async def guarded() -> dict[str, Any]:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)  # run every finally: block, then exit
        return await main(args)

    return asyncio.run(guarded())


if __name__ == "__main__":
    arguments = parse_args()
    try:
        outcome = run(arguments)
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; cleaned up")
        sys.exit(130)
    print(json.dumps(report(arguments, outcome)))
