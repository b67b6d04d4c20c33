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


async def _waiting(repo, callback_id: str, queue: str, **options):
    visitor = await repo.touch_visitor(f"v-{callback_id}", T0)
    values = dict(id=callback_id, visitor_id=visitor.id,
                  customer_id=visitor.customer_id, queue=queue, name="Mei", topic="", message="",
                  channel="browser", phone=None, tier="standard", scheduled_at=None, now=T0)
    values.update(options)
    return await repo.create_callback(**values)


async def test_deleting_a_queue_moves_who_waits_in_it_and_audits_how_many(repo):
    from desktop.routing.events import CallbackConnected, CallbackEnded, CallbackState

    for name in ("general", "billing", "sales"):
        await repo.admin_save_queue({**DEFAULT_QUEUE, "name": name, "title": name.title()}, actor="agent:root", now=T0)
    await _waiting(repo, "queued", "billing")
    await _waiting(repo, "later", "billing", scheduled_at=T0 + 3600)
    await _waiting(repo, "talking", "billing")
    await _waiting(repo, "done", "billing")
    await _waiting(repo, "elsewhere", "sales")
    agent = await repo.add_agent("bob", "pw", display_name="Bob", skills=[])
    await repo.record_routing([CallbackConnected("talking", agent.id, "o1", T0 + 1)])
    await repo.record_routing([CallbackEnded("done", CallbackState.CANCELLED, None, T0 + 1)])

    before, fallback, moved = await repo.admin_delete_queue("billing", fallback=None, actor="agent:root", now=T0 + 2)
    # No fallback named: "general", the fresh install's queue, when there is one.
    assert (before.name, fallback, sorted(moved)) == ("billing", "general", ["later", "queued"])
    assert [q.name for q in await repo.list_queues()] == ["general", "sales"]
    queues = {cid: (await repo.get_callback(cid)).queue for cid in ("queued", "later", "talking", "done", "elsewhere")}
    # Who waits moves; a contact under way or ended keeps its queue, as history does.
    assert queues == {"queued": "general", "later": "general", "talking": "billing", "done": "billing",
                      "elsewhere": "sales"}
    [row] = await repo.admin_audit(target="queue:billing", limit=1)
    assert row["action"] == "queue.delete" and row["before"]["title"] == "Billing"
    assert row["after"]["fallback"] == "general" and row["after"]["moved"] == 2


async def test_the_last_queue_an_unknown_fallback_or_itself_are_refused_and_nothing_changes(repo):
    from desktop.repository.admin import LastQueue

    await repo.admin_save_queue({**DEFAULT_QUEUE, "name": "only", "title": "Only"}, actor="agent:root", now=T0)
    await _waiting(repo, "c1", "only")
    with pytest.raises(LastQueue, match="only queue"):
        await repo.admin_delete_queue("only", fallback=None, actor="agent:root")
    await repo.admin_save_queue({**DEFAULT_QUEUE, "name": "second", "title": "Second"}, actor="agent:root", now=T0)
    with pytest.raises(NotFound, match="nowhere"):
        await repo.admin_delete_queue("only", fallback="nowhere", actor="agent:root")
    with pytest.raises(ValueError, match="its own fallback"):
        await repo.admin_delete_queue("only", fallback="only", actor="agent:root")
    with pytest.raises(NotFound):
        await repo.admin_delete_queue("missing", fallback=None, actor="agent:root")
    assert [q.name for q in await repo.list_queues()] == ["only", "second"]
    assert (await repo.get_callback("c1")).queue == "only"
    assert [r["action"] for r in await repo.admin_audit(target="queue:only")] == ["queue.add"]
    # Without "general", the first other queue as the widget lists them.
    _, fallback, moved = await repo.admin_delete_queue("only", fallback=None, actor="agent:root")
    assert (fallback, moved) == ("second", ["c1"])


async def test_a_queues_languages_topics_and_recording_are_stored_and_decide_recording(repo):
    from desktop.voice.records import queue_recording

    topics = [{"text": "Payment failed", "translations": {"zh-CN": "付款失败"}}]
    _, after = await repo.admin_save_queue({**DEFAULT_QUEUE, "name": "china", "title": "China", "languages": ["zh-CN"],
                                            "topics": topics, "recording": "consent"}, actor="agent:root", now=T0)
    assert (after.languages, after.topics, after.recording) == (("zh-CN",), tuple(topics), "consent")
    await repo.admin_save_queue({**DEFAULT_QUEUE, "name": "plain", "title": "Plain"}, actor="agent:root", now=T0)
    # The queue's own policy wins over OTODESK_VOICE_RECORDING's rules; none set: the rules decide.
    assert await queue_recording(repo, ("*",), "china") == "consent"
    assert await queue_recording(repo, ("*",), "plain") == "on"
    assert await queue_recording(repo, (), "plain") is None
    await repo.admin_save_queue({**DEFAULT_QUEUE, "name": "china", "title": "China", "recording": "off"},
                                actor="agent:root", now=T0 + 1)
    assert await queue_recording(repo, ("*",), "china") is None  # read afresh: the next call's
