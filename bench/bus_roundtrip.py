"""Bus round trip: publish -> the subscriber has it, in milliseconds, one message in flight.

Measures MemoryBus, RedisBus and, as the floor RedisBus builds on, a bare redis-py
PUBLISH -> SUBSCRIBE round trip, in the same run and process. Prints figures and ratios;
the last line is one JSON object. Never passes or fails on time.

    .venv/bin/python -m bench.bus_roundtrip [--messages 2000] [--url redis://127.0.0.1:6379/0] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis

from bench.common import summary
from signaling.bus import Bus, open_bus

WARMUP = 100


async def ping_pong(send: Callable[[int], Awaitable[object]], received: AsyncIterator[int],
                    messages: int) -> list[float]:
    """Send message i, wait until the subscriber yields i; time each round trip in ms."""
    samples = []
    for i in range(WARMUP + messages):
        started = time.perf_counter()
        await send(i)
        got = await anext(received)
        elapsed = (time.perf_counter() - started) * 1000
        assert got == i, f"expected message {i}, got {got}"
        if i >= WARMUP:
            samples.append(elapsed)
    return samples


async def bench_bus(bus: Bus, messages: int) -> list[float]:
    room = f"bench:{secrets.token_hex(4)}"
    async with bus.subscribe(room) as subscription:
        async def received() -> AsyncIterator[int]:
            async for _seq, event in subscription:
                yield event["i"]

        # A hub-like event: a small JSON object.
        return await ping_pong(lambda i: bus.publish(room, {"type": "queue", "i": i, "waiting": 3}),
                               received(), messages)


async def bench_bare_redis(url: str, messages: int) -> list[float]:
    channel = f"bench-bare:{secrets.token_hex(4)}"
    publisher = aioredis.Redis.from_url(url)
    subscriber = aioredis.Redis.from_url(url)
    pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)

    async def received() -> AsyncIterator[int]:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is not None:
                yield json.loads(message["data"])["i"]

    try:
        return await ping_pong(
            lambda i: publisher.publish(channel, json.dumps({"type": "queue", "i": i, "waiting": 3})),
            received(), messages)
    finally:
        await pubsub.aclose()
        await subscriber.aclose()
        await publisher.aclose()


async def main(args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, dict[str, float]] = {}
    async with open_bus("memory://") as bus:
        results["memory"] = summary(await bench_bus(bus, args.messages))
    namespace = f"bench-{secrets.token_hex(4)}"
    try:
        async with open_bus(args.url, namespace=namespace) as bus:
            results["redis"] = summary(await bench_bus(bus, args.messages))
        results["bare_redis"] = summary(await bench_bare_redis(args.url, args.messages))
    finally:
        client = aioredis.Redis.from_url(args.url)
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()

    loop = "uvloop" if args.uvloop else "asyncio"
    print(f"publish -> receive round trip, {args.messages} messages after {WARMUP} warm-up, "
          f"one in flight, {loop} loop, Python {sys.version.split()[0]}")
    print(f"{'backend':<12}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'max ms':>10}")
    for name, figures in results.items():
        print(f"{name:<12}{figures['p50']:>10.3f}{figures['p99']:>10.3f}"
              f"{figures['mean']:>10.3f}{figures['max']:>10.3f}")
    p50_ratio = results["redis"]["p50"] / results["bare_redis"]["p50"]
    p99_ratio = results["redis"]["p99"] / results["bare_redis"]["p99"]
    print(f"RedisBus / bare redis-py: p50 x{p50_ratio:.2f}, p99 x{p99_ratio:.2f} "
          "(RedisBus adds: Lua INCR+ZADD+trim+EXPIRE, msgspec, per-subscription queue)")
    figures = {f"{name}_{stat}_ms": round(value, 4)
               for name, stats in results.items() for stat, value in stats.items() if stat in ("p50", "p99")}
    figures["redis_over_bare_p50_ratio"] = round(p50_ratio, 3)
    figures["redis_over_bare_p99_ratio"] = round(p99_ratio, 3)
    figures["messages"] = args.messages
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (as uvicorn[standard] does)")
    arguments = parser.parse_args()
    if arguments.uvloop:
        import uvloop

        figures = uvloop.run(main(arguments))
    else:
        figures = asyncio.run(main(arguments))
    print(json.dumps(figures))
