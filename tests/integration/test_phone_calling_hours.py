"""Calling hours where a phone callback is dialled and retried (desktop/voice/phone.py), on
SQLite and PostgreSQL: a callback that reaches an agent when its phone may not ring is not
dialled but booked again for the next allowed time; a retry after busy waits for the hours
too. The clock is passed in; the trunk is never reached (nothing here may dial)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from desktop.repository import Repository
from desktop.settings import Settings
from desktop.voice.phone import OutsideCallingHours, PhoneCallbacks

pytestmark = pytest.mark.asyncio

NEW_YORK = "+12125550123"
TZ = ZoneInfo("America/New_York")


def local(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


class NoTrunk:
    """Stands where the trunk would be: these tests must never get as far as dialling."""

    async def dial(self, *args, **kwargs):
        raise AssertionError("dialled outside calling hours")


async def phone_callback(repo: Repository, callback_id: str, now: float, queue: str = "sales"):
    await repo.upsert_queue(queue, title=queue.title(), skills=[], service_level_target=30)
    visitor = await repo.touch_visitor(f"v-{callback_id}", now)
    callback = await repo.create_callback(
        id=callback_id, visitor_id=visitor.id, customer_id=visitor.customer_id, queue=queue, name="Ann",
        topic="", message="", channel="phone", phone=NEW_YORK, tier="standard", scheduled_at=None, now=now,
        consent={"at": now, "address": "203.0.113.7", "page": "http://shop.test/", "text": "You may call me."})
    # An agent has it (accepted: the server dials now), as when the dialling rules are met: its
    # retry is booked while it is still connected (one *waiting* request per number).
    await repo.database.write(lambda conn: conn.execute(
        text("UPDATE callbacks SET state = 'connected' WHERE id = :id"), {"id": callback_id}))
    return callback, {"customer_id": callback.customer_id, "agent_id": None, "queue": queue, "phone": NEW_YORK}


def phones(repo: Repository, now: float, **settings) -> PhoneCallbacks:
    values = {"calling_hours": "08:00-21:00", "time_zone": "Europe/London", "phone_retry_delay": 600, **settings}
    return PhoneCallbacks(repo=repo, settings=Settings(**values), trunk=NoTrunk(), clock=lambda: now)


async def test_a_callback_reaching_an_agent_late_is_not_dialled_but_booked_again(repo: Repository) -> None:
    now = local("2026-12-02 21:05")  # it waited in line past 21:00 on the phone's clock
    callback, meta = await phone_callback(repo, "late-1", now)
    service = phones(repo, now)
    with pytest.raises(OutsideCallingHours) as outside:
        await service.dial(anchor=None, callback_id=callback.id, meta=dict(meta))
    assert outside.value.at == local("2026-12-03 08:00")
    retry_id = await service.not_now(callback.id, dict(meta), outside.value.at)
    retry = await repo.get_callback(retry_id)
    assert (retry.state, retry.scheduled_at, retry.phone) == ("scheduled", local("2026-12-03 08:00"), NEW_YORK)
    assert retry.consent == callback.consent  # the customer's consent goes with their request
    attempt = await repo.last_contact_event(callback.customer_id, kind="phone_attempt", callback_id=callback.id)
    assert attempt.data["result"] == "not_dialled" and attempt.data["attempt"] == 1
    assert attempt.data["next_at"] == local("2026-12-03 08:00")
    link = await repo.last_contact_event(callback.customer_id, kind="phone_retry", callback_id=retry_id)
    # Nothing was dialled: the booked call is the same attempt, not the next one.
    assert (link.data["attempt"], link.data["first"], link.data["after"]) == (1, callback.id, "not_dialled")


async def test_a_retry_after_busy_waits_for_the_calling_hours(repo: Repository) -> None:
    now = local("2026-12-02 20:55")  # busy at 20:55; ten minutes later it is 21:05 there
    callback, meta = await phone_callback(repo, "busy-1", now)
    service = phones(repo, now)
    retry_id = await service._record(callback.id, {**meta, "attempt": 1}, {
        "number": NEW_YORK, "state": "ended", "result": "busy", "status": 486, "reason": "Busy Here",
        "early_media": False, "rang_s": 2.0, "talked_s": None})
    retry = await repo.get_callback(retry_id)
    assert retry.scheduled_at == local("2026-12-03 08:00")
    link = await repo.last_contact_event(callback.customer_id, kind="phone_retry", callback_id=retry_id)
    assert (link.data["attempt"], link.data["at"]) == (2, local("2026-12-03 08:00"))


async def test_inside_the_hours_the_rules_let_it_dial_and_a_queue_may_allow_any_time(repo: Repository) -> None:
    now = local("2026-12-02 10:00")
    callback, meta = await phone_callback(repo, "day-1", now)
    with pytest.raises(AssertionError, match="dialled outside"):  # the rules passed: it reached the trunk
        await phones(repo, now).dial(anchor=_Anchor(), callback_id=callback.id, meta=dict(meta))
    night = local("2026-12-02 23:00")
    assert await phones(repo, night).call_time(NEW_YORK, "sales", night) == local("2026-12-03 08:00")
    assert await phones(repo, night, calling_hours="*").call_time(NEW_YORK, "sales", night) == night
    # The queue's own hours (admin console) win over the setting.
    await repo.admin_save_queue(dict(name="sales", title="Sales", skills=[], service_level_target=30.0, sort_order=0,
                                     offer_timeout=None, wrapup_timeout=None, hours=None, dispositions=None,
                                     calling_hours="*"), actor="test")
    assert await phones(repo, night).call_time(NEW_YORK, "sales", night) == night


class _Anchor:
    async def dial(self, callback_id, number, *, trunk, ring_timeout):
        return await trunk.dial(number)
