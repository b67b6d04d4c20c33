"""Throughput of the pure routing core (``desktop.routing.router.Router``).

Drives ~200,000 commands against 1,000 agents and 3 queues: add_callback,
accept, decline, end_contact, finish_wrap_up, set_available (agents back
from a missed offer) and tick, reacting to the events the router returns as
the routing service would. Rushes (callbacks pile up, thousands waiting)
alternate with calms (the queues drain).

The mix is first recorded, then replayed on fresh routers: the router is
deterministic, so a replay goes through exactly the same states, and the
timed loop holds nothing but the router calls. Times are CPU seconds of this
process (``time.process_time``), best of ``--repeat`` replays, so a machine
shared with other work slows the figures little; wall-clock figures are
printed too. As a yardstick for the machine, the same number of trivial dict
updates is timed the same way.

    .venv/bin/python -m bench.router_core [--commands N] [--repeat R] [--profile]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import time
from typing import Any

from desktop.routing import (
    AgentState, AgentStateChanged, CallbackConnected, CallbackEnded, CallbackRequest, OfferEnded,
    OfferMade, OfferOutcome, QueueConfig, Router,
)

AGENTS = 1_000
QUEUES = [QueueConfig("sales"), QueueConfig("support", frozenset({"tech"})), QueueConfig("fr", frozenset({"fr"}))]
SKILLSETS = [frozenset(), frozenset({"tech"}), frozenset({"fr"}), frozenset({"tech", "fr"})]
TIERS = ["standard", "standard", "standard", "silver", "gold", "platinum"]
TEXTS = ["", "billing question", "my order is late", "URGENT: card stolen", "call me as soon as possible"]
START = 1_700_000_000.0

# Command weights: rushes pile callbacks up in the queues, calms drain them.
RUSH = {"add": 40, "accept": 20, "decline": 2, "end": 18, "wrap": 15, "tick": 3, "back": 2}
CALM = {"add": 10, "accept": 25, "decline": 3, "end": 25, "wrap": 25, "tick": 6, "back": 6}
PHASE = 20_000  # commands per phase

Trace = list[tuple[str, tuple[Any, ...]]]  # (Router method, arguments)


def staffed_router() -> Router:
    router = Router(QUEUES, offer_timeout=20.0, wrapup_timeout=30.0)
    for i in range(AGENTS):
        router.agent_login(f"a{i}", SKILLSETS[i % len(SKILLSETS)], START)
        router.set_available(f"a{i}", START)
    return router


def record(commands: int, seed: int = 42) -> tuple[Trace, int, int]:
    """Play the mix once; return (the commands, events emitted, longest backlog)."""
    rng = random.Random(seed)
    router = staffed_router()
    trace: Trace = []
    offers: dict[str, str] = {}        # pending offer -> agent, oldest first
    connected: dict[str, str] = {}     # callback -> agent
    wrapping: dict[str, None] = {}     # agents in wrap-up
    away: dict[str, None] = {}         # agents that missed an offer
    waiting = backlog = emitted = next_id = 0
    now = START
    phases = [rng.choices(list(w), weights=list(w.values()), k=PHASE) for w in (RUSH, CALM)]
    for done in range(commands):
        command = phases[(done // PHASE) % 2][done % PHASE]
        now += 0.005
        if command == "accept" and offers:
            offer_id = next(iter(offers))
            call = ("accept", (offer_id, offers[offer_id], now))
        elif command == "decline" and offers:
            offer_id = next(iter(offers))
            call = ("decline", (offer_id, offers[offer_id], now))
        elif command == "end" and connected:
            callback_id = next(iter(connected))
            call = ("end_contact", (callback_id, connected[callback_id], now))
        elif command == "wrap" and wrapping:
            call = ("finish_wrap_up", (next(iter(wrapping)), now))
        elif command == "back" and away:
            call = ("set_available", (next(iter(away)), now))
        elif command != "add":  # a tick, or what the agents cannot do right now
            now += 1.0 if command == "tick" else 0.0
            call = ("tick", (now,))
        else:
            next_id += 1
            request = CallbackRequest(f"c{next_id}", QUEUES[next_id % 3].name, rng.choice(TIERS),
                                      rng.choice(TEXTS), created_at=now)
            call = ("add_callback", (request, now))
            waiting += 1
        trace.append(call)
        events = getattr(router, call[0])(*call[1])
        emitted += len(events)
        for event in events:  # what the service would track
            kind = type(event)
            if kind is OfferMade:
                offers[event.offer_id] = event.agent_id
                waiting -= 1
            elif kind is OfferEnded:
                del offers[event.offer_id]
                if event.outcome is not OfferOutcome.ACCEPTED:
                    waiting += 1  # back in its queue
            elif kind is CallbackConnected:
                connected[event.callback_id] = event.agent_id
            elif kind is CallbackEnded:
                connected.pop(event.callback_id, None)
            elif kind is AgentStateChanged:
                wrapping.pop(event.agent_id, None)
                away.pop(event.agent_id, None)
                if event.state is AgentState.WRAP_UP:
                    wrapping[event.agent_id] = None
                elif event.state is AgentState.AWAY:
                    away[event.agent_id] = None
        backlog = max(backlog, waiting)
    return trace, emitted, backlog


def replay(trace: Trace) -> tuple[float, float]:
    """Run the recorded commands on a fresh router; return (CPU s, wall s)."""
    router = staffed_router()
    calls = [(getattr(router, name), args) for name, args in trace]
    cpu, wall = time.process_time(), time.perf_counter()
    for method, args in calls:
        method(*args)
    return time.process_time() - cpu, time.perf_counter() - wall


def baseline(count: int) -> tuple[float, float]:
    """(CPU s, wall s) for ``count`` trivial dict updates: the machine's speed of Python."""
    table: dict[int, int] = {}
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        table[i % AGENTS] = i
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="replays; the fastest counts")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile replay")
    args = parser.parse_args()

    trace, emitted, backlog = record(args.commands)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(replay, trace)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)

    commands = len(trace)
    runs = [replay(trace) for _ in range(args.repeat)]
    cpu, wall = min(run[0] for run in runs), min(run[1] for run in runs)
    bases = [baseline(commands) for _ in range(args.repeat)]
    base_cpu = min(b[0] for b in bases)
    rate, base_rate = commands / cpu, commands / base_cpu
    print(f"router: {commands} commands, {emitted} events emitted, up to {backlog} callbacks waiting")
    print(f"router: {cpu:.3f} CPU s ({rate:,.0f} commands/s); wall {wall:.3f} s ({commands / wall:,.0f}/s)")
    print(f"baseline: {commands} dict updates in {base_cpu:.4f} CPU s ({base_rate:,.0f} ops/s)")
    print(json.dumps({
        "router_events_per_s": round(rate),
        "router_events_per_s_wall": round(commands / wall),
        "baseline_dict_ops_per_s": round(base_rate),
        "ratio": round(rate / base_rate, 5),
        "commands": commands,
        "routing_events_emitted": emitted,
        "agents": AGENTS,
        "max_waiting_callbacks": backlog,
    }))


if __name__ == "__main__":
    main()
