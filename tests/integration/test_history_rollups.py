"""Reports read from the history rollups equal the same reports read from every row.

On SQLite and PostgreSQL, over a daylight-saving change (Paris) and in a zone whose
offset is not whole hours (Kolkata, +05:30): closed periods come from day and slot
rollups, the rest raw; every table of the report must be the raw report's. Rolling up
again, or after a pass that crashed midway, counts nothing twice; rollups made under
other settings are not read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desktop.analytics.history import ReportRange
from desktop.repository import history_rollups
from desktop.repository._store import AGENT_STATES, AGENTS, CALLBACKS, CUSTOMERS, OFFERS
from desktop.repository.history import with_presence
from desktop.repository.history_rollups import RollupSettings
from desktop.settings import Settings
from desktop.web.reports import report

pytestmark = pytest.mark.asyncio

DAY = 86400.0
TARGETS = {"sales": 30.0, "support": 60.0}
AGENT_IDS = ["a1", "a2", "a3"]


def _history(start: float, end: float, count: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    callbacks, offers = [], []
    for index in range(count):
        enqueued = rng.uniform(start, end)
        fate = rng.random()
        answered = ended = wrapped = agent = disposition = None
        state = "completed"
        if fate < 0.6:
            answered = enqueued + rng.choice([5.0, 30.0, 30.5, 60.0, 200.0, 1800.0])
            ended = answered + rng.uniform(10, 900)
            wrapped = ended + rng.uniform(0, 120) if rng.random() < 0.9 else None
            agent = rng.choice(AGENT_IDS)
            disposition = rng.choice(["Resolved", "Sale made", ""])
            offers.append(dict(id=f"o{index}", callback_id=f"cb{index}", agent_id=agent, offered_at=answered - 3,
                               expires_at=answered + 17, outcome="accepted", ended_at=answered))
        elif fate < 0.85:
            state = rng.choice(["abandoned", "cancelled"])
            ended = enqueued + rng.choice([2.0, 9.9, 10.0, 45.0])
        elif fate < 0.88:
            state = "queued"
        elif fate < 0.92:  # phoned while the queue was closed: told so, hung up, never queued
            state, ended = "closed", enqueued
        else:
            state, answered, agent = "connected", enqueued + 12.0, rng.choice(AGENT_IDS)
        if rng.random() < 0.2:
            offers.append(dict(id=f"d{index}", callback_id=f"cb{index}", agent_id=rng.choice(AGENT_IDS),
                               offered_at=enqueued + 1, expires_at=enqueued + 21,
                               outcome=rng.choice(["declined", "timed_out", "withdrawn", None]), ended_at=None))
        callbacks.append(dict(
            id=f"cb{index}", customer_id="c1", visitor_id=None, queue=rng.choice(["sales", "support", "other"]),
            channel="phone_inbound" if state == "closed" else rng.choice(["browser", "phone", "phone_inbound"]),
            phone=None, tier="standard",
            scheduled_at=enqueued - rng.choice([0.0, 600.0]) if rng.random() < 0.2 and state != "closed" else None,
            state=state,
            created_at=enqueued, enqueued_at=enqueued, answered_at=answered, ended_at=ended, wrapped_up_at=wrapped,
            held_seconds=rng.choice([0.0, 15.0]) if ended and answered else 0.0, agent_id=agent,
            disposition=disposition,
            # After the contact: a summary, the customer's rating, "not solved" (the satisfaction table).
            summary="Done" if wrapped and rng.random() < 0.7 else None,
            rating=rng.randint(1, 5) if wrapped and rng.random() < 0.5 else None,
            reopened_at=wrapped + 3600 if wrapped and rng.random() < 0.1 else None))
    return callbacks, offers


def _shifts(start: float, end: float, seed: int) -> list[dict]:
    """Each agent's days: signed in, away for lunch, back, signed out; a3 works nights (across
    midnight and the daylight-saving change)."""
    rng = random.Random(seed)
    rows = []
    day = start - DAY
    while day < end:
        for agent in AGENT_IDS:
            begin = day + (20 if agent == "a3" else 7) * 3600 + rng.uniform(0, 3600)
            for state, at in (("available", begin), ("away", begin + 4 * 3600), ("available", begin + 4.75 * 3600),
                              ("busy", begin + 5 * 3600), ("available", begin + 5.1 * 3600),
                              ("offline", begin + 8 * 3600 + rng.uniform(0, 1800))):
                rows.append(dict(agent_id=agent, state=state, reason=state, at=at))
        day += DAY
    return with_presence(rows)


async def _load(repo: Any, start: float, end: float, count: int) -> None:
    for name, target in TARGETS.items():
        await repo.upsert_queue(name, title=name.title(), skills=[], service_level_target=target)
    assert {q.name: q.service_level_target for q in await repo.list_queues()} == TARGETS
    callbacks, offers = _history(start, end, count, seed=11)

    def insert(conn):
        conn.execute(CUSTOMERS.insert().values(id="c1", created_at=0.0, updated_at=0.0))
        conn.execute(AGENTS.insert(), [dict(id=a, username=a, display_name=a.upper(), password_hash="x", role="agent",
                                            skills=[], state="offline", state_reason="", state_since=0.0,
                                            created_at=0.0) for a in AGENT_IDS])
        conn.execute(CALLBACKS.insert(), callbacks)
        conn.execute(OFFERS.insert(), offers)
        conn.execute(AGENT_STATES.insert(), _shifts(start, end, seed=12))

    await repo.database.write(insert)


async def _rate_and_reopen_late(repo: Any, *, before: float, now: float, since: float = 0.0) -> None:
    """Ratings (some changed) and "not solved" of contacts whose day is rolled up already."""
    from sqlalchemy import select

    c = CALLBACKS.c
    ids = await repo.database.read(lambda conn: list(conn.execute(
        select(c.id, c.queue, c.rating).where(c.wrapped_up_at >= since, c.wrapped_up_at < before,
                                              c.reopened_at.is_(None)).order_by(c.id))))
    assert len(ids) > 60 and any(rating is None for _, _, rating in ids)
    for index, (callback_id, queue, _) in enumerate(ids[:60]):
        await repo.rate_contact(callback_id, 1 + index % 5, now=now)
        if index % 4 == 0:
            await repo.rate_contact(callback_id, 5, now=now)  # they changed their mind
        if index % 3 == 0:
            assert await repo.reopen_contact(callback_id, dict(
                id=f"again-{callback_id}", customer_id="c1", visitor_id=None, queue=queue, name="", topic="",
                message="", channel="browser", phone=None, tier="standard", command_id=None, locale=None),
                now=now)


def _rounded(value: Any) -> Any:
    # Sums added in another order differ in the last bits; figures are shown to 0.1.
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


async def _both(repo: Any, settings: Settings, first: dt.date, last: dt.date, period: str, now: float,
                row_limit: int | None = None):
    # A row limit below agents x periods sums the agents over the whole range (staffed time too).
    args = dict(first=first.isoformat(), last=last.isoformat(), period=period, now=now, row_limit=row_limit)
    return (_rounded(await report(repo, settings, rollups=True, **args)),
            _rounded(await report(repo, settings, rollups=False, **args)))


def _rollup_settings(settings: Settings, **changes: Any) -> RollupSettings:
    return dataclasses.replace(RollupSettings(targets=TARGETS, short_abandon=settings.short_abandon,
                                              schedule_grace=settings.schedule_grace, time_zone=settings.time_zone,
                                              settle=2 * DAY, chunk=3 * DAY), **changes)


async def _parts(repo: Any, settings: Settings, span: ReportRange, period: str) -> list[str]:
    from desktop.repository.history import HistoryQuery

    query = HistoryQuery(start=span.start, end=span.end, segments=((span.start, 0),), period=period,
                         fingerprint=_rollup_settings(settings).fingerprint, local_days=settings.time_zone)
    return [source for source, _, _ in await repo.database.read(history_rollups.read_parts, query)]


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Kolkata"])
async def test_reports_from_rollups_equal_the_raw_reports(repo, zone):
    settings = Settings(time_zone=zone)
    tz = ZoneInfo(zone)
    # 2026-10-25: Paris goes from +02:00 to +01:00. Contacts from three weeks before the range
    # (its comparison with a week earlier) to its end; "now" two days after, mid-afternoon, so
    # the mark falls inside the range: day rollups, then slots, then raw rows.
    first, last = dt.date(2026, 10, 19), dt.date(2026, 10, 28)
    span = ReportRange.of_days(first, last, tz)
    now = span.end + 1.6 * DAY
    await _load(repo, span.start - 21 * DAY, now, 1500)
    marks = await repo.roll_up_history(_rollup_settings(settings), now=now)
    assert len(marks) > 2  # chunks of three days, one transaction each
    assert span.start < marks[-1]["days_until"] < marks[-1]["slots_until"] < span.end
    await _rate_and_reopen_late(repo, before=marks[-1]["days_until"], now=now)
    assert await _parts(repo, settings, span, "day") == ["day", "slot", "raw"]
    assert await _parts(repo, settings, span, "hour") == ["slot", "raw"]
    # A whole local week (Monday 19th, across the change on the 25th) from its week rows.
    for period in ("hour", "day", "week"):
        rolled, raw = await _both(repo, settings, first, last, period, now)
        assert rolled == raw, period
        rolled, whole = await _both(repo, settings, first, last, period, now, row_limit=2)
        assert rolled == whole, period
        assert whole["tables"]["agent_periods"]["omitted"]
        # The whole range's staffed time is its periods' (each rounded to 0.1 s).
        assert {row["agent"]: row["staffed_seconds"] for row in whole["tables"]["agents"]["rows"]} == pytest.approx({
            name: sum(row["staffed_seconds"] for row in raw["tables"]["agent_periods"]["rows"] if row["agent"] == name)
            for name in ("A1", "A2", "A3")}, abs=30)
    assert raw["totals"]["offered"] > 400 and raw["tables"]["dispositions"]["rows"]
    # Each channel its own column, inbound calls included; calls while closed apart (not offered).
    queues = raw["tables"]["queues"]["rows"]
    assert all(row["browser"] + row["phone"] + row["phone_inbound"] == row["offered"] for row in queues)
    assert sum(row["phone_inbound"] for row in queues) > 100 and sum(row["closed"] for row in queues) > 10
    assert sum(row["rated"] for row in raw["tables"]["satisfaction"]["rows"]) > 50
    assert raw["tables"]["agents"]["rows"] and raw["tables"]["comparison"]["rows"][1]["offered"] > 0

    # Nothing more to roll up: the same rows; the same rows again after a rebuild.
    before = await repo.database.read(lambda conn: conn.exec_driver_sql(
        "SELECT count(*), sum(offered), sum(contacts) FROM history_rollups").one())
    assert await repo.roll_up_history(_rollup_settings(settings), now=now) == []
    await repo.database.write(history_rollups.forget)
    await repo.roll_up_history(_rollup_settings(settings), now=now)
    after = await repo.database.read(lambda conn: conn.exec_driver_sql(
        "SELECT count(*), sum(offered), sum(contacts) FROM history_rollups").one())
    assert tuple(after) == tuple(before)

    # Ten days on, everything has settled: the week from Monday the 19th (across the change on
    # the 25th) comes from its week rows, for weeks and for the agents' whole-range figures.
    later = now + 10 * DAY
    await repo.roll_up_history(_rollup_settings(settings), now=later)
    assert await _parts(repo, settings, span, "week") == ["week", "day"]
    assert await _parts(repo, settings, span, "day") == ["day"]
    await _rate_and_reopen_late(repo, since=span.start, before=span.start + 7 * DAY, now=later)  # the week's rows
    for period in ("day", "week"):
        rolled, raw = await _both(repo, settings, first, last, period, later)
        assert rolled == raw, period
        rolled, whole = await _both(repo, settings, first, last, period, later, row_limit=2)
        assert rolled == whole, period


async def test_a_crash_midway_counts_nothing_twice_and_other_settings_are_not_read(repo, monkeypatch):
    settings = Settings(time_zone="Europe/Paris")
    first, last = dt.date(2026, 10, 19), dt.date(2026, 10, 28)
    span = ReportRange.of_days(first, last, ZoneInfo(settings.time_zone))
    now = span.end + 1.6 * DAY
    await _load(repo, span.start - 10 * DAY, now, 600)
    _, raw = await _both(repo, settings, first, last, "day", now)

    real = history_rollups._roll_day
    calls = {"n": 0}

    def crashing(conn, day):
        calls["n"] += 1
        real(conn, day)
        if calls["n"] == 5:  # inside the second chunk, its slots already inserted
            raise RuntimeError("power cut")

    monkeypatch.setattr(history_rollups, "_roll_day", crashing)
    with pytest.raises(RuntimeError):
        await repo.roll_up_history(_rollup_settings(settings), now=now)
    monkeypatch.setattr(history_rollups, "_roll_day", real)
    await repo.roll_up_history(_rollup_settings(settings), now=now)
    rolled, _ = await _both(repo, settings, first, last, "day", now)
    assert rolled == raw

    # Rollups made under other targets are not read (the raw rows are) until rebuilt.
    other = _rollup_settings(settings, targets={"sales": 5.0})
    await repo.database.write(history_rollups.forget)
    await repo.roll_up_history(other, now=now)
    assert await _parts(repo, settings, span, "day") == ["raw"]
    rolled, _ = await _both(repo, settings, first, last, "day", now)
    assert rolled == raw


async def test_a_contact_still_open_holds_the_rollups_back_until_it_settles(repo):
    from desktop.leader.history_rollup_job import roll_up

    settings = Settings(time_zone="Europe/Paris")
    first, last = dt.date(2026, 10, 19), dt.date(2026, 10, 28)
    span = ReportRange.of_days(first, last, ZoneInfo(settings.time_zone))
    now = span.end + 0.5 * DAY
    await _load(repo, span.start - 10 * DAY, span.end, 300)
    opened = span.end - 2 * DAY + 1000.0  # in a call since then (a stuck row would be a week)

    def open_callback(conn):
        conn.execute(CALLBACKS.insert().values(
            id="open", customer_id="c1", queue="sales", channel="browser", tier="standard", state="connected",
            created_at=opened, enqueued_at=opened, answered_at=opened + 20, agent_id="a1", held_seconds=0.0))

    await repo.database.write(open_callback)
    marks = await roll_up(repo, settings, now=now)  # the leader's pass: settles an hour after
    # Held back at the earliest open contact (the generated history has some still waiting).
    assert marks[-1]["slots_until"] <= opened - opened % 900
    rolled, raw = await _both(repo, settings, first, last, "day", now)
    assert rolled == raw

    # They end and are wrapped up, the pending offers too: the next pass goes on to an hour before
    # now. (Not those open for over a week: rolled up as lost rows, they stay as they were.)
    def settle(conn):
        recent = now - history_rollups.STALE
        conn.execute(CALLBACKS.update().where(CALLBACKS.c.ended_at.is_(None), CALLBACKS.c.enqueued_at >= recent).values(
            state="completed", ended_at=CALLBACKS.c.enqueued_at + 300, wrapped_up_at=CALLBACKS.c.enqueued_at + 330,
            disposition="Resolved"))
        conn.execute(OFFERS.update().where(OFFERS.c.outcome.is_(None), OFFERS.c.offered_at >= recent)
                     .values(outcome="withdrawn"))

    await repo.database.write(settle)
    marks = await roll_up(repo, settings, now=now)
    assert marks[-1]["slots_until"] == (now - 3600) - (now - 3600) % 900
    rolled, raw = await _both(repo, settings, first, last, "day", now)
    assert rolled == raw and raw["totals"]["answered"] > 0
