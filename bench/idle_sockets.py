"""Memory per idle socket: what one more connected customer or agent costs a server, in KiB.

One ``otodesk serve`` (SQLite, in-memory bus, its own temp var dir): its RSS settled, then
``--count`` customer sockets connect (welcomed, on a page, no call) and its RSS settled again;
then ``--count`` agents connect and go available. The same count of idle connections to a
bare ``websockets`` echo server (its own process, same library, uvloop as uvicorn) is the
floor. Settled = the RSS read after 2 s with no connection opening (allocators return little
to the system, so the figure is what a server holds, not what it touched).

With ``--where`` the server runs with ``OTODESK_TRACEMALLOC=1`` and prints, on SIGUSR1, the
allocation sites that grew since the previous signal: the bench sends one before and one after
the customers connect, and prints the top lines of the server's log (tracing makes the
server slower and bigger: the RSS figures of such a run are not the ones to quote).

    .venv/bin/python -m bench.idle_sockets [--count 2000] [--where]

The last line printed is one JSON object. Never passes or fails on a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import websockets

from bench.common import rss_mb
from bench.offer_latency import Bots, Server, _die_with_parent, gather_in_batches, log, raise_open_file_limit, seed

TARGET_KIB = 40.0

IDLE_ECHO = textwrap.dedent("""
    import asyncio
    from websockets.asyncio.server import serve
    async def hold(ws):
        await ws.wait_closed()
    async def main():
        async with serve(hold, "127.0.0.1", 0, compression=None) as server:
            print(server.sockets[0].getsockname()[1], flush=True)
            await asyncio.get_running_loop().create_future()
    try:
        import uvloop
        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
""")


async def settled_rss(pid: int) -> float:
    await asyncio.sleep(2.0)
    return rss_mb(pid)


async def echo_floor(count: int) -> float:
    """KiB per idle connection to a bare websockets server."""
    process = subprocess.Popen([sys.executable, "-c", IDLE_ECHO], stdout=subprocess.PIPE,
                               preexec_fn=_die_with_parent)
    try:
        port = int(await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30))
        before = await settled_rss(process.pid)
        sockets = await gather_in_batches(lambda i: websockets.connect(f"ws://127.0.0.1:{port}/"), count, "echo")
        after = await settled_rss(process.pid)
        for socket in sockets:
            await socket.close()
        return (after - before) * 1024 / count
    finally:
        process.terminate()
        process.wait(10)


async def otodesk_costs(count: int, where: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="idle-sockets-") as tmp:
        var_dir = Path(tmp)
        url = f"sqlite+aiosqlite:///{var_dir / 'otodesk.db'}"
        secret = secrets.token_urlsafe(32)
        agent_ids = await seed(url, count)
        env = {"OTODESK_SECRET_KEY": secret}
        if where:
            env["OTODESK_TRACEMALLOC"] = "1"
        server = Server("idle", var_dir, env)
        await server.start()
        bots = Bots(server.base_url, server.base_url, secret, concurrency=50)
        try:
            base = await settled_rss(server.pid)
            if where:
                server.process.send_signal(signal.SIGUSR1)
            await gather_in_batches(lambda i: bots.customer(), count, "customers")
            with_customers = await settled_rss(server.pid)
            if where:
                server.process.send_signal(signal.SIGUSR1)
                for _ in range(120):  # comparing two traced snapshots takes a while
                    await asyncio.sleep(1)
                    text = server.log_path.read_text(errors="replace")
                    if text.count("tracemalloc:") >= 2:
                        break
                print(text[text.rindex("tracemalloc:") - 40:][:12000])
            await gather_in_batches(lambda i: bots.agent(*agent_ids[i], "minted"), count, "agents")
            with_agents = await settled_rss(server.pid)
            return {"base_mb": base, "customer_kib": (with_customers - base) * 1024 / count,
                    "agent_kib": (with_agents - with_customers) * 1024 / count}
        finally:
            await bots.close()
            server.stop()


async def main(args: argparse.Namespace) -> dict[str, float]:
    raise_open_file_limit(4 * args.count + 1000)
    started = time.perf_counter()
    floor = await echo_floor(args.count)
    log(f"bare websockets: {floor:.1f} KiB per idle connection")
    costs = await otodesk_costs(args.count, args.where)
    log(f"otodesk: {costs['customer_kib']:.1f} KiB per idle customer socket, {costs['agent_kib']:.1f} KiB "
        f"per idle available agent (server at rest {costs['base_mb']:.0f} MiB); {time.perf_counter() - started:.0f} s")
    return {"sockets": args.count, "echo_kib_per_socket": round(floor, 1),
            "customer_kib_per_socket": round(costs["customer_kib"], 1),
            "agent_kib_per_socket": round(costs["agent_kib"], 1),
            "customer_vs_echo_ratio": round(costs["customer_kib"] / floor, 2) if floor > 0 else None,
            "target_kib_per_socket": TARGET_KIB, "server_at_rest_mb": round(costs["base_mb"], 1)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--where", action="store_true", help="trace the server's allocations (slower)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
