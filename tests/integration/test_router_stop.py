"""A leading router stops when cancelled (a process's stop: desktop/app.py cancels its router
task), whatever loop turn of a bus call the cancel lands on.

Seen in CI: a leader given SIGTERM logged "Waiting for application shutdown." and nothing more.
Its router task had been cancelled in the loop turn or two after redis-py sent a command, where
``asyncio.wait_for`` (Python 3.11) returns the send's result and drops the cancel: the router
led on, renewing its lease, until the process was killed. Here the cancel is put on each turn
of the leader's first publish (its "I lead" announcement) in turn, on the real Redis, with the
database of each kind.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from desktop.leader.service import RoutingService
from desktop.settings import Settings
from signaling.bus import open_bus
from signaling.bus.tasks import awaiting
from tests.helpers.cluster import forget_redis_namespace

pytestmark = pytest.mark.redis

STOP = 5.0  # seconds a cancelled router may take to end: it releases its lease (one Redis call)


async def test_a_leading_router_cancelled_on_any_turn_of_a_publish_ends(repo, redis_url: str) -> None:
    namespace = f"test-{secrets.token_hex(4)}"
    loop = asyncio.get_running_loop()
    try:
        async with open_bus(redis_url, namespace=namespace) as bus:
            publish = bus.publish
            # From 1: a stop's cancel comes from another task (the lifespan's), while the router
            # waits; the first turn ends the publish's first wait.
            for turns in range(1, 13):
                settings = Settings(secret_key="test", process_id=f"p{turns}", leader_lease=3.0)
                service = RoutingService(repo=repo, bus=bus, settings=settings, clock=time.time)
                router: asyncio.Task | None = None
                armed = True

                def cancel_in(left: int) -> None:
                    if left:
                        loop.call_soon(cancel_in, left - 1)
                    else:
                        router.cancel()

                async def spied(room, event, **options):
                    nonlocal armed
                    if armed and asyncio.current_task() is router:  # the leader's first publish
                        armed = False
                        cancel_in(turns)
                    return await publish(room, event, **options)

                bus.publish = spied
                router = asyncio.create_task(service.run(), name=f"routing-{turns}")
                done, _ = await asyncio.wait([router], timeout=STOP + settings.leader_lease)
                bus.publish = publish
                if not done:
                    where, leading = awaiting(router), service.is_leader
                    router.cancel()  # a second cancel does stop it: leave nothing behind
                    await asyncio.wait([router], timeout=STOP)
                    pytest.fail(f"the router, cancelled {turns} loop turn(s) into its first publish, "
                                f"had not ended {STOP + settings.leader_lease:.0f} s later "
                                f"(leading: {leading}); it waited at {where}")
                assert router.cancelled() and not armed
                assert not service.is_leader
    finally:
        await forget_redis_namespace(redis_url, namespace)
