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

Each stage (at rest, with the customers, with the agents too) is counted: the objects the
collector tracks and how long a full pass over them takes (the server times it). With
``--objects`` it also prints what the collector tracks per socket (``/metrics/gc_census``: by
kind, i.e. type or the code a task or coroutine runs, and by owner, one object referring to
it), each figure counted after a full pass. ``--baseline main`` first measures a server
running main's code the same way, in the same run (its objects counted in total only).

    .venv/bin/python -m bench.idle_sockets [--count 2000] [--where] [--objects] [--baseline REF]

The last line printed is one JSON object. Never passes or fails on a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.common import ROOT, rss_mb
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


async def census(server: Server) -> tuple[dict[str, int], float]:
    """The server's tracked objects by ``kind | owner`` after a full pass (from a baseline
    without /metrics/gc_census, only the total), and how long a full pass takes now (the
    server's own timing of the one ``/metrics?gc_objects=collect`` runs, in seconds)."""
    async with httpx.AsyncClient(timeout=120.0) as http:
        text = (await http.get(f"{server.base_url}/metrics", params={"gc_objects": "collect"})).text
        response = await http.get(f"{server.base_url}/metrics/gc_census")
    pause = float(re.search(r'^otodesk_gc_worst_pause_seconds\{generation="2"\} (\S+)$', text, re.M)[1])
    if response.status_code == 200:
        return response.json(), pause
    total = sum(float(n) for n in re.findall(r'^otodesk_gc_objects\{generation="[012]"\} (\S+)$', text, re.M))
    return {"total | -": int(total)}, pause


def per_socket(before: dict[str, int], after: dict[str, int], count: int) -> dict[str, float]:
    """What ``count`` more sockets added, per socket, largest first."""
    keys = set(before) | set(after)
    growth = {key: (after.get(key, 0) - before.get(key, 0)) / count for key in keys}
    return dict(sorted(growth.items(), key=lambda item: -item[1]))


def print_objects(label: str, growth: dict[str, float], lines: int) -> None:
    print(f"  tracked objects per {label}: {sum(growth.values()):.1f}")
    by_kind: dict[str, float] = collections.Counter()
    for key, n in growth.items():
        by_kind[key.split(" | ")[0]] += n
    print("    by kind: " + ", ".join(f"{kind} {n:.2f}" for kind, n in by_kind.most_common(lines) if n >= 0.05))
    for key, n in list(growth.items())[:lines]:
        if abs(n) >= 0.05:
            print(f"    {n:6.2f}  {key}")


async def otodesk_costs(count: int, where: bool, objects: bool, name: str, cwd: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="idle-sockets-") as tmp:
        var_dir = Path(tmp)
        url = f"sqlite+aiosqlite:///{var_dir / 'otodesk.db'}"
        secret = secrets.token_urlsafe(32)
        agent_ids = await seed(url, count)
        env = {"OTODESK_SECRET_KEY": secret}
        if where:
            env["OTODESK_TRACEMALLOC"] = "1"
        server = Server(f"idle-{name}", var_dir, env, cwd=cwd)
        await server.start()
        bots = Bots(server.base_url, server.base_url, secret, concurrency=50)
        try:
            figures = await census(server)
            counted, pauses = [figures[0]], [figures[1]]
            base = await settled_rss(server.pid)
            if where:
                server.process.send_signal(signal.SIGUSR1)
            await gather_in_batches(lambda i: bots.customer(), count, f"{name} customers")
            with_customers = await settled_rss(server.pid)
            figures = await census(server)
            counted.append(figures[0])
            pauses.append(figures[1])
            if where:
                server.process.send_signal(signal.SIGUSR1)
                for _ in range(120):  # comparing two traced snapshots takes a while
                    await asyncio.sleep(1)
                    text = server.log_path.read_text(errors="replace")
                    if text.count("tracemalloc:") >= 2:
                        break
                print(text[text.rindex("tracemalloc:") - 40:][:12000])
            await gather_in_batches(lambda i: bots.agent(*agent_ids[i], "minted"), count, f"{name} agents")
            with_agents = await settled_rss(server.pid)
            figures = await census(server)
            counted.append(figures[0])
            pauses.append(figures[1])
            customer, agent = per_socket(counted[0], counted[1], count), per_socket(counted[1], counted[2], count)
            if objects:
                print(f"{name}:")
                print_objects("idle customer socket", customer, 40)
                print_objects("idle available agent socket", agent, 40)
            return {"base_mb": base, "customer_kib": (with_customers - base) * 1024 / count,
                    "agent_kib": (with_agents - with_customers) * 1024 / count,
                    "customer_objects": sum(customer.values()), "agent_objects": sum(agent.values()),
                    "full_pass_ms": [round(p * 1000, 1) for p in pauses],
                    "tracked": [sum(c.values()) for c in counted]}
        finally:
            await bots.close()
            server.stop()


def baseline_tree(ref: str, into: Path) -> Path:
    """The code of git ``ref`` (e.g. main), unpacked for a server of the baseline."""
    archive = subprocess.run(["git", "archive", ref, "desktop", "signaling"],
                             cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "static").symlink_to(ROOT / "static")  # built assets, not in git
    return into


async def main(args: argparse.Namespace) -> dict[str, Any]:
    raise_open_file_limit(4 * args.count + 1000)
    started = time.perf_counter()
    floor = await echo_floor(args.count)
    log(f"bare websockets: {floor:.1f} KiB per idle connection")
    result: dict[str, Any] = {"sockets": args.count, "echo_kib_per_socket": round(floor, 1)}
    with tempfile.TemporaryDirectory(prefix="idle-sockets-baseline-") as tmp:
        trees = [("this", ROOT)]
        if args.baseline:
            trees.insert(0, ("baseline", baseline_tree(args.baseline, Path(tmp))))
        for name, cwd in trees:
            costs = await otodesk_costs(args.count, args.where, args.objects, name, cwd)
            log(f"{name}: {costs['customer_kib']:.1f} KiB and {costs['customer_objects']:.1f} tracked objects per "
                f"idle customer socket, {costs['agent_kib']:.1f} KiB and {costs['agent_objects']:.1f} per idle "
                f"available agent (server at rest {costs['base_mb']:.0f} MiB); objects tracked at rest / with the "
                f"customers / with the agents too {' / '.join(str(n) for n in costs['tracked'])}, a full collector "
                f"pass {' / '.join(f'{ms:.0f}' for ms in costs['full_pass_ms'])} ms; {time.perf_counter() - started:.0f} s")
            prefix = "" if name == "this" else "baseline_"
            result.update({
                f"{prefix}customer_kib_per_socket": round(costs["customer_kib"], 1),
                f"{prefix}agent_kib_per_socket": round(costs["agent_kib"], 1),
                f"{prefix}customer_tracked_objects_per_socket": round(costs["customer_objects"], 1),
                f"{prefix}agent_tracked_objects_per_socket": round(costs["agent_objects"], 1),
                f"{prefix}server_at_rest_mb": round(costs["base_mb"], 1),
                f"{prefix}tracked_objects_rest_customers_agents": costs["tracked"],
                f"{prefix}full_pass_ms_rest_customers_agents": costs["full_pass_ms"]})
    result["customer_vs_echo_ratio"] = round(result["customer_kib_per_socket"] / floor, 2) if floor > 0 else None
    result["target_kib_per_socket"] = TARGET_KIB
    if args.baseline:
        result["baseline_ref"] = args.baseline
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--where", action="store_true", help="trace the server's allocations (slower)")
    parser.add_argument("--objects", action="store_true",
                        help="print the tracked objects per socket by kind and owner")
    parser.add_argument("--baseline", metavar="REF",
                        help="first the same on a server running git REF's code (e.g. main)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))))
