"""The whole analytics job on a generated shop: time and peak memory, SQLite and PostgreSQL.

Generates ``--customers`` customers (default 100,000) with purchase histories
over two years drawn from a buy-till-you-die process (a purchase rate and a
drop-out chance per customer), ~3 lines an order over ``--products`` skus of
Zipf popularity with planted pairs (about 1.5 million order lines at the
default size; 2% refunded, 1% cancelled), loads them (COPY on PostgreSQL,
executemany on SQLite), then runs ``python -m desktop.cli analytics run`` in a
child process and reports its wall time, its phases (load, compute, store) and
its peak resident memory (the child's ``ru_maxrss``). Figures, never pass/fail;
the last line is one JSON object with the units in the keys::

    .venv/bin/python -m bench.analytics [--db sqlite|postgresql|both] [--customers N]

Targets (issue 12): the job <= 60 s and <= 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np
from sqlalchemy.engine import make_url

from bench.common import ROOT
from desktop.repository import upgrade_database_async

DAY = 86400.0
NOW = 1_800_000_000.0
DEFAULT_PG = os.environ.get("OTODESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def generate(customers: int, products: int, seed: int = 12):
    """(customer rows, order rows): orders as (id, customer, placed_at, cents, status, items json)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, products + 1) ** 0.9
    popularity /= popularity.sum()
    rate = rng.gamma(shape=0.9, scale=1 / 35, size=customers)  # purchases a day
    dropout = rng.beta(0.8, 2.5, size=customers)  # chance to stop after each purchase
    first = NOW - rng.uniform(0, 730, size=customers) * DAY
    customer_rows = [(f"c{i:06d}", f"Customer {i}", NOW - 800 * DAY) for i in range(customers)]
    order_rows = []
    n = 0
    for i in range(customers):
        at = first[i]
        while at < NOW:
            lines = 1 + rng.poisson(2.0)
            skus = set(rng.choice(products, size=lines, p=popularity).tolist())
            for s in list(skus):
                if s % 2 == 0 and rng.random() < 0.35:  # planted pair: even sku with the next
                    skus.add(s + 1 if s + 1 < products else s)
            items = [{"sku": f"p{s:04d}", "quantity": 1, "price_cents": 500 + 37 * s} for s in sorted(skus)]
            total = sum(item["price_cents"] for item in items)
            roll = rng.random()
            status = "refunded" if roll < 0.02 else "cancelled" if roll < 0.03 else "delivered"
            order_rows.append((f"o{n:08d}", f"c{i:06d}", float(at), total, status, json.dumps(items)))
            n += 1
            if rng.random() < dropout[i]:
                break
            at += rng.exponential(1 / rate[i]) * DAY
    return customer_rows, order_rows


def load_sqlite(path: str, customers, orders) -> None:
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO customers (id, name, tier, created_at, updated_at, site) "
                     "VALUES (?, ?, 'standard', ?, ?, 'default')", [(c, n, t, t) for c, n, t in customers])
    conn.executemany("INSERT INTO orders (id, customer_id, placed_at, total_cents, currency, status, items, "
                     "created_at) VALUES (?, ?, ?, ?, 'EUR', ?, ?, ?)", [(*o, NOW) for o in orders])
    conn.commit()
    conn.close()


async def load_postgres(dsn: str, customers, orders) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("customers", columns=["id", "name", "tier", "created_at", "updated_at",
                                                               "site"],
                                         records=[(c, n, "standard", t, t, "default") for c, n, t in customers])
        await conn.copy_records_to_table("orders", columns=["id", "customer_id", "placed_at", "total_cents",
                                                            "currency", "status", "items", "created_at"],
                                         records=[(o[0], o[1], o[2], o[3], "EUR", o[4], o[5], NOW) for o in orders])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def run_job(url: str, var_dir: str) -> dict:
    env = dict(os.environ, OTODESK_DATABASE_URL=url, OTODESK_VAR_DIR=var_dir,
               OTODESK_ANALYTICS_MIN_SUPPORT="0.005")
    started = time.perf_counter()
    # The child reports its own peak (RUSAGE_CHILDREN would be the peak of every child so far).
    job = ("import resource, sys\nfrom desktop.cli import main\ncode = main(['analytics', 'run'])\n"
           "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(code)")
    child = subprocess.run([sys.executable, "-c", job], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    out, err = child.stdout, child.stderr
    if child.returncode != 0:
        raise SystemExit(f"the job failed:\n{out}\n{err}")
    peak_kb = int(next(line for line in out.splitlines() if line.startswith("peak_rss_kb")).split()[1])
    seconds = next(line for line in out.splitlines() if "seconds:" in line)
    phases = dict(part.strip().split(" ") for part in seconds.split("seconds:")[1].split(","))
    print("\n".join(line for line in out.splitlines() if not line.startswith("peak_rss_kb")))
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
            **{f"{k}_s": float(v) for k, v in phases.items()}}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=1_000)
    args = parser.parse_args()
    started = time.perf_counter()
    customers, orders = generate(args.customers, args.products)
    lines = sum(o[5].count('"sku"') for o in orders)
    print(f"generated {len(customers):,} customers, {len(orders):,} orders, {lines:,} order lines "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    figures: dict = {"customers": len(customers), "orders": len(orders), "order_lines": lines}
    with tempfile.TemporaryDirectory() as tmp:
        if args.db in ("sqlite", "both"):
            path = f"{tmp}/bench.db"
            url = f"sqlite+aiosqlite:///{path}"
            await upgrade_database_async(url)
            load_sqlite(path, customers, orders)
            print("sqlite:", flush=True)
            figures["sqlite"] = run_job(url, tmp)
            print(figures["sqlite"], flush=True)
        if args.db in ("postgresql", "both"):
            import asyncpg

            server = make_url(DEFAULT_PG)
            name = f"otodesk_bench_{uuid.uuid4().hex[:8]}"
            admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
            conn = await asyncpg.connect(admin)
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()
            try:
                url = server.set(database=name).render_as_string(hide_password=False)
                await upgrade_database_async(url)
                await load_postgres(make_url(url).set(drivername="postgresql").render_as_string(
                    hide_password=False), customers, orders)
                print("postgresql:", flush=True)
                figures["postgresql"] = run_job(url, tmp)
                print(figures["postgresql"], flush=True)
            finally:
                conn = await asyncpg.connect(admin)
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
