"""One waiting phone request per number, enforced by the database (migration 0950).

The check before the insert (``check_number_free``) lets two requests for one number made
in the same few milliseconds both through; the unique index on the waiting phone requests
refuses the second insert, on SQLite and PostgreSQL: the repository raises ``NumberWaiting``
and the socket answers ``phone_waiting`` as the check does. Six browsers asking at once for
one number on a real server (PostgreSQL) get one request and five refusals.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from desktop.repository import NumberWaiting, Repository
from desktop.repository.engine import open_database
from desktop.repository.migrate import alembic_config, upgrade_database_async
from desktop.routing.events import CallbackEnded, CallbackState
from signaling.client import CommandFailed, CustomerBot
from tests.helpers.cluster import empty_postgres
from tests.helpers.server import CONSENT, running_server

pytestmark = pytest.mark.asyncio

T0 = 1_780_000_000.0
NUMBER = "+442079460123"  # a UK drama number (Ofcom): valid, never anyone's


async def _request(repo: Repository, visitor_id: str, callback_id: str, *, phone: str = NUMBER,
                   channel: str = "phone", scheduled_at: float | None = None, now: float = T0):
    visitor = await repo.touch_visitor(visitor_id, now)
    return await repo.create_callback(
        id=callback_id, visitor_id=visitor_id, customer_id=visitor.customer_id, queue="sales", name="Ann",
        topic="", message="", channel=channel, phone=phone, tier="standard", scheduled_at=scheduled_at, now=now)


async def test_a_second_waiting_request_for_a_number_is_refused_by_the_database(repo: Repository) -> None:
    first = await _request(repo, "v1", "cb-1")
    with pytest.raises(NumberWaiting) as refused:  # no check before: the index alone refuses it
        await _request(repo, "v2", "cb-2", scheduled_at=T0 + 3600)
    assert refused.value.existing.id == first.id and refused.value.existing.state == CallbackState.QUEUED
    assert await repo.get_callback("cb-2") is None
    # Another number, a browser callback, a phoned-in call from that number: not concerned.
    await _request(repo, "v3", "cb-3", phone="+442079460124")
    await _request(repo, "v4", "cb-4", phone=None, channel="browser")
    await _request(repo, "v5", "cb-5", channel="phone_inbound")
    # Once the first has ended, the number may be asked for again.
    await repo.record_routing([CallbackEnded("cb-1", CallbackState.CANCELLED, None, T0 + 5)])
    assert (await _request(repo, "v2", "cb-6", now=T0 + 6)).state == CallbackState.QUEUED


async def test_a_retry_is_booked_while_its_call_is_still_connected(repo: Repository) -> None:
    await _request(repo, "v1", "cb-1")
    await repo._db.write(lambda conn: conn.execute(text("UPDATE callbacks SET state = 'connected' WHERE id = 'cb-1'")))
    retry = await _request(repo, "v1", "cb-retry", scheduled_at=T0 + 600)  # the busy line's retry
    assert retry.state == CallbackState.SCHEDULED


async def test_not_solved_for_a_number_someone_else_is_waiting_on_is_refused_whole(repo: Repository) -> None:
    done = await _request(repo, "v1", "cb-1")
    await repo._db.write(lambda conn: conn.execute(text(
        "UPDATE callbacks SET state = 'completed', wrapped_up_at = 1 WHERE id = 'cb-1'")))
    await _request(repo, "v2", "cb-2")
    values = dict(id="cb-again", customer_id=done.customer_id, visitor_id="v1", queue="sales", name="Ann",
                  topic="", message="", channel="phone", phone=NUMBER, tier="standard", command_id=None,
                  locale=None, consent=None)
    with pytest.raises(NumberWaiting):
        await repo.reopen_contact("cb-1", values, now=T0 + 10)
    assert (await repo.get_callback("cb-1")).reopened_at is None  # nothing stored


async def test_the_migration_keeps_the_oldest_of_requests_that_raced_before_it(database_url: str) -> None:
    from alembic import command

    database = open_database(database_url)
    try:
        def to_0940(conn):
            cfg = alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0940")
            conn.execute(text("INSERT INTO customers (id, tier, created_at, updated_at, site)"
                              " VALUES ('c1', 'standard', 1, 1, 'default')"))
            for n, state in enumerate(("queued", "queued", "scheduled", "completed")):
                conn.execute(text(
                    "INSERT INTO callbacks (id, customer_id, queue, channel, phone, state, created_at, held_seconds)"
                    f" VALUES ('cb-{n}', 'c1', 'sales', 'phone', '{NUMBER}', '{state}', {10 + n}, 0)"))

        await database.write(to_0940)
    finally:
        await database.dispose()
    await upgrade_database_async(database_url)
    async with Repository.open(database_url) as repo:
        states = [(await repo.get_callback(f"cb-{n}")).state for n in range(4)]
        assert states == ["queued", "cancelled", "cancelled", "completed"]
        with pytest.raises(NumberWaiting):
            await _request(repo, "v9", "cb-9")


@pytest.mark.postgres
async def test_requests_racing_for_one_number_on_a_real_server_make_one_request(postgres_url, tmp_path) -> None:
    """Six browsers ask at once to be called on one number: one request, five ``phone_waiting``
    (before the index, two or more got through: each passed the check before any insert)."""
    await empty_postgres(postgres_url)
    env = {"OTODESK_DATABASE_URL": postgres_url, "OTODESK_CALLING_HOURS": "*", "OTODESK_DEFAULT_REGION": "GB",
           "OTODESK_CALLME_PER_PHONE": "100", "OTODESK_CALLME_PER_ADDRESS": "100"}
    with running_server(tmp_path / "var", env=env, log_dir=tmp_path, seed=False) as server:  # queue "general"
        bots = [await CustomerBot.start(server.base_url) for _ in range(6)]
        try:
            async def ask(bot):
                try:
                    return await bot.command("call_me", name="Racer", queue="general", channel="phone",
                                             phone=NUMBER, consent=CONSENT)
                except CommandFailed as exc:
                    return exc

            outcomes = await asyncio.gather(*(ask(bot) for bot in bots))
        finally:
            for bot in bots:
                await bot.close()
    made = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, CommandFailed)]
    assert len(made) == 1, f"{len(made)} requests made for one number: {outcomes}"
    assert [o.code for o in refused] == ["phone_waiting"] * 5
    assert all(o.error["detail"]["state"] in ("queued", "offered") for o in refused)
