"""The reports page over a year of history: 5 million callbacks on PostgreSQL, a 90-day report.

Generates, inside PostgreSQL (``generate_series``, no rows through Python), a year
of contact history before now: ``--callbacks`` callbacks (default 5,000,000) over
five queues, 200 agents, an offer for each answered callback (and a declined one
for a tenth), and the agents' state changes as the router writes them (signed in,
lunch, back, signed out each day, and busy, wrap-up, available for every answered
callback). Then a real ``otodesk`` process serves ``GET /api/v1/reports`` (the
JSON the reports page draws, with its comparisons a week, a month and a year
earlier) for the last 90 days by day, as a signed-in supervisor: the first
request, then ``--requests`` more; also one by week over a year. Twice in the same
run, on the same rows: a server reading every row (``OTODESK_HISTORY_ROLLUPS=0``,
``--raw-requests`` requests), then, after the history rollups are built (timed, as
the leader's job builds them), one reading closed periods from them; the ratio is
raw p50 / rollup p50. Figures, never pass/fail; the last line is one JSON object::

    .venv/bin/python -m bench.reports [--callbacks N] [--requests N] [--raw-requests N]

Target (issue 12): the report page's p99 <= 200 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench.common import summary
from desktop.demo.seed import DEMO_PASSWORD
from desktop.leader.history_rollup_job import roll_up
from desktop.repository import Repository, upgrade_database_async
from desktop.settings import Settings
from signaling.client import login_cookie
from tests.helpers.server import running_server

DEFAULT_PG = os.environ.get("OTODESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
DAY = 86400
AGENTS = 200

GENERATE = [
    # Agents and customers the callbacks belong to.
    f"""INSERT INTO agents (id, username, display_name, password_hash, role, skills, state, state_reason,
                           state_since, created_at)
       SELECT 'ba' || g, 'bench' || g, 'Bench Agent ' || g, 'x', 'agent', '[]', 'offline', '', 0, 0
       FROM generate_series(1, {AGENTS}) g""",
    """INSERT INTO customers (id, name, tier, created_at, updated_at, site)
       SELECT 'bc' || g, 'Customer ' || g, 'standard', 0, 0, 'default' FROM generate_series(1, 20000) g""",
    # Callbacks, evenly over the year; 82% answered, 11% abandoned (a third of them short), 7% cancelled.
    """INSERT INTO callbacks (id, customer_id, queue, name, topic, message, channel, phone, tier, scheduled_at, state,
                             created_at, enqueued_at, offered_at, answered_at, ended_at, agent_id, disposition,
                             wrapped_up_at, held_seconds)
       SELECT 'b' || g, 'bc' || (g % 20000 + 1), (ARRAY['sales','support','billing','vip','returns'])[g % 5 + 1],
              '', '', '', CASE WHEN g % 3 = 0 THEN 'phone' ELSE 'browser' END,
              CASE WHEN g % 3 = 0 THEN '+12025550100' END, 'standard',
              CASE WHEN g % 10 = 0 THEN enq - 30 END,
              CASE WHEN r < 0.82 THEN 'completed' WHEN r < 0.93 THEN 'abandoned' ELSE 'cancelled' END,
              enq, enq, enq + 3,
              CASE WHEN r < 0.82 THEN enq + wait END,
              CASE WHEN r < 0.82 THEN enq + wait + talk WHEN r < 0.89 THEN enq + 30 + wait * 4 ELSE enq + 4 END,
              CASE WHEN r < 0.82 THEN 'ba' || (g % :agents + 1) END,
              CASE WHEN r < 0.82 THEN (ARRAY['Resolved','Sale made','Follow-up needed','Escalated'])[g % 4 + 1] END,
              CASE WHEN r < 0.82 THEN enq + wait + talk + 40 END,
              CASE WHEN r < 0.16 THEN 45 ELSE 0 END
       FROM (SELECT g, random() AS r, 2 + random() * 60 AS wait, 60 + random() * 500 AS talk,
                    :now - 365 * 86400 + g * (365 * 86400.0 / :n) AS enq
             FROM generate_series(1, :n) g) AS s""",
    """INSERT INTO offers (id, callback_id, agent_id, offered_at, expires_at, outcome, ended_at)
       SELECT id || '-o', id, agent_id, offered_at, offered_at + 20, 'accepted', answered_at
       FROM callbacks WHERE answered_at IS NOT NULL""",
    """INSERT INTO offers (id, callback_id, agent_id, offered_at, expires_at, outcome, ended_at)
       SELECT id || '-d', id, 'ba' || ((substr(id, 2)::bigint + 7) % :agents + 1), enqueued_at + 1, enqueued_at + 21,
              'declined', enqueued_at + 2
       FROM callbacks WHERE substr(id, 2)::bigint % 10 = 1""",
    # Every state change of the contacts (busy, wrap-up, available)...
    """INSERT INTO agent_states (agent_id, state, reason, at)
       SELECT agent_id, v.state, v.state, v.at FROM callbacks,
              LATERAL (VALUES ('busy', answered_at), ('wrap_up', ended_at), ('available', wrapped_up_at)) AS v(state, at)
       WHERE answered_at IS NOT NULL""",
    # ...and each agent's day: signed in 08:00, lunch 12:00-12:45, signed out 17:00 (UTC).
    f"""INSERT INTO agent_states (agent_id, state, reason, at, presence)
        SELECT 'ba' || a, v.state, v.state, d + v.hour * 3600, true
        FROM generate_series(1, {AGENTS}) a,
             generate_series(floor((:now - 366 * 86400) / 86400) * 86400, :now, 86400) d,
             (VALUES ('available', 8.0), ('away', 12.0), ('available', 12.75), ('offline', 17.0)) AS v(state, hour)""",
    "ANALYZE",
]


async def generate(dsn: str, callbacks: int, now: float) -> dict:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    counts = {}
    try:
        for statement in GENERATE:
            started = time.perf_counter()
            text = statement.replace(":agents", str(AGENTS)).replace(":now", str(now)).replace(":n", str(callbacks))
            await conn.execute(text)
            print(f"  {text.split()[0]} {text.split()[2] if text.startswith('INSERT') else ''}: "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        for table in ("callbacks", "offers", "agent_states"):
            counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()
    return counts


def measure(base_url: str, cookie: str, params: dict, requests: int) -> dict:
    samples = []
    with httpx.Client(base_url=base_url, headers={"Cookie": cookie}, timeout=60) as http:
        started = time.perf_counter()
        first = http.get("/api/v1/reports", params=params)
        first_ms = (time.perf_counter() - started) * 1000
        first.raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            answer = http.get("/api/v1/reports", params=params)
            samples.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
    offered = first.json()["totals"]["offered"]
    figures = {key: round(value, 1) for key, value in summary(samples).items()}
    return {"first_ms": round(first_ms, 1), **figures, "offered_in_range": offered}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callbacks", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--raw-requests", type=int, default=10)
    args = parser.parse_args()
    import asyncpg

    now = time.time()
    server_url = make_url(DEFAULT_PG)
    name = f"otodesk_bench_{uuid.uuid4().hex[:8]}"
    admin = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    figures: dict = {"callbacks": args.callbacks}
    try:
        url = server_url.set(database=name).render_as_string(hide_password=False)
        await upgrade_database_async(url)
        started = time.perf_counter()
        print(f"generating {args.callbacks:,} callbacks in PostgreSQL:", flush=True)
        figures.update(await generate(server_url.set(database=name, drivername="postgresql").render_as_string(
            hide_password=False), args.callbacks, now))
        figures["generate_s"] = round(time.perf_counter() - started, 1)
        print(figures, flush=True)
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        last90 = {"from": (today - dt.timedelta(days=90)).isoformat(),
                  "to": (today - dt.timedelta(days=1)).isoformat(), "period": "day"}
        year = {"from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat(), "period": "week"}
        with tempfile.TemporaryDirectory() as var:
            # The leader's own rollup pass is off: the bench builds (and times) them itself.
            env = {"OTODESK_DATABASE_URL": url, "OTODESK_DEMO_HISTORY": "0", "OTODESK_HISTORY_ROLLUP_INTERVAL": "0"}
            raw: dict = {}
            with running_server(Path(var) / "raw", env={**env, "OTODESK_HISTORY_ROLLUPS": "0"}) as server:
                cookie = await login_cookie(server.base_url, "sam", DEMO_PASSWORD)
                raw["report_90_days_by_day"] = await asyncio.to_thread(
                    measure, server.base_url, cookie, last90, args.raw_requests)
                print("raw, 90 days by day:", raw["report_90_days_by_day"], flush=True)
                raw["report_year_by_week"] = await asyncio.to_thread(
                    measure, server.base_url, cookie, year, max(2, args.raw_requests // 5))
                print("raw, a year by week:", raw["report_year_by_week"], flush=True)
            figures["raw"] = raw
            settings = Settings.from_env(database_url=url)
            async with Repository.open(url) as repo:  # the queues are the seeded server's by now
                started = time.perf_counter()
                marks = await roll_up(repo, settings)
                figures["rollup_build_s"] = round(time.perf_counter() - started, 1)
                figures["rollup_transactions"] = len(marks)
                started = time.perf_counter()
                await roll_up(repo, settings)
                figures["rollup_pass_nothing_new_ms"] = round((time.perf_counter() - started) * 1000, 1)
                figures["rollup_rows"] = await repo.database.read(
                    lambda conn: conn.exec_driver_sql("SELECT count(*) FROM history_rollups").scalar())
            print("rollups:", {k: v for k, v in figures.items() if k.startswith("rollup")}, flush=True)
            with running_server(Path(var) / "rolled", env=env) as server:
                cookie = await login_cookie(server.base_url, "sam", DEMO_PASSWORD)
                figures["report_90_days_by_day"] = await asyncio.to_thread(
                    measure, server.base_url, cookie, last90, args.requests)
                print("rollups, 90 days by day:", figures["report_90_days_by_day"], flush=True)
                figures["report_year_by_week"] = await asyncio.to_thread(
                    measure, server.base_url, cookie, year, max(5, args.requests // 10))
                print("rollups, a year by week:", figures["report_year_by_week"], flush=True)
            for name in ("report_90_days_by_day", "report_year_by_week"):
                assert figures[name]["offered_in_range"] == raw[name]["offered_in_range"], name
                figures[f"{name}_raw_over_rollups_p50_ratio"] = round(raw[name]["p50"] / figures[name]["p50"], 1)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
