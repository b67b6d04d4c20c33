"""The rules of calling a customer's phone, as a "call my phone" request meets them.

One open request per number (whoever asked), a time when the phone may ring in the
number's own local time (``desktop/routing/calling.py``: a request outside it is
scheduled for the next allowed time, never dialled), and the consent the customer gave
(what they read, when, from which address and page), stored with the request. The
country allowlist is checked with the number itself (``desktop/customers/phones.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from desktop.repository.records import CallbackRecord, QueueRecord
from desktop.repository.repository import Repository
from desktop.routing.calling import when_to_call
from desktop.routing.hours import Hours, HoursError, local_text, parse_hours, zone
from desktop.settings import Settings
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["call_time", "check_number_free", "consent_record", "phone_waiting", "queue_calling_window", "queue_hours"]

log = logging.getLogger(__name__)


def queue_hours(queue: QueueRecord) -> Hours:
    """The queue's hours; stored hours that no longer parse count as always open (and are logged),
    never as a queue nobody can reach."""
    try:
        return parse_hours(queue.hours)
    except HoursError:
        log.warning("queue %s has hours that do not parse; treated as always open", queue.name, exc_info=True)
        return parse_hours(None)


def queue_calling_window(queue: QueueRecord | None, settings: Settings) -> str:
    """The queue's own calling hours (admin console), else the process-wide setting."""
    own = queue.calling_hours if queue is not None else None
    return own if own is not None else settings.calling_hours


async def check_number_free(repo: Repository, phone: str, centre_zone: str) -> None:
    """Raise ``phone_waiting`` if ``phone`` has an open request: it is called once, and the
    error's ``detail`` (state, scheduled time; nothing of who asked) lets the widget say where
    that request stands."""
    existing = await repo.active_callback_for_phone(phone)
    if existing is not None:
        raise phone_waiting(existing, centre_zone)


def phone_waiting(existing: CallbackRecord | None, centre_zone: str) -> ProtocolError:
    """The ``phone_waiting`` refusal of a request for a number that has ``existing`` open (the
    check above, or the database's unique index when two requests raced past it)."""
    state = str(existing.state) if existing is not None else "queued"
    scheduled_at = existing.scheduled_at if existing is not None else None
    when = ""
    if state == "scheduled" and scheduled_at:
        when = f", for {local_text(scheduled_at, zone(centre_zone))} ({centre_zone})"
    return ProtocolError(ErrorCode.PHONE_WAITING, f"this number already has a callback request "
                         f"({state}{when}); we will call it once, no need to ask again",
                         detail={"state": state, "scheduled_at": scheduled_at})


def call_time(queue: QueueRecord, phone: str, scheduled_at: float | None, now: float,
              settings: Settings) -> tuple[float | None, dict[str, Any] | None]:
    """(the time to book, what the customer is told when it moved): a request for a time the
    phone may not ring is booked for the next time it may (and the queue is open)."""
    at = now if scheduled_at is None else scheduled_at
    calling, when = when_to_call(phone, at, window=queue_calling_window(queue, settings),
                                 centre_zone=settings.time_zone, queue_hours=queue_hours(queue))
    if when is None:
        raise ProtocolError(ErrorCode.BAD_TIME, "we find no time in the next 60 days when this queue is "
                            f"open and it is {calling.window} where this phone is; choose another queue",
                            detail={"reason": "no_calling_time", "window": calling.window})
    if when <= at:
        return scheduled_at, None
    where = calling.zones[0]
    return when, {"scheduled_at": when, "zone": where, "window": calling.window,
                  "fallback": calling.fallback, "local": local_text(when, zone(where))}


async def consent_record(repo: Repository, session: Session, text: str, now: float) -> dict[str, Any]:
    """What the customer agreed to: the sentence shown, when, the address the request came from
    (through the trusted proxies) and the page they were on (as stored: private parts masked)."""
    visitor = await repo.get_visitor(session.identity)
    return {"at": now, "address": session.data.get("peer") or session.data.get("address") or "",
            "page": visitor.current_url if visitor is not None else None, "text": text.strip()}
