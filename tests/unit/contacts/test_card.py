"""Open issues on the desk's customer card: what is still to do since the last settled contact."""

from __future__ import annotations

from types import SimpleNamespace

from desktop.contacts.card import open_issues


def wrap(disposition: str, at: float, note: str = "") -> SimpleNamespace:
    return SimpleNamespace(kind="wrap_up", data={"disposition": disposition, "note": note}, at=at, agent_id="a")


def test_open_issues_stop_at_the_last_settled_contact() -> None:
    newest_first = [
        SimpleNamespace(kind="callback_completed", data={}, at=50.0, agent_id="a"),
        wrap("Escalated", 40.0, "manager to call back"),
        wrap("Follow-up needed", 30.0),
        wrap("Resolved", 20.0),
        wrap("Follow-up needed", 10.0, "settled since"),
    ]
    issues = open_issues(newest_first)
    assert [(i["disposition"], i["at"]) for i in issues] == [("Escalated", 40.0), ("Follow-up needed", 30.0)]
    assert issues[0]["note"] == "manager to call back"


def test_no_open_issues_after_a_sale() -> None:
    assert open_issues([wrap("Sale made", 2.0), wrap("Escalated", 1.0)]) == []
