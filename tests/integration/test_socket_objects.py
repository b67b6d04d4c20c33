"""What an idle socket leaves for the collector to walk: tracked objects per idle customer and
per idle available agent, counted by a real server (``/metrics/gc_census``, after a full pass)
while 200 of each are connected through real websockets clients (the bench's bots, in this
process). A full pass walks every tracked object, so at 10,000 sockets each object more per
socket is ~10,000 more to walk in every full pause (bench/README.md, "GC stall").

Before the hub's sockets skipped the middleware stack, ran their reader in uvicorn's task and
forwarded room events without a task: ~190 a customer, ~170 an agent."""

from __future__ import annotations

import secrets

import httpx

from bench.offer_latency import Bots, Server, command_with_retry, gather_in_batches, raise_open_file_limit, seed

SOCKETS = 200
#: Measured 2026-12-04 with 200 of each: 105.9 and 92.5 (SQLite's cursor weak references and
#: statement caches add a few to the ~96 and ~89 of 2,000): room for that, none for what was cut
#: (the middleware stack ~50, asyncio.wait ~20, a waiting task ~10). Main: ~183 and ~168.
CUSTOMER_BOUND = 125
AGENT_BOUND = 110


async def census(server: Server) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=120.0) as http:
        response = await http.get(f"{server.base_url}/metrics/gc_census")
        response.raise_for_status()
        return response.json()


def per_socket(before: dict[str, int], after: dict[str, int]) -> float:
    return (sum(after.values()) - sum(before.values())) / SOCKETS


async def test_an_idle_socket_leaves_few_tracked_objects(tmp_path):
    raise_open_file_limit(4 * SOCKETS + 1000)
    secret = secrets.token_urlsafe(32)
    agents = await seed(f"sqlite+aiosqlite:///{tmp_path / 'otodesk.db'}", SOCKETS)
    server = Server("objects", tmp_path, {"OTODESK_SECRET_KEY": secret})
    await server.start()
    bots = Bots(server.base_url, server.base_url, secret, concurrency=50)
    try:
        at_rest = await census(server)
        await gather_in_batches(lambda i: bots.customer(), SOCKETS, "customers")
        with_customers = await census(server)
        await gather_in_batches(lambda i: bots.agent(*agents[i], "minted"), SOCKETS, "agents")
        with_agents = await census(server)
        customer, agent = per_socket(at_rest, with_customers), per_socket(with_customers, with_agents)
        assert customer <= CUSTOMER_BOUND, (customer, server.tail())
        assert agent <= AGENT_BOUND, (agent, server.tail())
        # Still sockets that work: a command acknowledged on the ones just counted.
        for bot in bots.agents[:5]:
            await command_with_retry(bot, "set_state", state="available")
    finally:
        await bots.close()
        server.stop()
