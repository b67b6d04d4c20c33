"""Several otodesk processes acting as one, and the clean slate they start from.

- :func:`processes_on_redis_and_postgres`: processes ``a`` (seeded with the demo) and ``b``
  on the session's real PostgreSQL (its ``public`` schema emptied first) and Redis (a key
  namespace of their own, deleted afterwards), on 127.0.0.1: the routing, wall, rules and
  inbound tests that span processes.
- :func:`two_processes`: for voice tests, inside :func:`tests.helpers.netns.network_namespace`:
  a redis-server of their own on ``SERVER_ADDRESS:redis_port`` and processes ``a`` and ``b``
  sharing one SQLite file, each with ``base_url`` set.

Everything is stopped afterwards, even on failure.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.helpers.server import ServerProcess
from tests.helpers.netns import SERVER_ADDRESS, VOICE_ENV

__all__ = ["empty_postgres", "forget_redis_namespace", "processes_on_redis_and_postgres", "two_processes"]


async def empty_postgres(postgres_url: str) -> None:
    """Drop everything in the database's ``public`` schema (the processes migrate it again)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=3)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def forget_redis_namespace(redis_url: str, namespace: str) -> None:
    """Delete every key under ``namespace:`` (what a test's processes left in the shared Redis)."""
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def processes_on_redis_and_postgres(
        tmp: Path, postgres_url: str, redis_url: str, *, env: dict[str, str] | None = None,
        second_env: dict[str, str] | None = None) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    """Processes ``a`` (seeded) and ``b`` sharing an emptied PostgreSQL and a Redis namespace.

    ``env`` is both processes' (over a 3 s router lease), ``second_env`` only ``b``'s (a SIP trunk).
    """
    await empty_postgres(postgres_url)
    namespace = f"otodesk-test-{secrets.token_hex(4)}"
    common = {"OTODESK_DATABASE_URL": postgres_url, "OTODESK_REDIS_URL": redis_url,
              "OTODESK_REDIS_NAMESPACE": namespace, "OTODESK_SECRET_KEY": secrets.token_urlsafe(16),
              "OTODESK_LEADER_LEASE": "3", **(env or {})}
    servers: list[ServerProcess] = []
    try:
        servers.append(ServerProcess(tmp / "a", env={**common, "OTODESK_PROCESS_ID": "a"}, log_name="a").start())
        servers.append(ServerProcess(tmp / "b", env={**common, **(second_env or {}), "OTODESK_PROCESS_ID": "b"},
                                     seed=False, log_name="b").start())
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()
        await forget_redis_namespace(redis_url, namespace)


@contextlib.contextmanager
def two_processes(tmp: Path, *, redis_port: int,
                  env: dict[str, str] | None = None) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    redis = subprocess.Popen([redis_server, "--bind", SERVER_ADDRESS, "--port", str(redis_port), "--save", "",
                              "--appendonly", "no", "--protected-mode", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers = []
    try:
        common = {"OTODESK_HOST": SERVER_ADDRESS, "OTODESK_REDIS_URL": f"redis://{SERVER_ADDRESS}:{redis_port}/0",
                  "OTODESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'shared.db'}",
                  "OTODESK_SECRET_KEY": secrets.token_urlsafe(16), "OTODESK_LEADER_LEASE": "3", **VOICE_ENV,
                  **(env or {})}
        for name, seed in (("a", True), ("b", False)):
            server = ServerProcess(tmp / name, env={**common, "OTODESK_PROCESS_ID": name}, seed=seed, log_name=name)
            server.base_url = f"http://{SERVER_ADDRESS}:{server.port}"
            servers.append(server.start())
        a, b = servers
        yield a, b
    finally:
        for server in servers:
            server.stop()
        redis.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            redis.wait(5)
        if redis.poll() is None:
            redis.kill()
