"""Administration at rest, on SQLite and PostgreSQL: each change with its audit row, disabled
accounts, ended sessions, the default queue of a fresh install."""

from __future__ import annotations

import pytest

from desktop.repository.admin import DEFAULT_QUEUE
from desktop.repository.errors import DuplicateUser, NotFound

T0 = 1_780_000_000.0


async def test_a_fresh_install_gets_the_general_queue_once(repo):
    assert await repo.ensure_default_queue() is True
    assert await repo.ensure_default_queue() is False
    [general] = await repo.list_queues()
    assert (general.name, general.title, general.skills, general.hours) == ("general", "General", (), None)


async def test_no_default_queue_where_queues_exist(repo):
    await repo.upsert_queue("sales", title="Sales", skills=["sales"], service_level_target=20)
    assert await repo.ensure_default_queue() is False
    assert [q.name for q in await repo.list_queues()] == ["sales"]


async def test_disabling_ends_every_session_and_sign_in_and_is_audited(repo):
    agent = await repo.admin_add_user(username="dana", password="dana-password-1", display_name="Dana",
                                      role="agent", skills=["billing"], actor="agent:root", now=T0)
    with pytest.raises(DuplicateUser):
        await repo.admin_add_user(username="dana", password="x" * 8, display_name="D", role="agent",
                                  skills=[], actor="agent:root", now=T0)
    for sid in ("s1", "s2"):
        await repo.open_staff_session(sid, agent.id, now=T0, max_age=3600)
    assert await repo.authenticate("dana", "dana-password-1") is not None

    after, ended = await repo.admin_change_user(agent.id, actor="agent:root", action="user.disable",
                                                disabled=True, now=T0 + 10)
    assert after.disabled_at == T0 + 10 and len(ended) == 2
    assert await repo.staff_session_agent("s1", now=T0 + 11) is None
    assert await repo.authenticate("dana", "dana-password-1") is None
    # Disabling again keeps when it was disabled.
    again, _ = await repo.admin_change_user(agent.id, actor="agent:root", action="user.disable",
                                            disabled=True, now=T0 + 20)
    assert again.disabled_at == T0 + 10

    enabled, ended = await repo.admin_change_user(agent.id, actor="agent:root", action="user.enable",
                                                  disabled=False, skills=["billing", "sales", "billing"],
                                                  now=T0 + 30)
    assert enabled.disabled_at is None and enabled.skills == ("billing", "sales") and ended == []
    assert await repo.authenticate("dana", "dana-password-1") is not None
    _, ended = await repo.admin_change_user(agent.id, actor="agent:root", action="user.password",
                                            password="new-password-2", now=T0 + 40)
    assert await repo.authenticate("dana", "new-password-2") is not None

    audit = await repo.admin_audit(target=f"user:{agent.id}")
    assert [row["action"] for row in audit] == ["user.password", "user.enable", "user.disable",
                                                "user.disable", "user.add"]
    assert audit[0]["after"]["password"] == "reset" and "password_hash" not in str(audit)
    assert audit[2]["before"]["disabled"] is True and audit[3]["after"]["sessions_ended"] == 2
    assert audit[1]["before"]["skills"] == ["billing"] and audit[1]["after"]["skills"] == ["billing", "sales"]
    assert all(row["actor"] == "agent:root" for row in audit)
    assert [row["id"] for row in await repo.admin_audit(before_id=audit[1]["id"], limit=2)] == \
        [audit[2]["id"], audit[3]["id"]]

    with pytest.raises(NotFound):
        await repo.admin_change_user("nobody", actor="agent:root", action="user.disable", disabled=True)


async def test_a_queue_saved_twice_is_audited_with_before_and_after(repo):
    values = {**DEFAULT_QUEUE, "name": "billing", "title": "Billing", "skills": ["billing"],
              "hours": {"weekly": {"mon": [["09:00", "17:00"]]}, "exceptions": []},
              "dispositions": ["Refund issued"]}
    before, after = await repo.admin_save_queue(values, actor="agent:root", now=T0)
    assert before is None and after.dispositions == ("Refund issued",) and after.hours == values["hours"]
    before, after = await repo.admin_save_queue({**values, "title": "Billing & refunds", "offer_timeout": 30.0},
                                                actor="agent:root", now=T0 + 1)
    assert before.title == "Billing" and after.title == "Billing & refunds" and after.offer_timeout == 30.0
    audit = await repo.admin_audit(target="queue:billing")
    assert [row["action"] for row in audit] == ["queue.update", "queue.add"]
    assert audit[0]["before"]["title"] == "Billing" and audit[0]["after"]["offer_timeout"] == 30.0
