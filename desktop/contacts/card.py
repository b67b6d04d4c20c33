"""What browsers are shown, built from repository records (shapes in docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from desktop.repository.repository import Repository

__all__ = ["customer_card", "contact_card", "page_of", "queue_dispositions"]

TRAIL_LENGTH = 30
PREVIOUS_CONTACTS = 15
# Timeline kinds worth showing as "previous contacts" (page views are the trail).
CONTACT_KINDS = (
    "callback_requested", "callback_connected", "callback_completed", "callback_cancelled",
    "callback_abandoned", "wrap_up", "note", "call", "email", "chat", "store_visit", "meeting",
    "inbound_call", "called_while_closed", "callback_chosen", "voice_call", "call_recording", "recording_consent", "cobrowse_started", "document_pushed",
    "suggestion_accepted", "suggestion_declined",  # what was offered before, and the answer
    "contact_rated", "not_solved",  # the customer's word after a contact (desktop/aftercall)
    "phone_attempt", "phone_retry",  # each dialled attempt and its SIP result; the retry it booked
)


def customer_card(customer) -> dict[str, Any]:
    return {"id": customer.id, "name": customer.name, "email": customer.email,
            "phone": customer.phone, "tier": customer.tier}


def page_of(event) -> dict[str, Any]:
    data = event.data or {}
    return {"url": data.get("url", ""), "title": data.get("title", ""), "at": event.at}


def _callback_fields(callback) -> dict[str, Any]:
    consent = callback.consent or {}
    return {"id": callback.id, "queue": callback.queue, "name": callback.name,
            "topic": callback.topic, "message": callback.message, "channel": callback.channel,
            "phone": callback.phone, "created_at": callback.created_at,
            "enqueued_at": callback.enqueued_at, "scheduled_at": callback.scheduled_at,
            # A caller who pressed 1 while waiting on the line (desktop/voice/inbound.py):
            # when, and the number they had phoned.
            "chosen_while_waiting": {"at": consent.get("at"), "line": consent.get("page")}
            if consent.get("via") == "inbound_call" else None}


async def contact_card(repo: Repository, callback_id: str, *, state: str,
                       offer: dict[str, Any] | None = None,
                       dispositions: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any] | None:
    """Everything the agent needs about one callback's customer, or None if it is gone.
    ``dispositions``: each queue's wrap-up outcomes as the caller keeps them up to date (the
    router's leader, reloading its queues when an admin changes one); read otherwise."""
    # One call (every offer makes a card): a merged customer's callback shows the whole person's record.
    reads = await repo.card_reads(callback_id, trail=TRAIL_LENGTH, history=PREVIOUS_CONTACTS + 10,
                                  kinds=CONTACT_KINDS)
    if reads is None:
        return None
    callback, customer, visitor, trail = reads.callback, reads.customer, reads.visitor, reads.trail
    previous = [event for event in reads.history
                if event.callback_id != callback_id][:PREVIOUS_CONTACTS]
    page = None
    if visitor is not None and visitor.current_url:
        page = {"url": visitor.current_url, "title": visitor.current_title or "",
                "at": visitor.last_seen_at}
    card: dict[str, Any] = {
        "callback_id": callback.id,
        "state": state,
        "answered_at": callback.answered_at,
        "callback": _callback_fields(callback),
        "customer": {**customer_card(customer), "name": customer.name or callback.name}
        if customer else {"id": None, "name": callback.name, "email": None, "phone": callback.phone,
                          "tier": callback.tier},
        "page": page,
        "trail": [page_of(event) for event in trail],
        "context": (visitor.context if visitor else None) or {},
        "previous": [
            {"kind": e.kind, "channel": e.channel, "at": e.at, "agent_id": e.agent_id,
             "data": e.data or {}}
            for e in previous
        ],
        "open_issues": open_issues(previous),
        # The queue's own outcomes, read with each card (or kept up to date by the caller): an
        # admin's change shows on the next contact.
        "dispositions": list(dispositions[callback.queue] if dispositions and callback.queue in dispositions
                             else await dispositions_of(repo, callback.queue)),
    }
    if callback.channel == "phone_inbound":
        # How the caller's number matched the records (desktop/repository/callers.py).
        inbound = await repo.last_contact_event(callback.customer_id, kind="inbound_call", callback_id=callback.id)
        card["callback"]["caller"] = (inbound.data or {}).get("caller") if inbound else None
    if callback.follow_up_of:
        card["follow_up"] = await follow_up_of(repo, callback.follow_up_of)
    if state == "wrap_up" and callback.channel == "phone" and callback.customer_id:
        # How the dialled phone ended (busy, no answer, failed…): the desk's wrap-up says it,
        # after a reload too (the voice panel that said it is gone by then).
        attempt = await repo.last_contact_event(callback.customer_id, kind="phone_attempt", callback_id=callback.id)
        card["phone_attempt"] = attempt.data if attempt else None
    if offer:
        card.update(offer)
    return card


async def follow_up_of(repo: Repository, callback_id: str) -> dict[str, Any] | None:
    """The earlier contact a "not solved" request follows up: when, who, what they told the
    customer and the customer's rating (None if it is gone: erased)."""
    earlier = await repo.get_callback(callback_id)
    if earlier is None:
        return None
    agent = await repo.get_agent(earlier.agent_id) if earlier.agent_id else None
    return {"callback_id": earlier.id, "at": earlier.wrapped_up_at or earlier.ended_at or earlier.created_at,
            "agent_id": earlier.agent_id, "agent_name": agent.display_name if agent else None,
            "summary": earlier.summary or "", "disposition": earlier.disposition, "rating": earlier.rating}


#: The wrap-up outcomes of a queue that has no list of its own (the admin console sets one).
DEFAULT_DISPOSITIONS = ("Resolved", "Sale made", "Follow-up needed", "Callback scheduled",
                        "Not interested", "Wrong number", "No answer", "Escalated")


async def dispositions_of(repo: Repository, queue: str) -> tuple[str, ...]:
    """The wrap-up outcomes agents choose from after a contact of ``queue``."""
    return queue_dispositions(await repo.get_queue(queue))


def queue_dispositions(record) -> tuple[str, ...]:
    """The wrap-up outcomes of a queue's record (None: a queue that is gone)."""
    return tuple(record.dispositions) if record is not None and record.dispositions else DEFAULT_DISPOSITIONS


# Wrap-up dispositions that leave something to do, and those that settle it.
OPEN_DISPOSITIONS = frozenset({"Follow-up needed", "Escalated", "Callback scheduled"})
SETTLING_DISPOSITIONS = frozenset({"Resolved", "Sale made"})


def open_issues(events) -> list[dict[str, Any]]:
    """Wrap-ups since the last settled contact that said there is more to do, newest first."""
    issues = []
    for event in events:  # newest first
        if event.kind != "wrap_up":
            continue
        disposition = (event.data or {}).get("disposition")
        if disposition in SETTLING_DISPOSITIONS:
            break
        if disposition in OPEN_DISPOSITIONS:
            issues.append({"disposition": disposition, "note": (event.data or {}).get("note", ""),
                           "at": event.at, "agent_id": event.agent_id})
    return issues
