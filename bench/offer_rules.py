"""Offer latency with and without business rules, in the same run, on the same server.

Issue 11's target: "the offer latency bench's p99 within 10% of its figure without rules,
measured in the same run". The load is ``bench.offer_latency``'s (one process, SQLite, an
in-memory bus; ``--agents`` available agents and ``--waiting`` customers waiting in another
queue), with one difference: every caller has a cart (0-4 products, set with
``set_context`` before the calls), so that with rules there is something to match.

The calls run in ``--rounds`` rounds; each round is one phase without rules (an empty
catalogue published) and one with the catalogue published (in alternating order), so the
machine's noise falls on both alike. The catalogue is ``bench.rules``' (``--actions``
realistic actions: cross-sells keyed on products in the cart, up-sells, retention,
service, information; their queue "sales" is the bench's queue here) plus the demo's three,
imported and published through the planner's API (``POST /api/v1/rules/import`` then
``/publish``), as a planner would. Printed: offer p50/p99 for each, their ratios, how many
offers carried suggestions, and the server's suggestion counters (``/metrics``).

    .venv/bin/python -m bench.offer_rules [--agents 1000] [--waiting 1000] [--samples 400]
        [--rounds 8] [--actions 1000]

``--samples`` is per phase in all (split over the rounds). About 4 minutes on a quiet 2-CPU
machine with the defaults. Never passes or fails on time. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
from argon2 import PasswordHasher

from bench import offer_latency as ol
from bench.common import summary
from bench.rules import SKUS, catalogue_actions
from desktop.auth.tokens import SESSION_COOKIE, Signer
from desktop.demo.seed import DEMO_ACTIONS
from desktop.repository.repository import Repository

PLANNER = "bench-planner"
log = ol.log


def bench_catalogue(count: int, seed: int) -> list[dict[str, Any]]:
    """``bench.rules``' actions with the queue "sales" played by the bench's queue, and the demo's."""
    actions = catalogue_actions(count, random.Random(seed))
    out = []
    for action in [*actions, *DEMO_ACTIONS]:
        data = msgspec.to_builtins(action)
        data["queues"] = [ol.BENCH_QUEUE if q in ("sales", "support") else q for q in data.get("queues") or []]
        out.append(data)
    return out


def cart(rng: random.Random) -> dict[str, Any]:
    """A cart like the demo shop's: 0-4 lines, sometimes the demo's laptop."""
    skus = rng.sample(SKUS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
    if rng.random() < 0.2:
        skus.append("aurora-laptop-14")
    lines = [{"sku": sku, "name": f"Product {sku}", "price": round(rng.uniform(10, 400), 2), "qty": 1}
             for sku in skus]
    return {"cart": lines, **({"campaign": "spring"} if rng.random() < 0.3 else {})}


async def seed_planner(url: str) -> tuple[str, str]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    async with Repository.open(url, upgrade=True, password_hasher=cheap) as repo:
        record = await repo.add_agent(PLANNER, ol.PASSWORD, display_name="Bench Planner", role="planner")
        session_id = secrets.token_urlsafe(16)
        await repo.open_staff_session(session_id, record.id, now=time.time(), max_age=24 * 3600)
        return record.id, session_id


class Planner:
    """Publishes catalogues through the planner's API, as a planner's browser would."""

    def __init__(self, base_url: str, secret: str, planner_id: str, session_id: str):
        signer = Signer(secret)
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60.0, headers={
            "Cookie": f"{SESSION_COOKIE}={signer.session_token(planner_id, session_id)}",
            "X-CSRF-Token": signer.csrf_token(session_id)})

    async def publish(self, actions: list[dict[str, Any]], note: str) -> dict[str, Any]:
        (await self.http.post("/api/v1/rules/import", json={"actions": actions})).raise_for_status()
        response = await self.http.post("/api/v1/rules/publish", json={"note": note})
        response.raise_for_status()
        published = response.json()
        # Live once compiled (in a worker thread, ~0.3 s for 1,000 actions): not during the calls.
        deadline = time.monotonic() + 60
        while (await self.http.get("/api/v1/rules/versions")).json()["live"] < published["version"]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"version {published['version']} not live after 60 s")
            await asyncio.sleep(0.05)
        return published

    async def counters(self) -> dict[str, float]:
        """The server's ``otodesk_suggestions_total`` by outcome."""
        text = (await self.http.get("/metrics")).text
        return {m[1]: float(m[2]) for m in re.finditer(
            r'^otodesk_suggestions_total\{outcome="([^"]+)"\} (\S+)$', text, re.M)}

    async def aclose(self) -> None:
        await self.http.aclose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="offer-rules-"))
    var_dir = tmp / "one"
    url = f"sqlite+aiosqlite:///{var_dir / 'otodesk.db'}"
    secret = secrets.token_urlsafe(32)
    per_round = max(1, args.samples // args.rounds)
    catalogue = bench_catalogue(args.actions, args.seed)
    started = time.perf_counter()
    server = ol.Server("rules", var_dir, {"OTODESK_SECRET_KEY": secret})
    echo = ol.EchoServer()
    bots = planner = None
    try:
        agent_ids = await ol.seed(url, args.agents)
        planner_id, session_id = await seed_planner(url)
        await echo.start()
        await server.start()
        planner = Planner(server.base_url, secret, planner_id, session_id)
        bots = ol.Bots(server.base_url, server.base_url, secret, args.connect_concurrency)
        total = 2 * args.rounds * (args.warmup + per_round)
        callers, _setup = await ol.connect_bots("rules", bots, args, agent_ids, total)
        rng = random.Random(args.seed)
        log(f"  [rules] {total} carts set...")
        await ol.gather_in_batches(lambda i: callers[i].command("set_context", context=cart(rng),
                                                                timeout=ol.SETUP_TIMEOUT), total, "carts")
        await asyncio.sleep(args.settle)
        gc.collect()
        gc.freeze()
        offers: dict[str, list[float]] = {"none": [], "rules": []}
        suggested = {"none": 0, "rules": 0}
        follows: dict[str, list[float]] = {"none": [], "rules": []}
        counted = {"none": 0, "rules": 0}
        probe: list[float] = []
        counters_before = await planner.counters()
        for round_ in range(args.rounds):
            order = ("none", "rules") if round_ % 2 == 0 else ("rules", "none")
            for phase in order:
                published = await planner.publish(catalogue if phase == "rules" else [], f"bench {phase}")
                await asyncio.sleep(0.5)  # the compile's garbage and the publish's writes settle
                take = callers[:args.warmup + per_round]
                del callers[:args.warmup + per_round]
                stop = asyncio.Event()
                probing = asyncio.create_task(echo.round_trips(10**9, warmup=0, spacing=0.02, stop=stop))
                try:
                    result = await ol.measure_offers(bots, take, args.warmup, args.concurrency)
                finally:
                    stop.set()
                    probe += await probing
                offers[phase] += [row[2] for row in result["rows"]]
                suggested[phase] += result["with_suggestions"]
                follows[phase] += result["suggestions_ms"]
                counted[phase] += len(take)
                log(f"  [rules] round {round_ + 1} {phase} (version {published['version']}, "
                    f"{published['actions']} actions): offer p50 {result['offer']['p50']:.2f} ms, "
                    f"p99 {result['offer']['p99']:.2f} ms")
        counters_after = await planner.counters()
        return {"offers": offers, "suggested": suggested, "follows": follows, "counted": counted, "probe": probe,
                "counters": {k: counters_after[k] - counters_before.get(k, 0.0) for k in counters_after},
                "seconds": time.perf_counter() - started, "per_round": per_round,
                "catalogue": len(catalogue), "warnings": server.warnings()}
    except BaseException:
        log(f"--- server log (tail; whole log: {server.keep_log()}) ---\n{server.tail()}")
        raise
    finally:
        gc.unfreeze()
        if bots is not None:
            await bots.close()
        if planner is not None:
            await planner.aclose()
        server.stop()
        echo.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    none, rules = summary(results["offers"]["none"]), summary(results["offers"]["rules"])
    probe = summary(results["probe"])
    print(f"offer latency with and without rules: one process (SQLite, in-memory bus), {args.agents} agents "
          f"available, {args.waiting} customers waiting; {args.rounds} rounds of {results['per_round']} calls "
          f"each way (+{args.warmup} warm-up), alternating; catalogue {results['catalogue']} actions")
    print(f"  without rules (empty catalogue)   {ol.fmt(none)}")
    print(f"  with {results['catalogue']} published actions  {ol.fmt(rules)}")
    print(f"  offers carrying suggestions: {results['suggested']['rules']} of {results['counted']['rules']} "
          f"with rules, {results['suggested']['none']} of {results['counted']['none']} without")
    follow = summary(results["follows"]["rules"]) if results["follows"]["rules"] else None
    if follow is not None:
        print(f"  call_me -> the suggestions message (it follows the offer), with rules: {ol.fmt(follow)}")
    print(f"  suggestions messages without rules: {len(results['follows']['none'])}")
    counters = ", ".join(f"{k} {v:.0f}" for k, v in sorted(results["counters"].items())) or "none"
    print(f"  server's suggestion counters over the calls: {counters}")
    print(f"  echo probe during the calls (machine noise): {ol.fmt(probe)}")
    for message, count in results["warnings"].most_common(5):
        print(f"  server log: {count} x {message}")
    p99_ratio, p50_ratio = rules["p99"] / none["p99"], rules["p50"] / none["p50"]
    p90_ratio = rules["p90"] / none["p90"]
    print(f"  with / without rules: p50 x{p50_ratio:.3f}, p90 x{p90_ratio:.3f}, p99 x{p99_ratio:.3f} "
          f"(target p99 within 10%: {'met' if p99_ratio <= 1.10 else 'MISSED'}); whole run {results['seconds']:.0f} s")
    return {
        "without_rules_p50_ms": round(none["p50"], 3), "without_rules_p99_ms": round(none["p99"], 3),
        "with_rules_p50_ms": round(rules["p50"], 3), "with_rules_p99_ms": round(rules["p99"], 3),
        "with_over_without_p50_ratio": round(p50_ratio, 3), "with_over_without_p90_ratio": round(p90_ratio, 3),
        "with_over_without_p99_ratio": round(p99_ratio, 3),
        "actions_count": results["catalogue"], "samples_per_mode_count": none["n"],
        "offers_with_suggestions_count": results["suggested"]["rules"],
        "suggestions_after_call_p50_ms": round(follow["p50"], 3) if follow else None,
        "suggestions_after_call_p99_ms": round(follow["p99"], 3) if follow else None,
        "echo_probe_p99_ms": round(probe["p99"], 3), "agents": args.agents, "waiting": args.waiting,
        "total_seconds": round(results["seconds"], 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=400, help="timed calls per phase, over all rounds")
    parser.add_argument("--rounds", type=int, default=8, help="rounds, each with one phase of each kind")
    parser.add_argument("--warmup", type=int, default=10, help="calls not counted at the start of each phase")
    parser.add_argument("--actions", type=int, default=1000, help="generated actions (the demo's 3 come on top)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--connect-concurrency", type=int, default=20)
    parser.add_argument("--settle", type=float, default=2.0)
    args = parser.parse_args(argv)
    args.login = "mint"
    if args.agents < 1 or args.samples < 1 or args.rounds < 1:
        parser.error("--agents, --samples and --rounds must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    ol.raise_open_file_limit(2 * (args.agents + args.waiting + 2 * args.samples) + 400)

    async def guarded() -> dict[str, Any]:
        task = asyncio.current_task()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        return await run(args)

    try:
        results = asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; cleaned up")
        sys.exit(130)
    print(json.dumps(report(args, results)))


if __name__ == "__main__":
    main()
