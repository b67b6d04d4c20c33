"""How the repository talks to each backend: run a function in one transaction.

Every query of the repository is a plain synchronous function of a SQLAlchemy
``Connection``; a :class:`Database` runs it inside one transaction, the
fastest way for its backend, and returns its result:

``sqlite+aiosqlite:///path/to/file.db`` (also ``sqlite:///...``)
    The whole transaction runs on a worker thread with the standard
    ``sqlite3`` driver: one hop off the event loop per transaction instead of
    three or four per statement through aiosqlite (a two-event routing batch
    measured 4.3 ms through aiosqlite, 1.1 ms this way). Writes share ONE thread, so they never
    wait on each other's locks in SQLite's busy loop; reads have a few
    threads (WAL lets them run beside a write). Each connection turns on
    WAL, ``synchronous=NORMAL`` (no fsync per commit: a power cut may lose
    the last commits, never consistency) and foreign keys. Write transactions
    begin with ``BEGIN IMMEDIATE``, so another process's writer (the CLI) is
    waited for, up to :data:`SQLITE_BUSY_TIMEOUT` seconds, rather than
    failing halfway. The file's directory is created if missing.

``postgresql+asyncpg://user@host/db``
    An async engine; the function runs through ``AsyncConnection.run_sync``.

Cancelling a caller does not abort a SQLite transaction already handed to its
thread: it still commits or rolls back as a whole, and the result is dropped.

With a ``timer`` (:func:`open_database`), every call is timed as its caller waits for it
(a free connection or thread, the queries, the commit) and told ``timer(kind, seconds)``,
``kind`` "read" (``read``, ``read_fast``) or "write": what ``/metrics`` shows.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["SQLITE_BUSY_TIMEOUT", "SQLITE_READ_THREADS", "Database", "QueryTimer", "open_database"]

#: Seconds a SQLite connection waits for another process's write lock.
SQLITE_BUSY_TIMEOUT = 30.0
#: Threads (and so connections) reading a SQLite file at once.
SQLITE_READ_THREADS = 4

P = ParamSpec("P")
T = TypeVar("T")
Query = Callable[Concatenate[Connection, P], T]
#: Told ``(kind, seconds)`` after every call, "read" or "write"; must be quick and never raise.
QueryTimer = Callable[[str, float], None]

_WRITE_OPTION = "otodesk_write"


class Database(abc.ABC):
    """Runs query functions in transactions. Build with :func:`open_database`."""

    #: ``"sqlite"`` or ``"postgresql"``.
    dialect: str

    @abc.abstractmethod
    async def write(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, *args, **kwargs)`` in a transaction, committed before this returns.

        An exception from ``fn`` rolls the transaction back and propagates.
        """

    @abc.abstractmethod
    async def read(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, ...)`` for reading; whatever it wrote is rolled back."""

    async def read_fast(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, ...)``, which only reads, with the fewest round trips the backend allows.

        On PostgreSQL each statement runs on its own (autocommit): no ``BEGIN`` and
        ``ROLLBACK`` round trips around the queries, which was a fifth of opening a
        customer. Each statement then sees the latest commit, as it would inside a
        READ COMMITTED transaction anyway. ``fn`` must not write (nothing would roll
        it back). Elsewhere this is :meth:`read`.
        """
        return await self.read(fn, *args, **kwargs)

    @abc.abstractmethod
    async def dispose(self) -> None:
        """Close every connection (and thread). The object is unusable afterwards."""


#: Connections a process keeps open to PostgreSQL. SQLAlchemy's default, 5, was below one
#: report's nine reads at once: four connections were opened and closed again on every report
#: (a PostgreSQL backend started each time; p50 124 -> 77 ms at 5 M callbacks). At most
#: 15 a process as before (5 more for a while): mind PostgreSQL's max_connections (100).
POSTGRES_POOL = 10


def open_database(url: str | URL, *, timer: QueryTimer | None = None) -> Database:
    """A :class:`Database` for ``url``; the caller must ``await db.dispose()``. ``timer``: told
    how long each call took (see the module's docstring).

    Raises ``ValueError`` for a backend other than SQLite or PostgreSQL.
    """
    sa_url = make_url(url)
    backend = sa_url.get_backend_name()
    database: Database
    if backend == "sqlite":
        database = _SqliteDatabase(sa_url)
    elif backend == "postgresql":
        database = _AsyncDatabase(create_async_engine(sa_url, pool_size=POSTGRES_POOL, max_overflow=5))
    else:
        raise ValueError(
            f"Unsupported database URL {sa_url!r}: use sqlite+aiosqlite:///file or postgresql+asyncpg://"
        )
    return database if timer is None else _Timed(database, timer)


class _Timed(Database):
    """Another database's calls, each timed for ``timer`` (failures too: the caller waited)."""

    def __init__(self, database: Database, timer: QueryTimer) -> None:
        self.dialect = database.dialect
        self._database = database
        self._timer = timer

    async def write(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            return await self._database.write(fn, *args, **kwargs)
        finally:
            self._timer("write", time.perf_counter() - started)

    async def read(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            return await self._database.read(fn, *args, **kwargs)
        finally:
            self._timer("read", time.perf_counter() - started)

    async def read_fast(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            return await self._database.read_fast(fn, *args, **kwargs)
        finally:
            self._timer("read", time.perf_counter() - started)

    async def dispose(self) -> None:
        await self._database.dispose()


class _AsyncDatabase(Database):
    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect.name
        self._engine = engine
        # Same pool; the isolation level is set on checkout and reset on return.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def write(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(fn, *args, **kwargs)

    async def read(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._engine.connect() as conn:
            return await conn.run_sync(fn, *args, **kwargs)

    async def read_fast(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._autocommit.connect() as conn:
            return await conn.run_sync(fn, *args, **kwargs)

    async def dispose(self) -> None:
        await self._engine.dispose()


class _SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, url: URL) -> None:
        database = url.database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in database
        if not in_memory and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        url = url.set(drivername="sqlite+pysqlite")
        if in_memory:
            # One connection, so one thread for everything: a second would be another database.
            self._engine = create_engine(
                url, poolclass=pool.StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            self._engine = create_engine(
                url,
                pool_size=SQLITE_READ_THREADS + 1,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT},
            )
        event.listen(self._engine, "connect", _sqlite_on_connect)
        event.listen(self._engine, "begin", _sqlite_on_begin)
        self._writer = self._engine.execution_options(**{_WRITE_OPTION: True})
        self._write_thread = concurrent.futures.ThreadPoolExecutor(1, "otodesk-db-write")
        self._read_threads = (
            self._write_thread if in_memory
            else concurrent.futures.ThreadPoolExecutor(SQLITE_READ_THREADS, "otodesk-db-read")
        )

    async def write(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        call = functools.partial(_in_transaction, self._writer, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._write_thread, call)

    async def read(self, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        call = functools.partial(_looking, self._engine, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._read_threads, call)

    async def dispose(self) -> None:
        def close() -> None:
            self._read_threads.shutdown(wait=True)
            self._write_thread.shutdown(wait=True)
            self._engine.dispose()

        await asyncio.to_thread(close)


def _in_transaction(engine: Engine, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with engine.begin() as conn:
        return fn(conn, *args, **kwargs)


def _looking(engine: Engine, fn: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with engine.connect() as conn:
        return fn(conn, *args, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take BEGIN out of the driver's hands (see _sqlite_on_begin); the PRAGMAs
    # then run outside any transaction, where journal_mode may change.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Erasure must not leave a person's bytes in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        # 32 MB of page cache per connection instead of 2 MB: a timeline index of
        # millions of rows stays in memory (and bulk imports don't thrash it).
        cursor.execute("PRAGMA cache_size=-32768")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with
    # "database is locked" if another connection committed in between; an
    # immediate one takes the write lock up front and waits for it instead.
    immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
