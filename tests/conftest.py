"""Shared fixtures: a database of each supported kind, empty, and a repository on it.

``postgres_url`` (session)
    URL of a PostgreSQL database created for this test session
    (``otodesk_test_<random>``) and dropped at its end. The server is
    ``OTODESK_TEST_POSTGRES_URL`` (default
    ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``). Unreachable: the
    test is skipped with the reason, or fails when ``CI=true``.

``database_url`` (function; parametrized ``sqlite``, ``postgresql``)
    URL of an empty database: a fresh SQLite file under ``tmp_path``, or the
    session's PostgreSQL database with its ``public`` schema dropped and
    recreated. The ``postgresql`` case carries the ``postgres`` mark
    (``-m "not postgres"`` leaves it out).

``redis_url`` (session)
    URL of the real Redis (``OTODESK_TEST_REDIS_URL``, default
    ``redis://127.0.0.1:6379/0``). Unreachable: skipped with the reason, or fails
    when ``CI=true``. Tests share the server: use a random key namespace each.

``repo`` (function)
    A :class:`~desktop.repository.Repository` open on ``database_url``,
    migrated to head, with cheap argon2 parameters.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from desktop.repository import Repository, upgrade_database_async
from tests.helpers.cluster import empty_postgres

T = TypeVar("T")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

#: Argon2 at its cheapest: tests hash many passwords and prove nothing about cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _asyncpg_dsn(url: Any) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run_apart(make: Callable[[], Awaitable[T]]) -> T:
    # Sync fixtures run outside pytest-asyncio's loop but in its thread; a loop
    # of our own in another thread leaves that one's state untouched.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()  # type: ignore[arg-type]


def _postgres_server() -> Any:
    return make_url(os.environ.get("OTODESK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import asyncpg

    server = _postgres_server()
    name = f"otodesk_test_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(server), timeout=3)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        _run_apart(create)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        reason = f"PostgreSQL at {server.render_as_string()} is unreachable: {error!r}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)

    url = server.set(database=name).render_as_string(hide_password=False)
    yield url
    _run_apart(lambda: _drop_database(url))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'otodesk.db'}"
    url = request.getfixturevalue("postgres_url")
    await empty_postgres(url)
    return url


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The schema at head, made once per test process for each kind of database as it is first
    asked for (migrating took 0.3-0.5 s on SQLite and 1-1.3 s on PostgreSQL for each test):
    kind -> a SQLite file to copy, or a PostgreSQL database to use as ``TEMPLATE``."""
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        _run_apart(lambda: _drop_database(made["postgresql"]))


async def _drop_database(url: str) -> None:
    import asyncpg

    target = make_url(url)
    conn = await asyncpg.connect(_asyncpg_dsn(_postgres_server()), timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def _migrated_copy(url: str, templates: dict[str, str], tmp_path_factory) -> None:
    """Make the empty database at ``url`` the schema at head, from this process's template."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        if "sqlite" not in templates:
            path = tmp_path_factory.mktemp("migrated") / "template.db"
            await upgrade_database_async(f"sqlite+aiosqlite:///{path}")
            templates["sqlite"] = str(path)
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates["sqlite"], target.database)
        return
    import asyncpg

    template = target.set(database=f"{target.database}_template")
    admin = await asyncpg.connect(_asyncpg_dsn(_postgres_server()), timeout=3)
    try:
        if "postgresql" not in templates:
            await admin.execute(f'DROP DATABASE IF EXISTS "{template.database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{template.database}"')
            await upgrade_database_async(template.render_as_string(hide_password=False))
            templates["postgresql"] = template.render_as_string(hide_password=False)
        # Same name, so a test that opens database_url itself meets the repository's database.
        await admin.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{target.database}" TEMPLATE "{template.database}"')
    finally:
        await admin.close()


@pytest.fixture
async def repo(database_url: str, migrated_templates, tmp_path_factory) -> AsyncIterator[Repository]:
    await _migrated_copy(database_url, migrated_templates, tmp_path_factory)
    async with Repository.open(database_url, password_hasher=FAST_HASHER) as repository:
        yield repository


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("OTODESK_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    try:
        socket.create_connection((host, port), timeout=1.0).close()
    except OSError as error:
        reason = f"Redis at {host}:{port} is unreachable: {error!r}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: Redis tests must run)")
        pytest.skip(reason)
    return url
