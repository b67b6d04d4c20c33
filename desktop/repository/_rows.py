"""Rows to records: the one place that knows both shapes."""

from __future__ import annotations

from typing import Any

from desktop.repository.records import (
    AgentRecord,
    CallbackRecord,
    ContactEventRecord,
    CustomerRecord,
    OfferRecord,
    QueueRecord,
    SSO_MARKER,
    VisitorRecord,
)
from desktop.routing.events import AgentState, CallbackState, Channel, OfferOutcome

Row = Any  # a sqlalchemy Row with ._mapping


def agent(row: Row) -> AgentRecord:
    m = row._mapping
    return AgentRecord(
        id=m["id"], username=m["username"], display_name=m["display_name"], role=m["role"],
        skills=tuple(m["skills"]), state=AgentState(m["state"]), state_reason=m["state_reason"],
        state_since=m["state_since"], created_at=m["created_at"], disabled_at=m.get("disabled_at"),
        locale=m.get("locale"), sso=str(m.get("password_hash") or "").startswith(SSO_MARKER),
    )


def queue(row: Row) -> QueueRecord:
    m = row._mapping
    return QueueRecord(
        name=m["name"], title=m["title"], skills=tuple(m["skills"]),
        service_level_target=m["service_level_target"], sort_order=m["sort_order"],
        offer_timeout=m.get("offer_timeout"), wrapup_timeout=m.get("wrapup_timeout"), hours=m.get("hours"),
        dispositions=tuple(m["dispositions"]) if m.get("dispositions") is not None else None,
        calling_hours=m.get("calling_hours"), languages=tuple(m.get("languages") or ()),
        topics=tuple(m.get("topics") or ()), recording=m.get("recording"),
    )


def customer(row: Row) -> CustomerRecord:
    m = dict(row._mapping)
    m["corrected"] = tuple(m.get("corrected") or ())
    return CustomerRecord(**m)


def visitor(row: Row) -> VisitorRecord:
    m = dict(row._mapping)
    m["context"] = dict(m["context"] or {})
    return VisitorRecord(**m)


def callback(row: Row) -> CallbackRecord:
    m = dict(row._mapping)
    m["channel"] = Channel(m["channel"])
    m["state"] = CallbackState(m["state"])
    return CallbackRecord(**m)


def offer(row: Row) -> OfferRecord:
    m = dict(row._mapping)
    m["outcome"] = OfferOutcome(m["outcome"]) if m["outcome"] is not None else None
    return OfferRecord(**m)


def contact_event(row: Row) -> ContactEventRecord:
    return contact_event_values(dict(row._mapping))


def contact_event_values(m: dict) -> ContactEventRecord:
    m["data"] = dict(m["data"] or {})
    return ContactEventRecord(**m)
