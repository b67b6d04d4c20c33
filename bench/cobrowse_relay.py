"""Co-browse relay: N customer bots streaming rrweb batches to N viewers through the hub,
against the same load through a bare ``websockets`` relay, in the same run (prints figures).

Each customer bot sends ``--rate`` batches a second (default 10, the widget's 100 ms
batching) replaying a recorded stream (``--stream``, a JSON list of event batches such as
``bench/cobrowse_browser.py --save-stream`` writes; without it, synthetic batches of the
same shape: mouse moves, an input, a small mutation, ~150-600 bytes). Every batch carries
a custom rrweb event (type 5) with the send time; a viewer reading it computes the relay
latency (same process, same monotonic clock).

1. **otodesk**: one ``otodesk serve`` process (SQLite, in-memory bus). Customers are
   put in the ``sharing`` state with ``cobrowse_resume`` and a share token minted with the
   server's secret (``OTODESK_SECRET_KEY``, set for the run): the consent exchange is not
   what is measured. Viewers are sockets of the supervisor ``sam`` sending
   ``cobrowse_view``.
2. **bare**: a ``websockets`` server (own process, uvloop when installed, like uvicorn) that
   forwards each customer frame to its viewer, nothing else.

Printed: delivered events/s, batches/s, p50/p99 relay latency of each, and the ratio of
otodesk's throughput to the bare relay's. The client bots run in this one process: at
high N it is their CPU that limits, for both sides alike (compare the ratio, not the
absolute). Target from the issue: 500 sessions × 10 batches/s, p99 ≤ 50 ms, ≥ 0.8 of the
bare relay's throughput. Never passes or fails on time.

Usage: ``.venv/bin/python bench/cobrowse_relay.py [--sessions 100] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import websockets
from itsdangerous import URLSafeTimedSerializer

from desktop.repository.demo import DEMO_PASSWORD
from desktop.web.auth import Signer
from signaling.client import login_cookie
from tests.server import free_port, running_server

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


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.events = 0
        self.batches = 0

    def summary(self, seconds: float) -> dict:
        lat = sorted(self.latencies) or [float("nan")]
        return {"events_s": self.events / seconds, "batches_s": self.batches / seconds,
                "p50": statistics.median(lat) * 1000, "p99": lat[max(0, int(len(lat) * 0.99) - 1)] * 1000}


def _stamp(batch: list[dict], now_ms: float) -> str:
    events = [{**event, "timestamp": now_ms} for event in batch]
    events.append({"type": 5, "timestamp": now_ms, "data": {"tag": "bench", "payload": {"sent": time.monotonic()}}})
    return json.dumps({"type": "cobrowse_events", "events": events}, separators=(",", ":"))


async def _customer(send, stream: list[list[dict]], rate: float, stop: asyncio.Event, offset: int) -> None:
    interval = 1 / rate
    index = offset
    next_at = time.monotonic() + (offset % 100) / 100 * interval  # spread the sessions
    while not stop.is_set():
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await send(_stamp(stream[index % len(stream)], time.time() * 1000))
        index += 1
        next_at += interval


async def _viewer(ws, stats: Stats, measuring: asyncio.Event) -> None:
    async for text in ws:
        if '"cobrowse_events"' not in text[:60]:
            continue
        message = json.loads(text)
        now = time.monotonic()
        if not measuring.is_set():
            continue
        stats.batches += 1
        stats.events += len(message["events"])
        for event in message["events"]:
            if event.get("type") == 5:
                stats.latencies.append(now - event["data"]["payload"]["sent"])


async def run_otodesk(args, stream) -> dict:
    secret = secrets.token_urlsafe(32)
    env = {"OTODESK_SECRET_KEY": secret}
    with tempfile.TemporaryDirectory() as var, running_server(Path(var), env=env) as server:
        signer = Signer(secret)
        shares = URLSafeTimedSerializer(secret, salt="otodesk.cobrowse")
        cookie = await login_cookie(server.base_url, "sam", DEMO_PASSWORD)
        ws_base = server.base_url.replace("http", "ws")
        customers, viewers = [], []
        for i in range(args.sessions):
            visitor = f"bench{i:05d}{secrets.token_hex(4)}"
            c = await websockets.connect(f"{ws_base}/ws/customer", max_size=2**22, compression=None)
            await c.send(json.dumps({"type": "hello", "token": signer.visitor_token(visitor), "url": "http://shop.test/"}))
            await c.recv()
            token = shares.dumps({"v": visitor, "r": "bench", "a": "bench", "n": "Bench", "s": time.time()})
            await c.send(json.dumps({"type": "cobrowse_resume", "id": "r1", "token": token}))
            while json.loads(await c.recv()).get("type") != "ack":
                pass
            v = await websockets.connect(f"{ws_base}/ws/supervisor", max_size=2**22, compression=None,
                                         additional_headers={"Cookie": cookie})
            await v.send(json.dumps({"type": "hello"}))
            await v.recv()
            await v.send(json.dumps({"type": "cobrowse_view", "id": f"v{i}.{visitor}", "visitor_id": visitor}))
            customers.append(c)
            viewers.append(v)
        # The customers' own inboxes (snapshot asks, acks) are drained so they never back up.
        drains = [asyncio.create_task(_drain(c)) for c in customers]
        return await _measure(args, stream, [c.send for c in customers], viewers, drains)


async def _drain(ws) -> None:
    async for _ in ws:
        pass


async def run_bare(args, stream) -> dict:
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE_RELAY, str(port))
    try:
        for _ in range(100):
            try:
                probe = await websockets.connect(f"ws://127.0.0.1:{port}/v/probe")
                await probe.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        customers, viewers = [], []
        for i in range(args.sessions):
            v = await websockets.connect(f"ws://127.0.0.1:{port}/v/{i}", max_size=2**22, compression=None)
            c = await websockets.connect(f"ws://127.0.0.1:{port}/c/{i}", max_size=2**22, compression=None)
            customers.append(c)
            viewers.append(v)
        return await _measure(args, stream, [c.send for c in customers], viewers, [])
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 5)


async def _measure(args, stream, senders, viewers, extra_tasks) -> dict:
    stats = Stats()
    stop, measuring = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(_viewer(v, stats, measuring)) for v in viewers]
    tasks += [asyncio.create_task(_customer(send, stream, args.rate, stop, i)) for i, send in enumerate(senders)]
    await asyncio.sleep(args.warmup)
    measuring.set()
    started = time.monotonic()
    await asyncio.sleep(args.seconds)
    measuring.clear()
    elapsed = time.monotonic() - started
    stop.set()
    for task in tasks + extra_tasks:
        task.cancel()
    await asyncio.gather(*tasks, *extra_tasks, return_exceptions=True)
    for ws in viewers:
        await ws.close()
    return stats.summary(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="batches a second per session")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--stream", type=Path, help="recorded batches (JSON list of lists of events)")
    args = parser.parse_args()
    stream = json.loads(args.stream.read_text()) if args.stream else synthetic_stream()
    size = statistics.mean(len(_stamp(b, 0)) for b in stream)
    print(f"{args.sessions} sessions x {args.rate:g} batches/s, {args.seconds:g} s "
          f"({'recorded' if args.stream else 'synthetic'} stream, mean frame {size:.0f} B), cpus={os.cpu_count()}")
    bare = asyncio.run(run_bare(args, stream))
    hub = asyncio.run(run_otodesk(args, stream))
    for name, result in (("bare websockets", bare), ("otodesk hub", hub)):
        print(f"  {name:<16} {result['events_s']:9.0f} events/s {result['batches_s']:8.0f} batches/s   "
              f"latency p50 {result['p50']:6.1f} ms  p99 {result['p99']:7.1f} ms")
    ratio = hub["batches_s"] / bare["batches_s"] if bare["batches_s"] else float("nan")
    print(f"  throughput ratio otodesk / bare: {ratio:.2f} (target >= 0.8; offered "
          f"{args.sessions * args.rate:.0f} batches/s)")


if __name__ == "__main__":
    main()
