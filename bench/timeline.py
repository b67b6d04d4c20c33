"""How fast the Customer Contact Repository answers an agent, on SQLite and PostgreSQL.

Builds a repository of ``--customers`` customers and ``--events`` timeline
events (one "heavy" customer gets ``--heavy`` of them, the rest are spread
evenly; COPY on PostgreSQL, the timeline's indexes built after the load), then
measures, through the real :class:`Repository`:

- opening a customer: the summary plus the first timeline page (50 entries),
  for random customers and for the heavy one; in turns with each random one,
  the baseline: the bare driver (asyncpg prepared statements, or stdlib
  ``sqlite3``) running the same statements compiled from the same Core objects;
- the heavy customer's next pages; finding a customer by phone typed in a
  national format.

The issue's full size is ``--customers 100000 --events 5000000`` (about a minute
to load on each backend here). ``--pg-database NAME`` / ``--sqlite-path FILE``
keep the data for another run (``--drop`` drops the database at the end);
otherwise a new PostgreSQL database and a temporary SQLite file are used and
removed. Prints p50/p99 per backend and the ratio to the bare driver; the last
line is one JSON object with the units in the keys. Figures, never pass/fail::

    .venv/bin/python -m bench.timeline [--db sqlite|postgresql|both] [--customers N] [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from desktop.repository import Repository, upgrade_database_async
from desktop.repository import timeline_queries as queries
from desktop.repository._store import CONTACT_EVENTS, CUSTOMERS, IDENTITIES

KINDS = [("page_view", "web"), ("callback_requested", "phone"), ("wrap_up", "phone"),
         ("email", "email"), ("note", "desk"), ("store_visit", "store")]
CHUNK = 20_000


def _phone(n: int) -> str:
    return f"+1415{2000000 + n:07d}"


def _national(phone: str) -> str:
    digits = phone[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


async def _load(repo: Repository, customers: int, events: int, heavy: int, now: float) -> list[str]:
    ids = [uuid.uuid4().hex for _ in range(customers)]
    postgres = repo.database.dialect == "postgresql"

    def insert(conn, table, rows):
        if not postgres:
            conn.execute(table.insert(), rows)
            return
        # COPY: an INSERT per row through the async driver loads 5 M rows in an hour.
        from sqlalchemy.util import await_only

        columns = list(rows[0])
        driver = conn.connection.dbapi_connection.driver_connection
        records = [tuple(json.dumps(r[c]) if isinstance(r[c], dict) else r[c] for c in columns)
                   for r in rows]
        await_only(driver.copy_records_to_table(table.name, records=records, columns=columns))

    timeline_indexes = list(CONTACT_EVENTS.indexes)
    # Building the timeline's indexes once after the load is several times faster
    # than keeping them up to date row by row.
    await repo.database.write(lambda conn: [conn.exec_driver_sql(f"DROP INDEX {i.name}")
                                            for i in timeline_indexes])
    for start in range(0, customers, CHUNK):
        batch = [{"id": ids[n], "name": f"Customer {n}", "email": f"c{n}@example.com", "phone": _phone(n),
                  "tier": "standard", "created_at": now, "updated_at": now}
                 for n in range(start, min(customers, start + CHUNK))]
        await repo.database.write(insert, CUSTOMERS, batch)
        await repo.database.write(insert, IDENTITIES, [
            {"customer_id": row["id"], "kind": "email", "value": row["email"], "verified": False,
             "source": "bench", "created_at": now} for row in batch])
    rng = random.Random(7)
    rest = max(0, events - heavy)
    written = 0
    chunk = CHUNK * 5
    while written < events:
        size = min(chunk, events - written)
        rows = []
        for k in range(size):
            n = written + k
            owner = ids[0] if n < heavy else ids[(n - heavy) % customers] if rest else ids[0]
            kind, channel = KINDS[rng.randrange(len(KINDS))]
            rows.append({"customer_id": owner, "kind": kind, "channel": channel,
                         "at": now - rng.random() * 365 * 86400, "data": {"n": n}})
        await repo.database.write(insert, CONTACT_EVENTS, rows)
        written += size
        print(f"  loaded {written}/{events} events", end="\r", flush=True)
    print()
    from sqlalchemy.schema import CreateIndex

    for index in timeline_indexes:
        await repo.database.write(lambda conn, i=index: conn.execute(CreateIndex(i)))
    await repo.database.write(lambda conn: conn.exec_driver_sql("ANALYZE"))
    return ids


async def _loaded_ids(repo: Repository, customers: int, events: int) -> list[str] | None:
    """The customers' ids in load order if the database already holds this size, else None."""
    from sqlalchemy import func, select

    def read(conn):
        count = conn.execute(select(func.count()).select_from(CONTACT_EVENTS)).scalar_one()
        if count != events:
            return None
        rows = conn.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.phone)).all()
        if len(rows) != customers:
            return None
        by_n = {int(phone[5:]) - 2000000: cid for cid, phone in rows}
        return [by_n[n] for n in range(customers)]

    return await repo.database.read(read)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class _Bare:
    """The baseline: the same statements the repository runs to open a customer, compiled once
    from the same SQLAlchemy Core objects, prepared and run by the bare driver on the event
    loop's thread (no pool, no greenlet, no result rows turned into records)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.statements = [queries.head_and_members(True), queries.open_callbacks(True),
                           queries.identities(True), queries.last_and_first_page(True, True)]

    async def __aenter__(self) -> "_Bare":
        if self.url.get_backend_name() == "postgresql":
            import asyncpg

            self.conn = await asyncpg.connect(self.url.set(drivername="postgresql")
                                              .render_as_string(hide_password=False))
            dialect = postgresql.asyncpg.dialect()
        else:
            self.conn = sqlite3.connect(self.url.database)
            dialect = sqlite.dialect()
        self.compiled = [statement.compile(dialect=dialect) for statement in self.statements]
        self.prepared: dict[str, object] = {}
        return self

    async def __aexit__(self, *exc: object) -> None:
        closing = self.conn.close()
        if closing is not None:
            await closing

    async def open_customer(self, customer_id: str, now: float) -> None:
        params = {"head": customer_id, "since": now - 365 * 86400, "limit": 51}
        for compiled in self.compiled:
            expanded = compiled.construct_expanded_state(params)
            if isinstance(self.conn, sqlite3.Connection):
                self.conn.execute(expanded.statement, expanded.positional_parameters).fetchall()
                continue
            prepared = self.prepared.get(expanded.statement)
            if prepared is None:
                prepared = self.prepared[expanded.statement] = await self.conn.prepare(expanded.statement)
            await prepared.fetch(*expanded.positional_parameters)


async def _measure(repo: Repository, url: str, ids: list[str], samples: int) -> dict[str, float]:
    rng = random.Random(11)

    async def open_customer(customer_id: str) -> float:
        start = time.perf_counter()
        # What the desk's customer page asks: the summary with the first 50 entries.
        await repo.customer_summary(customer_id, timeline=50)
        return time.perf_counter() - start

    async with _Bare(url) as bare:
        async def open_bare(customer_id: str) -> float:
            start = time.perf_counter()
            await bare.open_customer(customer_id, time.time())
            return time.perf_counter() - start

        for customer_id in ids[:20]:  # warm the caches and connections
            await open_customer(customer_id)
            await open_bare(customer_id)
        opened, baseline = [], []
        for _ in range(samples):  # in turns, so both see the same load
            customer_id = ids[rng.randrange(len(ids))]
            opened.append(await open_customer(customer_id))
            baseline.append(await open_bare(customer_id))
    heavy = [await open_customer(ids[0]) for _ in range(max(20, samples // 5))]
    found = []
    for _ in range(samples):
        n = rng.randrange(len(ids))
        start = time.perf_counter()
        result = await repo.search_customers(_national(_phone(n)))
        found.append(time.perf_counter() - start)
        assert result and result[0].id == ids[n], "search by phone found the wrong customer"
    page2 = []
    first = await repo.customer_timeline(ids[0], limit=50)
    cursor = first.next_cursor
    for _ in range(min(samples, 100)):
        start = time.perf_counter()
        page = await repo.customer_timeline(ids[0], limit=50, cursor=cursor)
        page2.append(time.perf_counter() - start)
        cursor = page.next_cursor or first.next_cursor
    return {
        "open_p50_ms": round(_p(opened, 0.5), 2), "open_p99_ms": round(_p(opened, 0.99), 2),
        "open_bare_driver_p50_ms": round(_p(baseline, 0.5), 2),
        "open_bare_driver_p99_ms": round(_p(baseline, 0.99), 2),
        "open_vs_bare_p50_ratio": round(_p(opened, 0.5) / _p(baseline, 0.5), 2),
        "open_heavy_p50_ms": round(_p(heavy, 0.5), 2), "open_heavy_p99_ms": round(_p(heavy, 0.99), 2),
        "next_page_heavy_p50_ms": round(_p(page2, 0.5), 2), "next_page_heavy_p99_ms": round(_p(page2, 0.99), 2),
        "find_by_phone_p50_ms": round(_p(found, 0.5), 2), "find_by_phone_p99_ms": round(_p(found, 0.99), 2),
        "open_mean_ms": round(statistics.fmean(opened) * 1000, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


async def _run(url: str, args: argparse.Namespace) -> dict[str, float]:
    await upgrade_database_async(url)
    async with Repository.open(url) as repo:
        start = time.perf_counter()
        ids = await _loaded_ids(repo, args.customers, args.events)
        if ids is None:
            ids = await _load(repo, args.customers, args.events, args.heavy, time.time())
        load_s = time.perf_counter() - start
        figures = await _measure(repo, url, ids, args.samples)
    return {"load_s": round(load_s, 1), **figures}


async def _postgres_database(server: str, name: str | None) -> tuple[str, str]:
    """A database on ``server`` for the bench: ``name`` (kept, created if missing) or a new one."""
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(server)
    conn = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        if name is None:
            name = f"otodesk_bench_{uuid.uuid4().hex[:8]}"
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres(server: str, name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--heavy", type=int, default=10_000, help="events of the one heavy customer")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-database", help="use (and keep) this PostgreSQL database: a second run "
                        "with the same sizes skips the load")
    parser.add_argument("--drop", action="store_true", help="drop --pg-database at the end")
    parser.add_argument("--sqlite-path", help="use (and keep) this SQLite file: a second run with the "
                        "same sizes skips the load")
    args = parser.parse_args()
    args.heavy = min(args.heavy, args.events)
    print(f"otodesk timeline bench: {args.customers} customers, {args.events} events "
          f"({args.heavy} on one customer), {args.samples} samples")
    result: dict[str, object] = {"customers": args.customers, "events": args.events,
                                 "heavy_customer_events": args.heavy}
    if args.db in ("sqlite", "both"):
        if args.sqlite_path:
            figures = await _run(f"sqlite+aiosqlite:///{args.sqlite_path}", args)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                figures = await _run(f"sqlite+aiosqlite:///{tmp}/bench.db", args)
        print(f"sqlite      {figures}")
        result["sqlite"] = figures
    if args.db in ("postgresql", "both"):
        url, name = await _postgres_database(args.postgres_url, args.pg_database)
        try:
            figures = await _run(url, args)
        finally:
            if args.pg_database is None or args.drop:
                await _drop_postgres(args.postgres_url, name)
        print(f"postgresql  {figures}")
        result["postgresql"] = figures
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
