"""A PostgreSQL database of one test module's own, beside the session's (which other tests reset)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator

from sqlalchemy.engine import make_url

__all__ = ["own_postgres_database"]


@contextlib.contextmanager
def own_postgres_database(postgres_url: str, prefix: str) -> Iterator[str]:
    """A fresh database named ``<prefix>_<random>`` on ``postgres_url``'s server, dropped afterwards."""
    import asyncpg

    url = make_url(postgres_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(statement: str) -> None:
        conn = await asyncpg.connect(dsn, timeout=3)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
