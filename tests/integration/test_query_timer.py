"""Every database call is timed for /metrics (open_database's ``timer``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desktop.repository.engine import open_database


async def test_each_read_and_write_is_timed_by_kind_even_when_it_fails(database_url: str):
    told: list[tuple[str, float]] = []
    database = open_database(database_url, timer=lambda kind, seconds: told.append((kind, seconds)))
    try:
        await database.write(lambda conn: conn.execute(text("CREATE TABLE timed (n INTEGER)")))
        await database.write(lambda conn: conn.execute(text("INSERT INTO timed VALUES (1)")))
        assert await database.read(lambda conn: conn.execute(text("SELECT n FROM timed")).scalar()) == 1
        assert await database.read_fast(lambda conn: conn.execute(text("SELECT count(*) FROM timed")).scalar()) == 1
        with pytest.raises(Exception):
            await database.write(lambda conn: conn.execute(text("INSERT INTO missing VALUES (1)")))
        assert database.dialect in ("sqlite", "postgresql")
    finally:
        await database.dispose()
    assert [kind for kind, _ in told] == ["write", "write", "read", "read", "write"]
    assert all(0 < seconds < 30 for _, seconds in told)
