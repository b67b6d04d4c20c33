"""Bring a database's schema to the newest migration, without an alembic.ini.

``upgrade_database(url)`` is for the CLI (``otodesk db upgrade``) and other
synchronous callers; ``await upgrade_database_async(url)`` is for code already
inside an event loop (the app's lifespan, tests). Both are idempotent: on an
up-to-date database they only read ``alembic_version``.

To write a new migration, build a config with :func:`alembic_config` and call
``alembic.command.revision(cfg, "what changed", autogenerate=True)`` against a
database at head, then read and tidy the generated file in ``migrations/versions``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from desktop.repository.engine import open_database

__all__ = ["MIGRATIONS_DIR", "alembic_config", "upgrade_database", "upgrade_database_async"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` with this package's migrations; no file is read."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%': a password like 'p%40ss' must be escaped.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str) -> None:
    """Upgrade the database at ``url`` to the newest schema ("head").

    Must not be called from a running event loop (use
    :func:`upgrade_database_async` there). Creates the directory of a SQLite
    file if missing. Raises whatever the driver raises if the database is unreachable.
    """
    asyncio.run(upgrade_database_async(url))


async def upgrade_database_async(url: str) -> None:
    """Upgrade the database at ``url`` to the newest schema ("head"), in one transaction."""
    database = open_database(url)
    try:
        await database.write(run_migrations, alembic_config(url))
    finally:
        await database.dispose()


def run_migrations(connection: Connection, cfg: Config) -> None:
    """Upgrade through ``connection``, inside the caller's transaction."""
    # env.py picks the connection up instead of opening its own.
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
