"""What the router decides: states and the events it returns.

The router (``desktop.routing.router``) is pure: it is fed commands with a
``now`` (seconds since the epoch, float) and returns a list of these events.
The routing service persists them (``Repository.record_routing``) and only
then announces them to browsers, so a new leader can rebuild from the database.
"""

from __future__ import annotations

import dataclasses
import enum

__all__ = [
    "AgentState", "CallbackState", "OfferOutcome", "Channel", "TERMINAL_CALLBACK_STATES", "HUNG_UP", "LINE_DROPPED",
    "RoutingEvent", "CallbackQueued", "CallbackScheduled", "OfferMade", "OfferEnded",
    "CallbackConnected", "CallbackEnded", "AgentStateChanged", "QueueChanged",
]


class AgentState(enum.StrEnum):
    OFFLINE = "offline"      # no socket; not routable
    AWAY = "away"            # logged in, not taking contacts (with a reason)
    AVAILABLE = "available"  # idle, routable
    RESERVED = "reserved"    # holds exactly one pending offer
    BUSY = "busy"            # connected to a customer
    WRAP_UP = "wrap_up"      # after a contact, until done or the wrap-up timeout


class CallbackState(enum.StrEnum):
    SCHEDULED = "scheduled"  # waits for its time, not yet in the queue
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # by the customer
    ABANDONED = "abandoned"  # the customer's page was gone past the grace, or a caller's line dropped
    #: A caller phoned while the queue was closed: told so and hung up, never queued (the router
    #: never sees it; stored for the timeline and the reports: desktop/voice/inbound.py).
    CLOSED = "closed"


TERMINAL_CALLBACK_STATES = frozenset(
    {CallbackState.COMPLETED, CallbackState.CANCELLED, CallbackState.ABANDONED, CallbackState.CLOSED}
)

#: Why a callback ended (``CallbackEnded.reason``, on its timeline entry); "" when nothing more is known.
HUNG_UP = "hung_up"            # an inbound caller hung up while waiting
LINE_DROPPED = "line_dropped"  # an inbound caller's line went with the process that carried it


class OfferOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    WITHDRAWN = "withdrawn"  # the callback was cancelled/abandoned, or the agent left


class Channel(enum.StrEnum):
    BROWSER = "browser"  # voice in the customer's browser
    PHONE = "phone"      # the agent calls the customer's phone
    PHONE_INBOUND = "phone_inbound"  # the customer phoned us: they wait on the line (desktop/voice/inbound.py)


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackQueued:
    callback_id: str
    queue: str
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackScheduled:
    callback_id: str
    queue: str
    scheduled_at: float
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class OfferMade:
    offer_id: str
    callback_id: str
    agent_id: str
    at: float
    expires_at: float


@dataclasses.dataclass(frozen=True, slots=True)
class OfferEnded:
    offer_id: str
    callback_id: str
    agent_id: str
    outcome: OfferOutcome
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackConnected:
    callback_id: str
    agent_id: str
    offer_id: str
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackEnded:
    callback_id: str
    state: CallbackState  # one of TERMINAL_CALLBACK_STATES
    agent_id: str | None
    at: float
    reason: str = ""  # HUNG_UP, LINE_DROPPED, or ""


@dataclasses.dataclass(frozen=True, slots=True)
class AgentStateChanged:
    agent_id: str
    state: AgentState
    reason: str
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class QueueChanged:
    """Positions in this queue moved: waiting customers should be told."""

    queue: str
    at: float


RoutingEvent = (
    CallbackQueued | CallbackScheduled | OfferMade | OfferEnded | CallbackConnected
    | CallbackEnded | AgentStateChanged | QueueChanged
)
