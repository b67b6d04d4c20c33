"""The planner's catalogue in the repository, on SQLite and PostgreSQL: drafts, versions, audit."""

from __future__ import annotations

import pytest

from desktop.repository import Conflict, NotFound, Repository
from desktop.rules import Action, CatalogueSettings

T0 = 1_800_000_000.0


def bag(**changes) -> Action:
    fields = dict(id="laptop-bag", kind="cross-sell", title="Laptop bag", applicability='"aurora-laptop-14" in cart_skus')
    return Action(**{**fields, **changes})


async def test_drafts_are_created_updated_and_deleted_with_an_audit_of_each(repo: Repository) -> None:
    await repo.save_rule_action(bag(), by="pat", create=True, now=T0)
    with pytest.raises(Conflict):
        await repo.save_rule_action(bag(), by="pat", create=True, now=T0)
    with pytest.raises(NotFound):
        await repo.save_rule_action(bag(id="ghost"), by="pat", create=False, now=T0)
    await repo.save_rule_action(bag(value=40.0), by="ann", now=T0 + 1)
    await repo.save_rule_action(bag(id="warranty", title="Warranty", kind="up-sell"), by="pat", now=T0 + 2)
    assert [a.id for a in await repo.rule_actions()] == ["laptop-bag", "warranty"]
    assert (await repo.rule_action("laptop-bag")).value == 40.0
    await repo.delete_rule_action("warranty", by="pat", now=T0 + 3)
    with pytest.raises(NotFound):
        await repo.rule_action("warranty")
    audit = await repo.rule_audit()
    assert [(a.what, a.by, a.action_id) for a in audit] == [
        ("delete", "pat", "warranty"), ("create", "pat", "warranty"), ("update", "ann", "laptop-bag"),
        ("create", "pat", "laptop-bag")]
    update = audit[2]
    assert update.before["value"] == 1.0 and update.after["value"] == 40.0 and update.at == T0 + 1
    assert [a.what for a in await repo.rule_audit(action_id="laptop-bag")] == ["update", "create"]


async def test_a_published_version_is_an_immutable_copy_of_the_drafts(repo: Repository) -> None:
    assert await repo.latest_rule_version() is None
    await repo.save_rule_action(bag(), by="pat", now=T0)
    first = await repo.publish_rules(by="pat", note="spring", settings=CatalogueSettings(max_per_contact=2), now=T0 + 5)
    await repo.save_rule_action(bag(title="Changed"), by="pat", now=T0 + 6)
    second = await repo.publish_rules(by="ann", now=T0 + 7)
    assert (first, second) == (1, 2)
    one = await repo.rule_version(1)
    assert one.actions[0].title == "Laptop bag" and one.settings.max_per_contact == 2 and one.note == "spring"
    latest = await repo.latest_rule_version()
    assert latest.version == 2 and latest.actions[0].title == "Changed" and latest.published_by == "ann"
    assert [(v.version, v.count) for v in await repo.rule_versions()] == [(2, 1), (1, 1)]
    with pytest.raises(NotFound):
        await repo.rule_version(9)
    assert (await repo.rule_audit(limit=1))[0].what == "publish"


async def test_import_replaces_the_drafts_in_one_step(repo: Repository) -> None:
    await repo.save_rule_action(bag(), by="pat", now=T0)
    count = await repo.import_rule_actions([bag(id="b"), bag(id="a")], by="pat", now=T0 + 1)
    assert count == 2 and [a.id for a in await repo.rule_actions()] == ["b", "a"]
    with pytest.raises(Conflict):
        await repo.import_rule_actions([bag(id="x"), bag(id="x")], by="pat", now=T0 + 2)
    assert [a.id for a in await repo.rule_actions()] == ["b", "a"]  # nothing half-done
    assert (await repo.rule_audit(limit=1))[0].after["actions"] == 2
