"""The bus contract, run against memory:// and the real Redis (redis://).

Each Redis test gets its own namespace, deleted afterwards. "Two processes" are two RedisBus
instances on the same Redis; memory:// has one process only, so there both handles are
the same MemoryBus.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import msgspec
import pytest
import redis.asyncio as aioredis

from signaling.bus import (
    Bus,
    BusClosed,
    BusUnavailable,
    EventNotSerialisable,
    Leadership,
    MemoryBus,
    RedisBus,
    SubscriptionLagged,
    open_bus,
)

TIMEOUT = 3.0  # seconds any single expected delivery may take


@dataclass
class Backend:
    kind: str
    url: str
    namespace: str = field(default_factory=lambda: f"test-{secrets.token_hex(4)}")
    _shared: dict[int, Bus] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def open(self, *, replay_window: int = 500) -> AsyncIterator[Bus]:
        """A bus as another process would open it (memory: the one shared bus)."""
        if self.kind == "memory":
            if replay_window not in self._shared:
                self._shared[replay_window] = MemoryBus(replay_window=replay_window)
            yield self._shared[replay_window]
            return
        async with open_bus(self.url, replay_window=replay_window, namespace=self.namespace) as bus:
            yield bus


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        backend = Backend("memory", "memory://")
        yield backend
        for bus in backend._shared.values():
            await bus.close()
        return
    backend = Backend("redis", request.getfixturevalue("redis_url"))
    try:
        yield backend
    finally:
        client = aioredis.Redis.from_url(backend.url)
        keys = [key async for key in client.scan_iter(match=f"{backend.namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def receive(subscription, count: int) -> list[tuple[int, dict]]:
    received = []
    async with asyncio.timeout(TIMEOUT):
        async for item in subscription:
            received.append(item)
            if len(received) == count:
                break
    return received


async def nothing_more(subscription, wait: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(wait):
            item = await anext(subscription)
            pytest.fail(f"unexpected extra event {item}")


async def test_seq_numbers_each_room_from_one_and_delivers_in_order(backend: Backend) -> None:
    async with backend.open() as bus:
        assert await bus.last_seq("room-a") == 0
        async with bus.subscribe("room-a") as sub:
            seqs = [await bus.publish("room-a", {"n": n}) for n in range(100)]
            assert seqs == list(range(1, 101))
            assert await bus.publish("room-b", {"n": 0}) == 1  # numbering is per room
            received = await receive(sub, 100)
        assert received == [(n + 1, {"n": n}) for n in range(100)]
        assert await bus.last_seq("room-a") == 100


async def test_events_published_before_subscribing_are_not_delivered(backend: Backend) -> None:
    async with backend.open() as bus:
        await bus.publish("room", {"n": "old"})
        async with bus.subscribe("room") as sub:
            await bus.publish("room", {"n": "new"})
            assert await receive(sub, 1) == [(2, {"n": "new"})]
            await nothing_more(sub)


async def test_two_processes_see_each_others_publishes_in_seq_order(backend: Backend) -> None:
    async with backend.open() as a, backend.open() as b:
        async with a.subscribe("room") as sub_a, b.subscribe("room") as sub_b:
            # Interleaved, concurrent publishes from both "processes".
            seqs = await asyncio.gather(*[(a if n % 2 else b).publish("room", {"n": n}) for n in range(200)])
            assert sorted(seqs) == list(range(1, 201))
            got_a, got_b = await receive(sub_a, 200), await receive(sub_b, 200)
        assert [seq for seq, _ in got_a] == list(range(1, 201))
        assert got_a == got_b
        by_seq = dict(got_a)
        assert all(by_seq[seq] == {"n": n} for n, seq in enumerate(seqs))


async def test_subscribing_again_to_a_room_keeps_every_subscription_fed(backend: Backend) -> None:
    async with backend.open() as bus:
        async with bus.subscribe("room") as first:
            for round_ in range(5):  # quick unsubscribe/resubscribe must not drop the channel
                async with bus.subscribe("room") as second:
                    seq = await bus.publish("room", {"round": round_})
                    assert await receive(second, 1) == [(seq, {"round": round_})]
            assert [seq for seq, _ in await receive(first, 5)] == [1, 2, 3, 4, 5]
        async with bus.subscribe("room") as again:
            await bus.publish("room", {"round": "last"})
            assert await receive(again, 1) == [(6, {"round": "last"})]


async def test_replay_returns_missed_events_or_none_when_too_old(backend: Backend) -> None:
    async with backend.open(replay_window=5) as bus:
        assert await bus.replay("room", 0) == []  # nothing published: up to date
        for n in range(1, 9):
            await bus.publish("room", {"n": n})
        assert await bus.replay("room", 3) == [(seq, {"n": seq}) for seq in range(4, 9)]
        assert await bus.replay("room", 7) == [(8, {"n": 8})]
        assert await bus.replay("room", 8) == []
        assert await bus.replay("room", 2) is None  # seq 3 left the window
        assert await bus.replay("room", 0) is None
        assert await bus.replay("room", 9) is None  # ahead of the room: counter restarted


async def test_keep_shrinks_a_rooms_replay_window_for_snapshot_rooms(backend: Backend) -> None:
    async with backend.open(replay_window=50) as bus:
        for n in range(1, 11):
            await bus.publish("snapshots", {"n": n}, keep=3)
        assert await bus.replay("snapshots", 7) == [(seq, {"n": seq}) for seq in (8, 9, 10)]
        assert await bus.replay("snapshots", 6) is None  # seq 7 was dropped: only 3 kept
        for n in range(1, 11):
            await bus.publish("other", {"n": n})
        assert len(await bus.replay("other", 0)) == 10  # other rooms keep the bus's window
        with pytest.raises(ValueError, match="keep"):
            await bus.publish("snapshots", {"n": 11}, keep=0)


async def test_a_publishers_later_changes_never_reach_subscribers(backend: Backend) -> None:
    async with backend.open() as bus, bus.subscribe("room") as sub:
        nested = {"type": "nested", "items": [1, 2]}
        flat = {"type": "flat", "frames": msgspec.Raw(b'[{"a":1}]')}
        await bus.publish("room", nested)
        await bus.publish("room", flat)
        nested["items"].append(3)
        flat["type"] = "changed"
        first = await asyncio.wait_for(anext(sub), TIMEOUT)
        second = await asyncio.wait_for(anext(sub), TIMEOUT)
        assert first[1] == {"type": "nested", "items": [1, 2]}
        assert second[1]["type"] == "flat"
        assert msgspec.json.decode(msgspec.json.encode(second[1]["frames"])) == [{"a": 1}]


async def test_slow_subscriber_is_told_it_lagged_and_others_keep_going(backend: Backend) -> None:
    async with backend.open() as bus:
        async with bus.subscribe("room", buffer=10) as slow, bus.subscribe("room") as fast:
            for n in range(11):
                await bus.publish("room", {"n": n})
            assert len(await receive(fast, 11)) == 11
            with pytest.raises(SubscriptionLagged):
                async with asyncio.timeout(TIMEOUT):
                    async for _ in slow:
                        pass


async def test_the_bus_counts_publishes_lagged_subscriptions_and_the_deepest_backlog(backend: Backend) -> None:
    """What /metrics reads of a bus (Bus.stats, Bus.backlog)."""

    async def until(condition) -> None:  # Redis delivers through its pub/sub reader task
        async with asyncio.timeout(TIMEOUT):
            while not condition():
                await asyncio.sleep(0.01)

    async with backend.open() as bus:
        published, lagged = bus.stats.publish.count, bus.stats.lagged
        async with bus.subscribe("counted", buffer=5) as slow:
            for n in range(4):
                await bus.publish("counted", {"n": n})
            assert bus.stats.publish.count == published + 4 and bus.stats.publish.sum > 0
            await until(lambda: bus.backlog() == 4)
            for n in range(4, 10):
                await bus.publish("counted", {"n": n})
            await until(lambda: bus.stats.lagged == lagged + 1)
            assert bus.backlog() == 0  # a lagged subscription's backlog is freed at once
            with pytest.raises(SubscriptionLagged):
                await anext(slow)
            await bus.publish("counted", {"n": 10})
        assert bus.stats.lagged == lagged + 1  # once per subscription, however far it falls
        assert bus.stats.publish.count == published + 11


async def test_router_inbox_is_fifo_across_processes(backend: Backend) -> None:
    async with backend.open() as a, backend.open() as b:
        for n in range(20):
            await (a if n % 2 else b).send_to_router({"op": "ping", "n": n})
        received = []
        async with b.router_inbox() as inbox:
            async with asyncio.timeout(TIMEOUT):
                async for command in inbox:
                    received.append(command["n"])
                    if len(received) == 20:
                        break
        assert received == list(range(20))


async def wait_for_holder(*leaderships: Leadership, timeout: float) -> list[Leadership]:
    """Wait until one contender holds the lease; return all that hold it."""
    waiters = [asyncio.create_task(ld.acquired()) for ld in leaderships]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return [ld for ld in leaderships if ld.held]


async def test_leadership_is_exclusive_and_passes_on_when_the_holder_leaves(backend: Backend) -> None:
    lease = 1.0
    async with backend.open() as a, backend.open() as b, contextlib.AsyncExitStack() as outer:
        stacks = {owner: await outer.enter_async_context(contextlib.AsyncExitStack()) for owner in "ab"}
        la = await stacks["a"].enter_async_context(a.leadership("router", "a", lease=lease))
        lb = await stacks["b"].enter_async_context(b.leadership("router", "b", lease=lease))
        assert len(await wait_for_holder(la, lb, timeout=TIMEOUT)) == 1
        await asyncio.sleep(lease * 1.5)  # renewals keep it; the other keeps waiting
        holder, waiting = (la, lb) if la.held else (lb, la)
        assert holder.held and not waiting.held and not holder.lost.is_set()

        await stacks[holder.owner].aclose()  # the holder leaves: it releases the lease
        left = time.monotonic()
        async with asyncio.timeout(lease + 1):
            epoch = await waiting.acquired()
        assert time.monotonic() - left <= lease + 1
        assert epoch > holder.epoch and waiting.held


async def test_leadership_is_taken_over_when_the_holder_stops_renewing(backend: Backend) -> None:
    lease = 1.0
    async with backend.open() as a, backend.open() as b:
        async with a.leadership("router", "a", lease=lease) as la:
            await asyncio.wait_for(la.acquired(), TIMEOUT)
            async with b.leadership("router", "b", lease=lease) as lb:
                await asyncio.sleep(0.1)
                assert not lb.held
                # Simulate a frozen or crashed holder: renewals stop, nothing is released.
                la._task.cancel()
                stopped = time.monotonic()
                async with asyncio.timeout(lease + 1):
                    epoch = await lb.acquired()
                assert time.monotonic() - stopped <= lease + 1
                assert epoch > la.epoch


async def test_holder_is_told_when_its_lease_is_lost(backend: Backend) -> None:
    lease = 0.9
    async with backend.open() as a, backend.open() as b:
        async with a.leadership("router", "a", lease=lease) as la:
            await asyncio.wait_for(la.acquired(), TIMEOUT)
            # Another process grabs the lease (as if ours had expired during a pause).
            await b.lease_release("router", "a")
            intruder_epoch, _ = await b.lease_acquire("router", "intruder", 60)
            async with asyncio.timeout(lease):  # the next renewal, lease/3 away, notices
                await la.lost.wait()
            assert not la.held and intruder_epoch > la.epoch
        await b.lease_release("router", "intruder")


async def test_hit_limits_rate_across_processes_with_a_sliding_window(backend: Backend) -> None:
    async with backend.open() as a, backend.open() as b:
        hits = [await (a, b)[t % 2].hit("ip:1", limit=3, window=10, now=1000.0 + t) for t in range(4)]
        assert hits == [True, True, True, False]
        assert await a.hit("ip:2", limit=3, window=10, now=1003.0)  # keys are independent
        # At 1010.5 the hits of 1001..1003 (the refused one counts) are still in the window.
        assert not await b.hit("ip:1", limit=3, window=10, now=1010.5)
        assert await a.hit("ip:1", limit=3, window=10, now=1013.5)  # only 1010.5 remains
        # The backend's own clock (Redis TIME: shared by all processes).
        assert [await a.hit("ip:3", limit=2, window=60) for _ in range(3)] == [True, True, False]


async def test_take_refuses_without_spending_and_says_when_a_slot_frees(backend: Backend) -> None:
    async with backend.open() as a, backend.open() as b:
        assert [await (a, b)[t % 2].take("nat:1", limit=2, window=10, now=1000.0 + t)
                for t in range(2)] == [0.0, 0.0]
        # Refused requests record nothing: hammering does not push the retry time back.
        for t in (2.0, 3.0, 9.0):
            assert await a.take("nat:1", limit=2, window=10, now=1000.0 + t) == pytest.approx(10.0 - t)
        assert await b.take("nat:1", limit=2, window=10, now=1010.0) == 0.0  # 1000 left the window
        assert await a.take("nat:1", limit=2, window=10, now=1010.5) == pytest.approx(0.5)
        # A slot given back (a request that should not count) is free again at once.
        assert await a.take("nat:2", limit=1, window=60, member="cb-1", now=2000.0) == 0.0
        assert await b.take("nat:2", limit=1, window=60, now=2001.0) == pytest.approx(59.0)
        await b.give_back("nat:2", "cb-1")
        assert await a.take("nat:2", limit=1, window=60, now=2002.0) == 0.0
        # The backend's own clock.
        assert await a.take("nat:3", limit=1, window=60) == 0.0
        assert 59.0 < await b.take("nat:3", limit=1, window=60) <= 60.0


async def test_remember_keeps_the_first_value_for_every_process_until_it_expires(backend: Backend) -> None:
    async with backend.open() as a, backend.open() as b:
        assert await a.recall("outcome:x") is None
        assert await a.remember("outcome:x", {"ok": True}, ttl=0.3) == {"ok": True}
        # Another process's later value does not replace it: the first outcome stands.
        assert await b.remember("outcome:x", {"ok": False, "code": "not_found"}, ttl=0.3) == {"ok": True}
        assert await b.recall("outcome:x") == {"ok": True}
        await asyncio.sleep(0.5)
        assert await b.recall("outcome:x") is None


async def test_erase_deletes_replay_windows_by_room_prefix(backend: Backend) -> None:
    async with backend.open() as bus:
        for room in ("customer:1:call", "customer:1:chat", "customer:12:call", "customer:2:call"):
            await bus.publish(room, {"room": room})
        assert await bus.erase("customer:1:") == 2
        assert await bus.replay("customer:1:call", 0) is None  # gone: callers resync
        assert await bus.last_seq("customer:1:call") == 1  # numbering never goes back
        assert await bus.replay("customer:12:call", 0) == [(1, {"room": "customer:12:call"})]
        assert await bus.erase("customer:[") == 0  # glob characters are literal


async def test_events_must_be_json_objects(backend: Backend) -> None:
    async with backend.open() as bus:
        with pytest.raises(EventNotSerialisable):
            await bus.publish("room", {"when": object()})
        with pytest.raises(EventNotSerialisable):
            await bus.publish("room", ["not", "a", "dict"])  # type: ignore[arg-type]
        assert await bus.last_seq("room") == 0
        await bus.publish("room", {"tuple": (1, 2)})
        assert await bus.replay("room", 0) == [(1, {"tuple": [1, 2]})]  # JSON shapes everywhere


async def test_close_ends_iteration_and_refuses_further_use(backend: Backend) -> None:
    async with backend.open() as bus:
        async with bus.subscribe("room") as sub:
            waiter = asyncio.create_task(anext(sub, "ended"))
            await asyncio.sleep(0.05)
            await bus.close()
            assert await asyncio.wait_for(waiter, TIMEOUT) == "ended"
        with pytest.raises(BusClosed):
            await bus.publish("room", {})
        await bus.close()  # idempotent


async def test_a_caller_cancelled_at_any_moment_of_a_call_ends_cancelled(backend: Backend) -> None:
    """A cancel is never lost inside a bus call, whatever loop turn it lands on. redis-py sends
    through ``asyncio.wait_for``, which on Python 3.11 drops a cancel landing in the turn or
    two after the send: a router cancelled there at a stop led on and never ended (CI)."""
    async with backend.open() as bus:
        await bus.publish("room", {"n": 0})  # the connection made, so every turn is a command's
        calls = {"publish": lambda: bus.publish("room", {"n": 1}), "recall": lambda: bus.recall("k"),
                 "remember": lambda: bus.remember("k", {"a": 1}, ttl=60),
                 "send_to_router": lambda: bus.send_to_router({"op": "x"}),
                 "lease_renew": lambda: bus.lease_renew("lease", "me", 5.0)}
        lost = []
        for name, call in calls.items():
            for turns in range(40):
                task = asyncio.create_task(call())
                for _ in range(turns):
                    await asyncio.sleep(0)
                if task.done():
                    break  # cancelled after it ended: every turn of this call was tried
                task.cancel()
                done, _ = await asyncio.wait([task], timeout=TIMEOUT)
                assert done, f"{name} cancelled {turns} turn(s) in did not end"
                if not task.cancelled():
                    lost.append((name, turns))
        assert lost == [], f"cancels lost (call, loop turns in): {lost}"


async def test_open_bus_rejects_unknown_schemes_and_unreachable_redis() -> None:
    with pytest.raises(ValueError, match="Unsupported bus URL scheme"):
        async with open_bus("kafka://localhost"):
            pass
    for url in (None, "", "memory://"):
        async with open_bus(url) as bus:
            assert isinstance(bus, MemoryBus)
    with pytest.raises(BusUnavailable):
        async with open_bus("redis://127.0.0.1:1/0"):
            pass


# -- Redis only: the pub/sub connection dies and comes back --


async def kill_pubsub_connection(bus: RedisBus, admin: aioredis.Redis) -> None:
    name = f"{bus.client_name}:pubsub"
    clients = [c for c in await admin.client_list() if c.get("name") == name]
    assert len(clients) == 1, f"expected one connection named {name}"
    await admin.client_kill_filter(_id=clients[0]["id"])


@pytest.fixture
async def admin(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client of the same Redis: to look at keys and connections, or cut one."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def redis_backend(redis_url: str, admin: aioredis.Redis) -> AsyncIterator[Backend]:
    backend = Backend("redis", redis_url)
    yield backend
    keys = [key async for key in admin.scan_iter(match=f"{backend.namespace}:*")]
    if keys:
        await admin.delete(*keys)


@pytest.mark.redis
async def test_publish_during_a_pubsub_outage_is_delivered_once_by_replay(
        redis_backend: Backend, admin: aioredis.Redis) -> None:
    async with redis_backend.open() as a, redis_backend.open() as b:
        assert isinstance(a, RedisBus)
        async with a.subscribe("room") as sub:
            await b.publish("room", {"n": 1})
            assert await receive(sub, 1) == [(1, {"n": 1})]

            await kill_pubsub_connection(a, admin)
            channel = f"{redis_backend.namespace}:room:room"
            assert (await admin.pubsub_numsub(channel))[0][1] == 0  # nobody listening now
            await b.publish("room", {"n": 2})  # published while a's pub/sub is down

            assert await receive(sub, 1) == [(2, {"n": 2})]  # recovered from the window
            assert a.fanout.reconnects == 1
            await b.publish("room", {"n": 3})  # and live delivery resumed
            assert await receive(sub, 1) == [(3, {"n": 3})]
            await nothing_more(sub)  # no duplicates


@pytest.mark.redis
async def test_outage_longer_than_the_window_makes_subscribers_resync(
        redis_backend: Backend, admin: aioredis.Redis) -> None:
    async with redis_backend.open(replay_window=2) as a:
        assert isinstance(a, RedisBus)
        async with a.subscribe("room") as sub:
            await kill_pubsub_connection(a, admin)
            for n in range(5):
                await a.publish("room", {"n": n})
            with pytest.raises(SubscriptionLagged):
                await receive(sub, 5)


async def test_a_released_claim_leaves_no_key_that_lives_forever(
        redis_backend: Backend, admin: aioredis.Redis) -> None:
    # One lease per call (the media anchor's claim): none of their keys may pile up.
    async with redis_backend.open() as bus:
        epoch, _ = await bus.lease_acquire("voice-anchor:c1", "p1", 5)
        assert epoch == 1 and await bus.lease_renew("voice-anchor:c1", "p1", 5)
        await bus.lease_release("voice-anchor:c1", "p1")
    keys = [key async for key in admin.scan_iter(match=f"{redis_backend.namespace}:lease:*")]
    assert keys  # the epoch counter stays a while, so epochs keep growing...
    for key in keys:
        assert await admin.pttl(key) > 0, key  # ...but not forever


@pytest.mark.redis
async def test_rooms_left_together_go_in_few_unsubscribes_and_a_room_taken_again_stays(
        redis_backend: Backend, admin: aioredis.Redis) -> None:
    # A process stopping leaves thousands of rooms at once: one UNSUBSCRIBE each (and a turn
    # of the lock each) took 5-6 s for 8,000 rooms.
    async with redis_backend.open() as bus, redis_backend.open() as other:
        assert isinstance(bus, RedisBus)
        leave, held = asyncio.Event(), asyncio.Event()
        entered = 0

        async def hold(room: str) -> None:
            nonlocal entered
            async with bus.subscribe(room):
                entered += 1
                await leave.wait()

        holders = [asyncio.create_task(hold(f"r{i}")) for i in range(200)]
        async with asyncio.timeout(TIMEOUT):
            while entered < 200:
                await asyncio.sleep(0.01)
        sent: list[tuple] = []
        pubsub = bus.fanout._pubsub  # connected: every subscription was confirmed
        execute = pubsub.execute_command

        async def counted(*args):
            sent.append(args)
            return await execute(*args)

        pubsub.execute_command = counted
        leave.set()

        async def again() -> None:  # r0 taken again as the others leave
            async with bus.subscribe("r0") as sub:
                held.set()
                assert await receive(sub, 1) == [(1, {"n": 1})]

        taker = asyncio.create_task(again())
        await asyncio.gather(*holders)
        unsubscribes = [args for args in sent if args[0] == "UNSUBSCRIBE"]
        assert 1 <= len(unsubscribes) <= 3
        await asyncio.wait_for(held.wait(), TIMEOUT)
        channels = [f"{redis_backend.namespace}:room:r{i}" for i in range(200)]
        counts = dict(await admin.pubsub_numsub(*channels))
        assert counts[channels[0].encode()] == 1
        assert sum(counts.values()) == 1
        await other.publish("r0", {"n": 1})
        await asyncio.wait_for(taker, TIMEOUT)
