"""bench.scale's bots, in processes of their own: each drives its share of the sockets with
asyncio and answers the bench over a pipe, one request and one reply at a time.

A ``load`` process holds agents (they answer every offer: accept, end, wrap up, and note when
they read it) and waiting customers; the ``probe`` process holds the callers, the supervisor's
socket and the echo probe. Times are ``time.perf_counter`` (CLOCK_MONOTONIC on Linux, so the
bench can compare them across processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import time
import traceback
from typing import Any, Callable

from websockets.frames import Opcode

from bench.offer_latency import (BENCH_QUEUE, SAMPLE_TIMEOUT, Bots, EchoServer, SetupStats, command_with_retry,
                                 gather_in_batches)
from desktop.auth.tokens import SESSION_COOKIE
from signaling.client import ProtocolClient, SupervisorBot

__all__ = ["Workers"]

DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


class Answering(Bots):
    """Agents that answer every offer and note when they read it and each ``agent_state``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.offered: dict[str, float] = {}  # the call's name -> when its offer was read
        #: the call's name -> (read at, the servers' stamps: callback created, offer made), all
        #: on the wall clock (time.time: the servers' clock, one for the machine)
        self.stamps: dict[str, tuple[float, float, float]] = {}
        self.state_reads: list[float] = []
        self.failures: list[str] = []
        self._tasks: set[asyncio.Task] = set()

    def _agent_message(self, bot, message: dict[str, Any]) -> None:
        if message.get("type") == "agent_state":
            self.state_reads.append(message["_rx"])
        elif message.get("type") == "offer":
            card = message["offer"]
            self.offered[card["callback"]["name"]] = message["_rx"]
            read_at = message["_rx"] + time.time() - time.perf_counter()
            self.stamps[card["callback"]["name"]] = (read_at, card["callback"]["created_at"], card["offered_at"])
            task = asyncio.get_running_loop().create_task(self._answer(bot, card))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, bot, card: dict[str, Any]) -> None:
        try:
            await bot.command("accept", offer_id=card["offer_id"], timeout=SAMPLE_TIMEOUT)
            await bot.command("end", callback_id=card["callback_id"], timeout=SAMPLE_TIMEOUT)
            await bot.command("wrap_up", callback_id=card["callback_id"], disposition="Resolved",
                              timeout=SAMPLE_TIMEOUT)
        except Exception as exc:  # reported to the bench, which prints it
            self.failures.append(f"{card['callback']['name']}: {exc!r}")


class Load:
    """Agents and waiting customers."""

    def __init__(self, config: dict[str, Any]):
        self.bots = Answering(config["url"], config["url"], config["secret"], config["concurrency"])

    async def connect(self, agents: list[list[str]], waiting: list[int]) -> dict[str, Any]:
        SetupStats.not_ready_retries = 0
        await gather_in_batches(lambda i: self.bots.waiting_customer(waiting[i]), len(waiting), "waiting")
        await gather_in_batches(lambda i: self.bots.agent(*agents[i], "minted"), len(agents), "agents")
        return {"not_ready": SetupStats.not_ready_retries}

    async def sync(self) -> None:
        await command_with_retry(self.bots.agents[-1], "set_state", state="available")

    async def freeze(self) -> None:
        freeze()

    async def report(self) -> dict[str, Any]:
        return {"offered": self.bots.offered, "stamps": self.bots.stamps, "state_reads": self.bots.state_reads,
                "failures": self.bots.failures, "stray": self.bots.stray_offers}

    async def close(self) -> None:
        await self.bots.close()


class Tally(list):
    """The supervisor's messages without their bodies (a wall of 10,000 agents is ~2 MB)."""

    def __init__(self) -> None:
        super().__init__()
        self.walls: list[tuple[float, int]] = []  # (read at, agents in it)

    def append(self, message: dict[str, Any]) -> None:
        now = time.perf_counter()
        if message.get("type") == "wall":
            self.walls.append((now, len(message.get("agents") or ())))
        super().append({"type": message.get("type"), "id": message.get("id"), "_rx": now})


def count_reads(socket) -> list[tuple[float, int, int]]:
    """Wrap a websockets connection's protocol: for every chunk read, (when, bytes on the wire,
    bytes of the data frames it completed, decompressed)."""
    protocol, reads, wire = socket.protocol, [], [0]
    receive, events = protocol.receive_data, protocol.events_received

    def receive_data(data: bytes) -> None:
        wire[0] += len(data)
        receive(data)

    def events_received():
        frames = events()
        reads.append((time.perf_counter(), wire[0], sum(len(f.data) for f in frames if f.opcode in DATA)))
        wire[0] = 0
        return frames

    protocol.receive_data, protocol.events_received = receive_data, events_received
    return reads


class Probe:
    """The callers, the supervisor and the echo probe."""

    def __init__(self, config: dict[str, Any]):
        self.url = config["url"]
        self.bots = Bots(self.url, self.url, config["secret"], config["concurrency"])
        self.calling: list = []
        self.supervisor: SupervisorBot | None = None
        self.reads: list[tuple[float, int, int]] = []

    async def echo(self, port: int, count: int) -> list[float]:
        echo = EchoServer()
        echo.port = port
        return await echo.round_trips(count)

    async def supervise(self, agent_id: str, session_id: str) -> None:
        cookie = f"{SESSION_COOKIE}={self.bots.signer.session_token(agent_id, session_id)}"
        self.supervisor = SupervisorBot(self.url, headers={"Cookie": cookie})
        self.supervisor.messages = Tally()
        await self.supervisor.connect()
        self.reads = count_reads(self.supervisor._socket)

    async def callers(self, count: int) -> None:
        self.calling = await gather_in_batches(lambda i: self.bots.customer(), count, "callers")

    async def freeze(self) -> None:
        freeze()

    async def calls(self, label: str, warmup: int, echo_port: int, pause: float) -> dict[str, Any]:
        """Each caller calls once, one in flight: [(name, sent at, ack read at, counted, sent at on
        the wall clock)], and the echo probe's round trips meanwhile (every 20 ms: the machine's
        noise)."""
        echo, stop, rows = EchoServer(), asyncio.Event(), []
        echo.port = echo_port
        probe = asyncio.create_task(echo.round_trips(10**9, warmup=0, spacing=0.02, stop=stop))
        try:
            for index, customer in enumerate(self.calling):
                name, start = f"{label}-{index}", customer.mark()
                sent, sent_wall = time.perf_counter(), time.time()
                ack = await customer.command("call_me", name=name, queue=BENCH_QUEUE, channel="browser",
                                             timeout=SAMPLE_TIMEOUT)
                await customer.wait_for("callback_status", lambda m: m["callback"]["state"] == "completed",
                                        start=start, timeout=SAMPLE_TIMEOUT)
                rows.append((name, sent, ack["_rx"], index >= warmup, sent_wall))
                await asyncio.sleep(pause)  # the agent's wrap-up reaches the router before the next call
        finally:
            stop.set()
            probe_ms = await probe
        return {"rows": rows, "echo_probe": probe_ms}

    async def wall(self) -> dict[str, Any]:
        return {"reads": self.reads, "walls": self.supervisor.messages.walls}

    async def close(self) -> None:
        if self.supervisor is not None:
            self.bots.all.append(self.supervisor)
        await self.bots.close()


def freeze() -> None:
    """Thousands of bots: keep this process's full GC passes out of the measured calls."""
    gc.collect()
    gc.freeze()


async def _serve(kind: str, config: dict[str, Any], pipe) -> None:
    driver = (Load if kind == "load" else Probe)(config)
    try:
        while True:
            try:
                op, kwargs = await asyncio.to_thread(pipe.recv)
            except EOFError:  # the bench is gone
                return
            if op == "stop":
                return
            try:
                reply = ("ok", await getattr(driver, op)(**kwargs))
            except Exception:
                reply = ("error", traceback.format_exc())
            await asyncio.to_thread(pipe.send, reply)
    finally:
        await driver.close()


def _main(kind: str, config: dict[str, Any], pipe) -> None:
    # As browsers, which send no ping frames: 20,000 bots pinging every 20 s made each server
    # answer ~1,000 pings a second through nginx (~10 % of its samples at 10,000 + 10,000), a load
    # no desk or widget makes. The servers' own keep-alive pings (heartbeat_interval) go on.
    ProtocolClient.ping_interval = None
    with contextlib.suppress(ImportError):
        import uvloop  # the servers' event loop
        uvloop.install()
    asyncio.run(_serve(kind, config, pipe))


class Worker:
    """One bot process, from the bench's side."""

    def __init__(self, name: str, kind: str, config: dict[str, Any]):
        context = multiprocessing.get_context("spawn")
        self.name = name
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=_main, args=(kind, config, theirs), name=name, daemon=True)
        self.process.start()
        theirs.close()
        self.lock = asyncio.Lock()

    async def ask(self, op: str, **kwargs: Any) -> Any:
        async with self.lock:
            await asyncio.to_thread(self.pipe.send, (op, kwargs))
            status, value = await asyncio.to_thread(self._reply)
        if status == "error":
            raise RuntimeError(f"bot process {self.name}, {op}:\n{value}")
        return value

    def _reply(self) -> tuple[str, Any]:
        while not self.pipe.poll(1.0):
            if not self.process.is_alive():
                raise RuntimeError(f"bot process {self.name} died (exit code {self.process.exitcode})")
        return self.pipe.recv()

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.pipe.send(("stop", {}))

    def join(self, timeout: float) -> None:
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)


class Workers:
    """``count`` load processes and the probe."""

    def __init__(self, count: int, config: dict[str, Any]):
        self.load = [Worker(f"bots-{i}", "load", config) for i in range(count)]
        self.probe_worker = Worker("probe", "probe", config)

    async def probe(self, op: str, **kwargs: Any) -> Any:
        return await self.probe_worker.ask(op, **kwargs)

    async def load_all(self, op: str, kwargs_for: Callable[[int, int], dict[str, Any]]) -> list[Any]:
        """The same request to every load process; ``kwargs_for(index, count)`` gives each its share."""
        count = len(self.load)
        return await asyncio.gather(*(w.ask(op, **kwargs_for(i, count)) for i, w in enumerate(self.load)))

    def pids(self) -> list[int]:
        return [w.process.pid for w in (*self.load, self.probe_worker) if w.process.pid]

    def stop(self) -> None:
        """Ask every process to close its bots, then wait for them (a minute at most)."""
        workers = (*self.load, self.probe_worker)
        for worker in workers:
            worker.ask_to_stop()
        deadline = time.monotonic() + 60
        for worker in workers:
            worker.join(max(1.0, deadline - time.monotonic()))
