"""The database's report sums agree with the pure tally, on SQLite and PostgreSQL.

Two independent ways of counting the same callbacks (SQL ``GROUP BY`` over local
periods computed with a ``CASE`` of offsets; Python over ``zoneinfo``) must give
the same figures, across a daylight-saving change and midnight.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from desktop.analytics.history import (
    CallbackFacts,
    PeriodPlan,
    ReportRange,
    StateChange,
    tally,
)
from desktop.analytics.report import queue_sums_of
from desktop.repository._store import CALLBACKS, CUSTOMERS
from desktop.repository.history import HistoryQuery
from desktop.routing.events import AgentState, AgentStateChanged

pytestmark = pytest.mark.asyncio

ZONE = ZoneInfo("Europe/Paris")
TARGETS = {"sales": 30.0, "support": 60.0}


def _callbacks(start: float, end: float, count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        enqueued = rng.uniform(start - 3600, end + 3600)  # some outside the range
        queue = rng.choice(["sales", "support", "other"])
        fate = rng.random()
        answered = ended = wrapped = None
        state = "completed"
        if fate < 0.6:
            answered = enqueued + rng.choice([5.0, 30.0, 30.5, 60.0, 200.0])
            ended = answered + rng.uniform(10, 900)
            wrapped = ended + rng.uniform(0, 120) if rng.random() < 0.8 else None
        elif fate < 0.8:
            state = rng.choice(["abandoned", "cancelled"])
            ended = enqueued + rng.choice([2.0, 9.9, 10.0, 45.0])
        elif fate < 0.87:
            state = "queued"
        elif fate < 0.92:  # phoned while the queue was closed: never queued, counted apart
            state, ended = "closed", enqueued
        else:
            state, answered = "connected", enqueued + 12.0
        scheduled = enqueued - rng.choice([0.0, 60.0]) if rng.random() < 0.2 and state != "closed" else None
        channel = "phone_inbound" if state == "closed" else rng.choice(["browser", "phone", "phone_inbound"])
        rows.append(dict(
            id=f"cb{seed}-{index}", customer_id="c1", visitor_id=None, queue=queue, channel=channel,
            phone=f"+336123{index:05d}", tier="standard", scheduled_at=scheduled, state=state, created_at=enqueued,
            enqueued_at=enqueued, answered_at=answered, ended_at=ended, wrapped_up_at=wrapped,
            held_seconds=rng.choice([0.0, 0.0, 15.0]) if answered and ended else 0.0,
            agent_id=None, disposition=None,
        ))
    return rows


@pytest.mark.parametrize("period", ["hour", "day", "week"])
async def test_sql_sums_equal_the_pure_tally_across_a_dst_change(repo, period):
    # 2026-10-25: Paris goes from +02:00 to +01:00 at 03:00 local.
    span = ReportRange.of_days(dt.date(2026, 10, 19), dt.date(2026, 10, 27), ZONE)
    plan = PeriodPlan.make(span.start, span.end, period, ZONE)
    rows = _callbacks(span.start, span.end, 600, seed=7)

    def insert(conn):
        conn.execute(CUSTOMERS.insert().values(id="c1", created_at=0.0, updated_at=0.0))
        conn.execute(CALLBACKS.insert(), rows)

    await repo.database.write(insert)
    query = HistoryQuery(start=span.start, end=span.end, segments=plan.segments, period=period,
                         targets=TARGETS, short_abandon=10.0, schedule_grace=300.0)
    from_sql = {(row.key, row.period): queue_sums_of(row.sums) for row in await repo.queue_sums(query)}
    facts = [CallbackFacts(queue=r["queue"], channel=r["channel"], state=r["state"], enqueued_at=r["enqueued_at"],
                           answered_at=r["answered_at"], ended_at=r["ended_at"], wrapped_up_at=r["wrapped_up_at"],
                           held_seconds=r["held_seconds"], scheduled_at=r["scheduled_at"]) for r in rows]
    from_python = tally(facts, plan, targets=TARGETS, short_abandon=10.0, schedule_grace=300.0)
    assert from_sql.keys() == from_python.keys()
    for key, sums in from_python.items():
        got = from_sql[key]
        for name in ("offered", "answered", "answered_within_target", "abandoned", "short_abandoned", "handled",
                     "scheduled_kept", "scheduled_missed", "browser", "phone", "phone_inbound", "closed"):
            assert getattr(got, name) == getattr(sums, name), (key, name)
        assert got.browser + got.phone + got.phone_inbound == got.offered, key
        for name in ("wait_seconds", "talk_seconds", "hold_seconds", "wrap_up_seconds"):
            assert getattr(got, name) == pytest.approx(getattr(sums, name)), (key, name)
    assert sum(s.offered for s in from_python.values()) > 400  # most of them are in the range
    assert sum(s.phone_inbound for s in from_python.values()) > 100 and sum(s.closed for s in from_python.values()) > 10
    if period == "day":
        assert len({period for _, period in from_python}) == 9


async def test_agent_state_changes_are_kept_with_their_reasons(repo):
    agent = await repo.add_agent("ann", "pw", display_name="Ann", now=1000.0)
    await repo.record_routing([
        AgentStateChanged(agent.id, AgentState.AVAILABLE, "signed in", 1000.0),
        AgentStateChanged(agent.id, AgentState.AWAY, "lunch", 2000.0),
        AgentStateChanged(agent.id, AgentState.AVAILABLE, "back", 3000.0),
        AgentStateChanged(agent.id, AgentState.OFFLINE, "signed out", 5000.0),
    ])
    changes = await repo.agent_presence(2500.0, 4000.0)
    # The state held at 2500 (away since 2000), then what changed inside the range.
    assert [(c.state, c.at) for c in changes] == [("away", 2000.0), ("available", 3000.0)]
    # Staffed state changes (an offer, a call) are not presence; leaving and coming back are.
    await repo.record_routing([
        AgentStateChanged(agent.id, AgentState.AVAILABLE, "signed in", 6000.0),
        AgentStateChanged(agent.id, AgentState.RESERVED, "offer", 6100.0),
        AgentStateChanged(agent.id, AgentState.BUSY, "connected", 6110.0),
        AgentStateChanged(agent.id, AgentState.AWAY, "missed an offer", 6500.0),
        AgentStateChanged(agent.id, AgentState.AVAILABLE, "back", 6700.0),
        AgentStateChanged(agent.id, AgentState.BUSY, "connected", 6800.0),
    ])
    changes = await repo.agent_presence(5500.0, 7000.0)
    assert [(c.state, c.at) for c in changes] == [
        ("offline", 5000.0), ("available", 6000.0), ("away", 6500.0), ("available", 6700.0)]
    changes = await repo.agent_presence(6200.0, 6600.0)
    assert [(c.state, c.at) for c in changes] == [("available", 6000.0), ("away", 6500.0)]
    assert (await repo.get_agent(agent.id)).state_reason == "connected"
    reasons = await repo.database.read(
        lambda conn: [row.reason for row in conn.exec_driver_sql("SELECT reason FROM agent_states ORDER BY at")])
    assert reasons[:4] == ["signed in", "lunch", "back", "signed out"]
    assert [StateChange(c.agent_id, c.state, c.at) for c in changes][0].agent_id == agent.id


async def test_hold_time_adds_up_and_the_first_done_ends_the_wrap_up(repo):
    customer = await repo.touch_visitor("v-hold", 100.0)
    await repo.create_callback(id="cb-hold", visitor_id="v-hold", customer_id=customer.customer_id, queue="sales",
                               name="", topic="", message="", channel="browser", phone=None, tier="standard",
                               scheduled_at=None, now=100.0)
    await repo.add_hold_time("cb-hold", 12.5)
    await repo.add_hold_time("cb-hold", 7.5)
    await repo.add_hold_time("cb-hold", 0.0)  # nothing
    await repo.add_hold_time("no-such-callback", 5.0)  # erased meanwhile: ignored
    await repo.wrap_up("cb-hold", agent_id=None, disposition="Resolved", note="", now=400.0)
    await repo.wrap_up("cb-hold", agent_id=None, disposition="Resolved", note="corrected", now=900.0)
    callback = await repo.get_callback("cb-hold")
    assert (callback.held_seconds, callback.wrapped_up_at, callback.note) == (20.0, 400.0, "corrected")
