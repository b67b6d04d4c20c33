"""GC stall: the collector's pauses on one server holding thousands of idle sockets, and what
they cost an offer.

One ``otodesk serve`` (SQLite, in-memory bus, its own temp var dir) per variant: ``--count``
customers waiting in queue "hold" (nobody has its skill) and ``--count`` agents available in
"bench", then ``--samples`` calls timed as bench.offer_latency times them (a fresh customer's
``call_me`` sent -> the ``offer`` read on the agent's socket; accept, end, wrap-up; one call
in flight). The server reports on ``/metrics``: every collector pass timed by generation
(``otodesk_gc_*``), the event loop's worst lag, and on ``?gc_objects=1`` the objects the
collector tracks (before and after the sockets connect: objects per socket).

The variants, in the same run on the same seeded database: ``python`` (CPython's thresholds,
700/10/10, start-up frozen: main before this bench) and ``default`` (otodesk's
``OTODESK_GC_THRESHOLDS`` default); ``--variants`` picks, ``--thresholds`` adds one. The
ratios are against the first. The bench's own bots are frozen out of its own collector
after the set-up (as bench.offer_latency does).

``--rounds R`` then, on the ``default`` variant (else the last), connects and closes ``--count``
customers R times (new visitors, then the same ones coming back: a new visitor's rooms are kept
a day for its resume) and reads the server's RSS settled after each round (2 s with nothing
opening) and the objects its collector tracks after a full pass: flat from the second round means the policy (a
frozen start-up heap, rarer full passes) holds nothing it should free.

    .venv/bin/python -m bench.gc_stall [--count 3000] [--samples 300] [--rounds 3]

The last line printed is one JSON object. Never passes or fails on a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import rss_mb
from bench.offer_latency import (Bots, Inbox, Server, connect_bots, fmt, gather_in_batches, log, measure_offers,
                                 raise_open_file_limit, seed)
from signaling.client import CustomerBot

VARIANTS = {"python": "python", "default": ""}  # OTODESK_GC_THRESHOLDS per variant ("" = the setting's default)
METRIC = re.compile(r'^(otodesk_\w+)\{(?:generation|role)="(\w+)"\} (\S+)$', re.M)
LAG = re.compile(r"^otodesk_event_loop_lag_seconds (\S+)$", re.M)


async def scrape(server: Server, *, objects: bool = False, collect: bool = False) -> dict[str, Any]:
    """This server's collector figures and loop lag (each scrape resets the 'worst since');
    ``objects``: the objects its collector tracks too, after a full pass if ``collect``."""
    params = {"gc_objects": "collect" if collect else "1"} if objects else None
    async with httpx.AsyncClient(timeout=60.0) as http:
        text = (await http.get(f"{server.base_url}/metrics", params=params)).text
    figures: dict[str, Any] = {}
    for name, label, value in METRIC.findall(text):
        figures.setdefault(name, {})[label] = float(value)
    lag = LAG.search(text)
    figures["lag_s"] = float(lag[1]) if lag else 0.0
    return figures


def gc_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    passes = {g: after["otodesk_gc_passes_total"][g] - before["otodesk_gc_passes_total"][g] for g in "012"}
    seconds = {g: after["otodesk_gc_pause_seconds_total"][g] - before["otodesk_gc_pause_seconds_total"][g] for g in "012"}
    return {"passes": passes, "seconds": seconds, "worst_s": after["otodesk_gc_worst_pause_seconds"]}


def tracked(figures: dict[str, Any]) -> float:
    return sum(figures["otodesk_gc_objects"][g] for g in "012")


async def churn(server: Server, secret: str, count: int, rounds: int) -> tuple[list[float], list[float]]:
    """``count`` customers connect and leave, ``rounds`` times: new visitors the first time,
    the same ones again after (as people come back; a new visitor's rooms are kept a day for
    its resume, so only coming back can show a flat line). The settled RSS and the objects
    the collector tracks after each round."""
    rss, objects, tokens = [], [], []
    for round_ in range(rounds):
        bots = Bots(server.base_url, server.base_url, secret, concurrency=50)

        async def again(i: int) -> CustomerBot:
            async with bots.limit:
                bot = CustomerBot(server.base_url, hello={"token": tokens[i], "url": "http://shop.test/bench",
                                                          "title": "Bench"})
                bot.messages = Inbox()
                await asyncio.wait_for(bot.connect(), 60)
                bots.all.append(bot)
                return bot

        try:
            made = await gather_in_batches(again if tokens else (lambda i: bots.customer()), count, f"churn {round_ + 1}")
            tokens = tokens or [bot.token for bot in made]
        finally:
            await bots.close()
        await asyncio.sleep(2.0)
        rss.append(rss_mb(server.pid))
        objects.append(tracked(await scrape(server, objects=True, collect=True)))
        log(f"    round {round_ + 1}: RSS {rss[-1]:.1f} MB, {objects[-1]:.0f} objects tracked")
    return rss, objects


async def one_variant(name: str, thresholds: str, template: Path, tmp: Path, args: argparse.Namespace,
                      agent_ids: list, churn_rounds: int) -> dict[str, Any]:
    var_dir = tmp / name
    var_dir.mkdir()
    for path in template.parent.glob(template.name + "*"):  # the seeded database (and its WAL)
        shutil.copy(path, var_dir / path.name)
    secret = secrets.token_urlsafe(32)
    env = {"OTODESK_SECRET_KEY": secret, "OTODESK_GC_THRESHOLDS": thresholds}
    server = Server(f"gc-{name}", var_dir, env)
    await server.start()
    bots = Bots(server.base_url, server.base_url, secret, args.connect_concurrency)
    result: dict[str, Any] = {"name": name, "thresholds": thresholds or "default"}
    try:
        await asyncio.sleep(1.0)
        at_rest = await scrape(server, objects=True)
        result["frozen_objects"] = at_rest["otodesk_gc_objects"]["permanent"]
        before_setup = await scrape(server)
        log(f"  [{name}] {args.count} waiting customers + {args.count} agents...")
        setup_args = argparse.Namespace(waiting=args.count, login="mint")
        callers, _ = await connect_bots(name, bots, setup_args, agent_ids, args.warmup + args.samples)
        await asyncio.sleep(args.settle)
        after_setup = await scrape(server)
        result["setup_gc"] = gc_delta(before_setup, after_setup)
        with_sockets = await scrape(server, objects=True)
        sockets = 2 * args.count + args.warmup + args.samples
        result["objects_per_socket"] = (tracked(with_sockets) - tracked(at_rest)) / sockets
        result["rss_mb"] = rss_mb(server.pid)
        gc.collect()
        gc.freeze()  # this process's thousands of bots: keep its own full passes out of the figures
        before = await scrape(server)
        log(f"  [{name}] {args.warmup + args.samples} calls, one in flight...")
        started = time.perf_counter()
        calls = await measure_offers(bots, callers, args.warmup, 1)
        result["seconds"] = time.perf_counter() - started
        after = await scrape(server)
        result["calls_gc"] = gc_delta(before, after)
        result["lag_s"] = after["lag_s"]
        result["offer"] = calls["offer"]
        if churn_rounds:
            log(f"  [{name}] {churn_rounds} rounds of {args.count} customers connecting and leaving...")
            rss, objects = await churn(server, secret, args.count, churn_rounds)
            result["churn_rss_mb"], result["churn_objects"] = [rss_mb(server.pid)] + rss, objects
        return result
    finally:
        gc.unfreeze()
        await bots.close()
        server.stop()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    variants = {name: VARIANTS[name] for name in args.variants.split(",")}
    if args.thresholds:
        variants[f"t{args.thresholds.replace(',', '_')}"] = args.thresholds
    tmp = Path(tempfile.mkdtemp(prefix="gc-stall-"))
    try:
        template = tmp / "seed" / "otodesk.db"
        template.parent.mkdir()
        t = time.perf_counter()
        agent_ids = await seed(f"sqlite+aiosqlite:///{template}", args.count)
        log(f"seeded {args.count} agents in {time.perf_counter() - t:.0f} s")
        results = []
        churn_on = "default" if "default" in variants else list(variants)[-1]
        for name in variants:
            results.append(await one_variant(name, variants[name], template, tmp, args, agent_ids,
                                             args.rounds if name == churn_on else 0))
        return {"results": results}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, outcome: dict[str, Any]) -> dict[str, Any]:
    print(f"GC stall: one server, {args.count} customers waiting + {args.count} agents available, "
          f"{args.samples} calls after {args.warmup}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    figures: dict[str, Any] = {"sockets": 2 * args.count}
    base = outcome["results"][0]
    for result in outcome["results"]:
        name, calls, setup = result["name"], result["calls_gc"], result["setup_gc"]
        print(f"  {name} (OTODESK_GC_THRESHOLDS={result['thresholds']}):")
        print(f"    offer      {fmt(result['offer'])}")
        print(f"    while calling ({result['seconds']:.0f} s): passes gen0/1/2 "
              f"{'/'.join(str(int(calls['passes'][g])) for g in '012')}, paused "
              f"{sum(calls['seconds'].values()) * 1000:.0f} ms in all, longest gen0/1/2 "
              f"{'/'.join(format(calls['worst_s'][g] * 1000, '.1f') for g in '012')} ms; worst loop lag "
              f"{result['lag_s'] * 1000:.0f} ms")
        print(f"    connecting: passes gen0/1/2 {'/'.join(str(int(setup['passes'][g])) for g in '012')}, "
              f"paused {sum(setup['seconds'].values()) * 1000:.0f} ms, longest gen2 {setup['worst_s']['2'] * 1000:.0f} ms")
        print(f"    {result['objects_per_socket']:.0f} tracked objects per socket, {result['frozen_objects']:.0f} "
              f"frozen at start-up; RSS {result['rss_mb']:.0f} MB")
        worst_gen2 = max(calls["worst_s"]["2"], setup["worst_s"]["2"])
        figures.update({
            f"{name}_offer_p50_ms": round(result["offer"]["p50"], 2),
            f"{name}_offer_p99_ms": round(result["offer"]["p99"], 2),
            f"{name}_offer_max_ms": round(result["offer"]["max"], 2),
            f"{name}_gen2_worst_pause_ms": round(worst_gen2 * 1000, 1),
            f"{name}_gen2_passes_while_calling": int(calls["passes"]["2"]),
            f"{name}_gc_paused_while_calling_ms": round(sum(calls["seconds"].values()) * 1000, 1),
            f"{name}_loop_lag_worst_ms": round(result["lag_s"] * 1000, 1),
            f"{name}_objects_per_socket": round(result["objects_per_socket"], 1),
        })
        if result is not base:
            figures[f"{name}_over_{base['name']}_offer_p99_ratio"] = round(result["offer"]["p99"] / base["offer"]["p99"], 2)
            base_paused = sum(base["calls_gc"]["seconds"].values())
            if base_paused:
                figures[f"{name}_over_{base['name']}_gc_paused_ratio"] = round(
                    sum(calls["seconds"].values()) / base_paused, 3)
        if "churn_rss_mb" in result:
            rss = result["churn_rss_mb"]
            print(f"    RSS over {len(rss) - 1} rounds of {args.count} customers in and out: "
                  + " -> ".join(f"{mb:.0f}" for mb in rss) + " MB")
            figures[f"{name}_churn_rss_mb"] = [round(mb, 1) for mb in rss]
            figures[f"{name}_churn_rss_growth_after_first_round_mb"] = round(rss[-1] - rss[1], 1)
            figures[f"{name}_churn_tracked_objects"] = [int(n) for n in result["churn_objects"]]
            print("    objects tracked after each round: " + " -> ".join(f"{n:.0f}" for n in result["churn_objects"]))
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="waiting customers, and as many agents")
    parser.add_argument("--samples", type=int, default=300, help="timed calls")
    parser.add_argument("--warmup", type=int, default=20, help="calls made first and not counted")
    parser.add_argument("--variants", default="python,default", help="of: " + ", ".join(VARIANTS))
    parser.add_argument("--thresholds", help="one more variant: OTODESK_GC_THRESHOLDS, e.g. 10000,10,10")
    parser.add_argument("--rounds", type=int, default=3, help="connect/close rounds on the default variant (RSS)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of quiet before measuring")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    raise_open_file_limit(4 * arguments.count + 2 * arguments.samples + 1000)
    print(json.dumps(report(arguments, asyncio.run(main(arguments)))))
