"""Co-browse relay: N customer bots streaming rrweb batches to N viewers through the hub,
against the same load through a bare ``websockets`` relay, in the same run (prints figures).

Each customer bot sends ``--rate`` batches a second (default 10, the widget's 100 ms
batching) replaying a recorded stream (``--stream``, a JSON list of event batches such as
``bench/cobrowse_browser.py --save-stream`` writes; without it, synthetic batches of the
same shape: mouse moves, an input, a small mutation, ~150-600 bytes). Every batch carries
a custom rrweb event (type 5) with the send time; the viewer reading it computes the relay
latency (``time.monotonic`` is one clock for every process of the machine).

1. **otodesk**: one ``otodesk demo`` process (SQLite, in-memory bus). Customers are
   put in the ``sharing`` state with ``cobrowse_resume`` and a share token minted with the
   server's secret (``OTODESK_SECRET_KEY``, set for the run): the consent exchange is not
   what is measured. Viewers are sockets of the supervisor ``sam`` sending
   ``cobrowse_view``.
2. **bare**: a ``websockets`` server (own process, uvloop when installed, like uvicorn) that
   forwards each customer frame to its viewer, nothing else.

The bots run in ``--bots`` processes of their own (default 2), so one bot process is not
what limits. On a machine shared with other work, throughput and latency depend on the
load; the server's **CPU time per relayed frame** (utime + stime of its process from
``/proc/<pid>/stat``, read at the start and end of the measuring window) does much less, and
``5000 × that`` is the share of one core that 500 sessions × 10 batches/s need.

Printed: delivered events/s, batches/s, p50/p99 relay latency, server CPU per frame and
the server's cores in use, for each; the ratio of otodesk's throughput to the bare relay's;
last line one JSON object (units in the keys). Target from the issue: 500 sessions × 10
batches/s, p99 ≤ 50 ms, ≥ 0.8 of the bare relay's throughput. Never passes or fails on time.

``--profile FILE`` runs ``py-spy record`` on the hub's process during the window (collapsed
stacks, for ``flamegraph.pl`` or speedscope).

Usage: ``.venv/bin/python -m bench.cobrowse_relay [--sessions 100] [--seconds 10] [--bots 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import msgspec
import websockets
from itsdangerous import URLSafeTimedSerializer

from bench.common import cpu_seconds, free_port
from desktop.demo.seed import DEMO_PASSWORD
from desktop.auth.tokens import Signer
from signaling.client import login_cookie
from tests.helpers.server import running_server

BARE_RELAY = textwrap.dedent('''
    import asyncio, sys
    import websockets
    try:
        import uvloop; uvloop.install()
    except ImportError:
        pass
    viewers = {}
    async def handler(ws):
        kind, _, session = ws.request.path.strip("/").partition("/")
        if kind == "v":
            viewers[session] = ws
            await ws.wait_closed()
            return
        async for message in ws:
            viewer = viewers.get(session)
            if viewer is not None:
                try:
                    await viewer.send(message)
                except websockets.ConnectionClosed:
                    pass
    async def main():
        async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1]), max_size=2**22, compression=None):
            await asyncio.Future()
    asyncio.run(main())
''')

CONNECT = {"max_size": 2**22, "compression": None}
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def synthetic_stream(count: int = 200) -> list[list[dict]]:
    batches = []
    for i in range(count):
        moves = [{"x": 100 + (i * 7 + k) % 900, "y": 80 + (i * 5 + k) % 600, "id": 40 + k, "timeOffset": -20 * k}
                 for k in range(3)]
        batch = [{"type": 3, "timestamp": 0, "data": {"source": 1, "positions": moves}}]
        if i % 3 == 0:
            batch.append({"type": 3, "timestamp": 0, "data": {"source": 5, "text": "*" * (i % 12), "isChecked": False,
                                                              "id": 212}})
        if i % 10 == 0:
            batch.append({"type": 3, "timestamp": 0, "data": {"source": 0, "texts": [], "attributes": [
                {"id": 77, "attributes": {"class": f"cart-count bump-{i % 4}"}}], "removes": [], "adds": [
                {"parentId": 90, "nextId": None, "node": {"type": 3, "textContent": f"{i} items", "id": 5000 + i}}]}})
        batches.append(batch)
    return batches


def _stamp(batch: list[dict], now_ms: float) -> bytes:
    events = [{**event, "timestamp": now_ms} for event in batch]
    events.append({"type": 5, "timestamp": now_ms, "data": {"tag": "bench", "payload": {"sent": time.monotonic()}}})
    return _encode({"type": "cobrowse_events", "events": events})


# -- the bots: each process runs a slice of the sessions -------------------------------

class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.events = 0
        self.batches = 0


async def _customer(ws, stream: list[list[dict]], rate: float, stop_at: float, offset: int) -> None:
    interval = 1 / rate
    index = offset
    next_at = time.monotonic() + (offset % 100) / 100 * interval  # spread the sessions
    while next_at < stop_at:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        # As text, as a browser sends it.
        await ws.send(_stamp(stream[index % len(stream)], time.time() * 1000).decode())
        index += 1
        next_at += interval


async def _viewer(ws, stats: Stats, window: tuple[float, float]) -> None:
    async for text in ws:
        now = time.monotonic()
        if not window[0] <= now < window[1] or '"cobrowse_events"' not in text[:60]:
            continue
        events = _decode(text)["events"]
        stats.batches += 1
        stats.events += len(events)
        for event in events:
            if event.get("type") == 5:
                stats.latencies.append(now - event["data"]["payload"]["sent"])


async def _drain(ws) -> None:
    async for _ in ws:
        pass


async def _connect_otodesk(target: dict, index: int):
    ws_base = target["base_url"].replace("http", "ws")
    signer = Signer(target["secret"])
    shares = URLSafeTimedSerializer(target["secret"], salt="otodesk.cobrowse")
    visitor = f"bench{index:05d}{secrets.token_hex(4)}"
    c = await websockets.connect(f"{ws_base}/ws/customer", **CONNECT)
    await c.send(json.dumps({"type": "hello", "token": signer.visitor_token(visitor), "url": "http://shop.test/"}))
    await c.recv()
    token = shares.dumps({"v": visitor, "r": "bench", "a": "bench", "n": "Bench", "s": time.time()})
    await c.send(json.dumps({"type": "cobrowse_resume", "id": "r1", "token": token}))
    while json.loads(await c.recv()).get("type") != "ack":
        pass
    v = await websockets.connect(f"{ws_base}/ws/supervisor", additional_headers={"Cookie": target["cookie"]},
                                 **CONNECT)
    await v.send(json.dumps({"type": "hello"}))
    await v.recv()
    await v.send(json.dumps({"type": "cobrowse_view", "id": f"v{index}", "visitor_id": visitor}))
    return c, v


async def _connect_bare(target: dict, index: int):
    v = await websockets.connect(f"ws://127.0.0.1:{target['port']}/v/{index}", **CONNECT)
    c = await websockets.connect(f"ws://127.0.0.1:{target['port']}/c/{index}", **CONNECT)
    return c, v


async def _bot_main(target: dict, indexes: list[int], stream, rate: float, pipe) -> None:
    connect = _connect_otodesk if target["kind"] == "otodesk" else _connect_bare
    pairs = []
    for start in range(0, len(indexes), 20):  # 20 at a time: quick, without a connection storm
        pairs += await asyncio.gather(*(connect(target, i) for i in indexes[start:start + 20]))
    # The bots' own collector would pause them (seen: 100+ ms full passes) and show as relay
    # latency: what is measured is the relay, so the bots collect now and not during the run.
    gc.collect()
    gc.disable()
    loop = asyncio.get_running_loop()
    pipe.send("ready")
    started, measure_from, measure_to, stop_at = await loop.run_in_executor(None, pipe.recv)
    await asyncio.sleep(max(0.0, started - time.monotonic()))
    stats = Stats()
    viewers = [asyncio.create_task(_viewer(v, stats, (measure_from, measure_to))) for _, v in pairs]
    # The customers' own inboxes (snapshot asks, acks) are drained so they never back up.
    drains = [asyncio.create_task(_drain(c)) for c, _ in pairs]
    await asyncio.gather(*(_customer(c, stream, rate, stop_at, i) for i, (c, _) in zip(indexes, pairs)))
    await asyncio.sleep(max(0.0, measure_to - time.monotonic()) + 0.2)
    for task in viewers + drains:
        task.cancel()
    await asyncio.gather(*viewers, *drains, return_exceptions=True)
    pipe.send({"latencies": stats.latencies, "events": stats.events, "batches": stats.batches})
    await asyncio.gather(*(ws.close() for pair in pairs for ws in pair), return_exceptions=True)


def _bot(target: dict, indexes: list[int], stream, rate: float, pipe) -> None:
    try:
        import uvloop  # the same event loop as the servers, when installed
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_bot_main(target, indexes, stream, rate, pipe))


# -- one run against one server ----------------------------------------------------------

def measure(args, stream, target: dict, server_pid: int) -> dict:
    """Start the bot processes, wait until all are connected, stream, and measure the window."""
    context = multiprocessing.get_context("spawn")
    bots = []
    for b in range(args.bots):
        mine, theirs = context.Pipe()
        process = context.Process(target=_bot, args=(target, list(range(b, args.sessions, args.bots)), stream,
                                                     args.rate, theirs), daemon=True)
        process.start()
        bots.append((process, mine))
    try:
        for process, pipe in bots:
            if not pipe.poll(300) or pipe.recv() != "ready":
                raise RuntimeError("a bot process did not connect its sessions")
        started = time.monotonic() + 0.5
        measure_from = started + args.warmup
        measure_to = measure_from + args.seconds
        for _, pipe in bots:
            pipe.send((started, measure_from, measure_to, measure_to + 0.5))
        profiler = None
        time.sleep(max(0.0, measure_from - time.monotonic()))
        server_cpu, bot_cpu = cpu_seconds(server_pid), sum(cpu_seconds(p.pid) for p, _ in bots)
        if args.profile and target["kind"] == "otodesk":
            profiler = subprocess.Popen([args.py_spy, "record", "--pid", str(server_pid), "--format", "raw",
                                         "--duration", str(int(args.seconds)), "--rate", "200",
                                         "--output", str(args.profile), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(max(0.0, measure_to - time.monotonic()))
        server_cpu = cpu_seconds(server_pid) - server_cpu
        bot_cpu = sum(cpu_seconds(p.pid) for p, _ in bots) - bot_cpu
        elapsed = measure_to - measure_from
        results = [pipe.recv() for _, pipe in bots]
        if profiler is not None:
            profiler.wait(60)
    finally:
        for process, _ in bots:
            process.join(10)
            if process.is_alive():
                process.kill()
    latencies = sorted(x for r in results for x in r["latencies"]) or [float("nan")]
    batches = sum(r["batches"] for r in results)
    return {"events_s": sum(r["events"] for r in results) / elapsed, "batches_s": batches / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
            "cpu_us_per_frame": server_cpu / batches * 1e6 if batches else float("nan"),
            "server_cores": server_cpu / elapsed, "bot_cores": bot_cpu / elapsed}


def run_otodesk(args, stream) -> dict:
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as var, running_server(Path(var), env={"OTODESK_SECRET_KEY": secret}) as server:
        cookie = asyncio.run(login_cookie(server.base_url, "sam", DEMO_PASSWORD))
        target = {"kind": "otodesk", "base_url": server.base_url, "secret": secret, "cookie": cookie}
        return measure(args, stream, target, server.process.pid)


def run_bare(args, stream) -> dict:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE_RELAY, str(port)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                asyncio.run(_probe(port))
                break
            except OSError:
                time.sleep(0.1)
        return measure(args, stream, {"kind": "bare", "port": port}, process.pid)
    finally:
        process.terminate()
        process.wait(5)


async def _probe(port: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/v/probe"):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="batches a second per session")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--bots", type=int, default=2, help="bot processes")
    parser.add_argument("--only", choices=("otodesk", "bare"), help="measure one relay only")
    parser.add_argument("--stream", type=Path, help="recorded batches (JSON list of lists of events)")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the hub's process")
    args = parser.parse_args()
    args.py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    stream = json.loads(args.stream.read_text()) if args.stream else synthetic_stream()
    size = statistics.mean(len(_stamp(b, 0)) for b in stream)
    offered = args.sessions * args.rate
    print(f"{args.sessions} sessions x {args.rate:g} batches/s, {args.seconds:g} s, {args.bots} bot processes "
          f"({'recorded' if args.stream else 'synthetic'} stream, mean frame {size:.0f} B), cpus={os.cpu_count()}")
    results = {}
    if args.only != "otodesk":
        results["bare"] = run_bare(args, stream)
    if args.only != "bare":
        results["otodesk"] = run_otodesk(args, stream)
    for name, r in results.items():
        print(f"  {name:<8} {r['events_s']:7.0f} events/s {r['batches_s']:6.0f} batches/s  "
              f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
              f"server {r['cpu_us_per_frame']:5.0f} us CPU/frame ({r['server_cores']:.2f} cores; "
              f"bots {r['bot_cores']:.2f} cores)")
        print(f"           500 x 10 batches/s would need {r['cpu_us_per_frame'] * 5000 / 1e6:.2f} of one core")
    summary = {"sessions": args.sessions, "offered_batches_per_s": offered, "frame_bytes_mean": round(size)}
    for name, r in results.items():
        summary.update({f"{name}_batches_per_s": round(r["batches_s"], 1), f"{name}_events_per_s": round(r["events_s"]),
                        f"{name}_p50_ms": round(r["p50_ms"], 2), f"{name}_p99_ms": round(r["p99_ms"], 2),
                        f"{name}_cpu_us_per_frame": round(r["cpu_us_per_frame"], 1),
                        f"{name}_server_cores": round(r["server_cores"], 3),
                        f"{name}_cores_for_500x10": round(r["cpu_us_per_frame"] * 5000 / 1e6, 3)})
    if len(results) == 2:
        ratio = results["otodesk"]["batches_s"] / results["bare"]["batches_s"] if results["bare"]["batches_s"] else 0
        cost = results["otodesk"]["cpu_us_per_frame"] / results["bare"]["cpu_us_per_frame"]
        print(f"  throughput ratio otodesk / bare: {ratio:.2f} (target >= 0.8; offered {offered:.0f} batches/s); "
              f"CPU per frame otodesk / bare: {cost:.2f}")
        summary.update({"throughput_ratio": round(ratio, 3), "cpu_per_frame_ratio": round(cost, 2)})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
