"""What the server sends to browsers, typed: one struct per message type (protocol version 1).

Every message a browser receives is built from an ``Out*`` struct here and turned into
the dict the hub and the bus carry with :meth:`Out.to_dict` (the bus stores and fans out
dicts; the hub adds a room event's ``seq``). Building one with a misspelt or a missing
field raises ``TypeError`` at the line that builds it, so the wire format can't drift
from this file, and ``docs/protocol.md`` is checked against :data:`OUTBOUND`
(tests/unit/signaling/test_protocol_doc.py).

Field order is the order on the wire. A field that may be left out of the JSON altogether
defaults to :data:`msgspec.UNSET` (absent); ``None`` is sent as ``null``. Payloads shared
with REST or built by the pure core (cards, calls, the wall's rows) stay plain dicts.

A message with two shapes (what the customer's page gets and what the viewers get) has a
struct for each, both with the same ``type``. The ``Bus*`` structs are room events the desk's
processes send each other and no socket passes on (:data:`BETWEEN_PROCESSES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from signaling.protocol.inbound import UnmirroredArea

__all__ = [
    "Out", "OUTBOUND", "BETWEEN_PROCESSES", "encode", "error", "ack", "welcome", "checked",
    "CallbackStatus", "AgentStatus",
    # any socket
    "OutWelcome", "CustomerWelcome", "AgentWelcome", "SupervisorWelcome",
    "OutResumed", "OutPong", "OutAck", "OutError",
    # customer
    "OutCallbackStatus", "OutSignedOut", "OutAfterCall", "AfterCall", "WidgetLook",
    # agent
    "OutAgentState", "OutOffer", "OutOfferEnded", "OutContact", "OutCustomerPage", "OutCustomerContext",
    "OutSuggestions",
    # supervisor
    "OutWall", "OutWallDelta", "OutVoiceQuality",
    # voice
    "OutVoiceState", "OutVoiceProblem", "OutTrunkState",
    # co-browse and documents, to the customer's page
    "OutCobrowseRequest", "OutCobrowseSnapshot", "OutCobrowsePointer", "OutCobrowseViewer",
    "OutCobrowseEnded", "OutDocOpen", "OutDocPageToCustomer", "OutDocClosedToCustomer",
    "OutCobrowseNavigate", "OutCobrowseControlRequest", "OutCobrowseInput", "OutCobrowseControlStateToCustomer",
    # co-browse and documents, to the viewers
    "OutCobrowseState", "OutCobrowseEvents", "OutCobrowseLoading", "OutDocPageToViewer",
    "OutDocClosedToViewer", "OutCobrowseUnmirrored", "OutCobrowseNavigateAnswer",
    "OutCobrowseControlState", "OutCobrowseControlRefused",
    # between processes
    "BusEvent", "BusSessionEnded", "BusLeader", "BusQueues", "BusCobrowseEnd", "BusCobrowseContactEnded",
    "BusCobrowseControlRelease", "BusDocumentsOpen",
]

Json = dict[str, Any]
#: A number as the sender gave it: checking a dict (``msgspec.convert``) must not turn 30 into 30.0.
Number = int | float


class Out(msgspec.Struct, tag_field="type", kw_only=True):
    """Base of what the server sends; ``type`` is each struct's tag."""

    def to_dict(self) -> dict[str, Any]:
        """The message as the bus and the hub carry it: ``type`` first, UNSET fields left out.

        Shallow on purpose: nested dicts and ``msgspec.Raw`` (rrweb frames) pass as they are;
        only nested structs become dicts.
        """
        out: dict[str, Any] = {"type": self.__struct_config__.tag}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is UNSET:
                continue
            if isinstance(value, msgspec.Struct) or (
                    isinstance(value, list) and value and isinstance(value[0], msgspec.Struct)):
                value = msgspec.to_builtins(value)
            out[name] = value
        return out


# -- payloads typed here ----------------------------------------------------------------------

class CallbackStatus(msgspec.Struct, kw_only=True):
    """Where a customer's callback stands (``welcome.callback``, ``callback_status``)."""

    id: str
    state: str
    queue: str
    channel: str
    phone: str | None
    position: int | None
    estimated_wait: Number | None
    scheduled_at: Number | None
    #: In line with nobody staffed to answer (the leader's statuses; absent from a welcome's).
    nobody_available: bool | UnsetType = UNSET
    #: The deleted queue it was just moved out of (a leader's status after the deletion only).
    moved_from: str | UnsetType = UNSET
    agent_name: str | None
    created_at: Number


class AfterCall(msgspec.Struct, kw_only=True):
    """A contact wrapped up with a summary for the customer (``welcome.after_call``, ``after_call``)."""

    callback_id: str
    queue: str
    summary: str
    agent_name: str | None
    #: When the contact was wrapped up (epoch seconds).
    at: Number
    #: The customer's rating so far (1-5), null before they answer.
    rating: int | None


class AgentStatus(msgspec.Struct, kw_only=True):
    """An agent's state as the desk shows it."""

    state: str
    reason: str
    since: Number | None


# -- any socket (signaling/hub.py) --------------------------------------------------------------

class OutWelcome(Out, tag="welcome"):
    """The room's full state after ``hello``: these fields, then the role's (``*Welcome`` below)."""

    seq: int
    now: float


class _WelcomeFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The role's part of a ``welcome`` (the hub adds ``type``, ``seq`` and ``now``)."""


class WidgetLook(msgspec.Struct, forbid_unknown_fields=True):
    """The widget's colour (``#rrggbb``), its corner and a greeting per language ("" : its own words)."""

    accent: Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-f]{6}$")]
    position: Literal["bottom-right", "bottom-left"]
    greeting: dict[str, str]


class CustomerWelcome(_WelcomeFields):
    visitor_id: str
    callback: CallbackStatus | None
    queues: list[Json]
    voice: Json
    #: The contact centre's language for the widget (OTODESK_WIDGET_LOCALE), null when unset.
    locale: str | None = None
    #: The newest contact wrapped up with a summary, not reopened, of the last days (desktop/aftercall).
    after_call: AfterCall | None = None
    #: The widget's look as the console sets it (desktop/centre/config.py).
    look: WidgetLook | None = None


class AgentWelcome(_WelcomeFields):
    agent: Json
    state: AgentStatus
    offer: Json | None
    contact: Json | None
    dispositions: list[str]
    queues: list[Json]
    cobrowse: list[str]
    documents: list[Json]
    voice: Json


class SupervisorWelcome(_WelcomeFields):
    """The newest ``wall`` with the ``wall_delta`` after it applied (its fields), with the
    features' parts; ``term`` null: no wall yet (a whole one follows)."""

    at: Number
    queues: list[Json]
    agents: list[Json]
    history: Json
    term: str | None
    wall_seq: int | None
    cobrowse: list[str]
    documents: list[Json]
    voice: Json


class OutResumed(Out, tag="resumed"):
    """Reconnected within the replay window: the missed room events follow."""

    seq: int
    now: float


class OutPong(Out, tag="pong"):
    at: float


class OutAck(Out, tag="ack"):
    """A command applied; the extra fields depend on the command (docs/protocol.md)."""

    id: str
    # call_me, queues
    callback_id: str | UnsetType = UNSET
    #: call_me of a phone outside its calling hours: {scheduled_at, zone, window, fallback}.
    calling: Json | UnsetType = UNSET
    #: call_me: the queue it waits in (the server's choice when the widget named none).
    queue: str | UnsetType = UNSET
    queues: list[Json] | UnsetType = UNSET
    # identify
    customer_id: str | UnsetType = UNSET
    verified: bool | UnsetType = UNSET
    erased: bool | UnsetType = UNSET
    me_token: str | UnsetType = UNSET
    corrected: Json | UnsetType = UNSET
    # co-browse and documents (in the order their acks have always had)
    push_id: str | UnsetType = UNSET
    visitor_id: str | UnsetType = UNSET
    request_id: str | UnsetType = UNSET
    token: str | UnsetType = UNSET
    agent_name: str | UnsetType = UNSET
    pace: Json | UnsetType = UNSET
    url_privacy: Json | UnsetType = UNSET
    events: int | UnsetType = UNSET
    document: Json | UnsetType = UNSET
    nav_id: str | UnsetType = UNSET
    url: str | UnsetType = UNSET
    # voice
    sdp: str | UnsetType = UNSET
    call: Json | UnsetType = UNSET
    # suggestion_feedback (false: this outcome of this suggestion was recorded already)
    recorded: bool | UnsetType = UNSET


class OutError(Out, tag="error"):
    code: str
    message: str
    id: str | UnsetType = UNSET
    #: Whole seconds until the same request can succeed (limits).
    retry_after: int | UnsetType = UNSET
    #: What a client needs to word the error itself (``phone_waiting``: the open request's
    #: ``{state, scheduled_at}``; ``phone_country``: ``{country, allowed}``).
    detail: Json | UnsetType = UNSET


# -- customer (widget) ---------------------------------------------------------------------------

class OutCallbackStatus(Out, tag="callback_status"):
    callback: CallbackStatus


class OutAfterCall(Out, tag="after_call"):
    """The agent wrapped up the customer's contact with a summary: show it, ask for a rating."""

    after_call: AfterCall


class OutSignedOut(Out, tag="signed_out"):
    """The visitor token was revoked: the widget starts afresh."""

    reason: Literal["signed_out", "erased"]


# -- agent (desk) --------------------------------------------------------------------------------

class OutAgentState(Out, tag="agent_state"):
    state: AgentStatus


class OutOffer(Out, tag="offer"):
    """Ring: the contact card with ``offer_id``, ``offered_at``, ``expires_at``."""

    offer: Json


class OutOfferEnded(Out, tag="offer_ended"):
    offer_id: str
    callback_id: str
    outcome: str


class OutContact(Out, tag="contact"):
    """Connected or in wrap-up (the card); ``None`` with ``wrapped_up`` once wrapped up."""

    contact: Json | None
    wrapped_up: str | UnsetType = UNSET


class OutCustomerPage(Out, tag="customer_page"):
    callback_id: str
    url: str
    title: str
    at: float


class OutCustomerContext(Out, tag="customer_context"):
    callback_id: str
    context: Json


class OutSuggestions(Out, tag="suggestions"):
    """The business rules matched again for a contact (its page, cart or context changed):
    replaces the card's ``suggestions`` (desktop/suggestions/live.py)."""

    callback_id: str
    suggestions: list[Json]


# -- supervisor (wall) -----------------------------------------------------------------------------

class OutWall(Out, tag="wall"):
    """The whole wall: at a leader's start, on request (``wall_resync``), and every minute."""

    #: The leader's term: ``wall_delta`` of another term don't apply to this wall.
    term: str
    #: This wall's number in its term; the next ``wall_delta`` has ``wall_seq`` + 1.
    wall_seq: int
    at: float
    queues: list[Json]
    agents: list[Json]
    history: Json


class OutWallDelta(Out, tag="wall_delta"):
    """What changed since the wall ``wall_seq`` - 1 of the same ``term``
    (signaling/protocol/wall_delta.py applies it)."""

    term: str
    wall_seq: int
    at: float
    #: Rows new or changed, whole; then the ids of the agents gone.
    agents: list[Json]
    agents_removed: list[str]
    #: Queue rows new or changed, whole; then the names of the queues gone.
    queues: list[Json]
    queues_removed: list[str]
    #: {queue: {"from": at, "points": [[at, waiting], ...]}} for each series that changed.
    history: Json


class OutVoiceQuality(Out, tag="voice_quality"):
    """Every few seconds from each anchoring process: legs' figures and calls' states."""

    at: float
    calls: Json
    states: Json


# -- voice -------------------------------------------------------------------------------------------

class OutVoiceState(Out, tag="voice_state"):
    call: Json


class OutVoiceProblem(Out, tag="voice_problem"):
    """To the agent: the customer's browser can't talk (``voice_problem`` from their widget)."""

    callback_id: str
    problem: str
    at: float


class OutTrunkState(Out, tag="trunk_state"):
    """A process's SIP trunk changed its registration: to the wall (room ``wall``) and to the
    desks whose socket is on that process (sent to each socket, no room: it is their trunk)."""

    process: str
    #: off, static, registering, registered, failed (signaling/media/sip/trunk.py Registration).
    trunk: str
    #: The last failure ("401 Unauthorized"), kept while it is tried again; "" once registered.
    error: str


# -- co-browse and documents: to the customer's page (from cobrowse-in:) ------------------------------

class OutCobrowseRequest(Out, tag="cobrowse_request"):
    request_id: str
    agent_id: str
    agent_name: str
    callback_id: str
    at: float


class OutCobrowseSnapshot(Out, tag="cobrowse_snapshot"):
    """Take a full snapshot now (a viewer joined or fell behind)."""


class OutCobrowsePointer(Out, tag="cobrowse_pointer"):
    name: str
    node: int | None
    fx: float
    fy: float
    x: float
    y: float
    highlight: bool


class OutCobrowseViewer(Out, tag="cobrowse_viewer"):
    name: str
    role: str


class OutCobrowseEnded(Out, tag="cobrowse_ended"):
    by: Literal["agent", "contact"]
    name: str


class OutDocOpen(Out, tag="doc_open"):
    push_id: str
    document: Json
    agent_id: str
    agent_name: str
    callback_id: str
    #: Sent back in ``doc_resume`` by the next page.
    token: str


class OutDocPageToCustomer(Out, tag="doc_page"):
    push_id: str
    page: int
    zoom: float
    by: Literal["agent"] = "agent"


class OutDocClosedToCustomer(Out, tag="doc_closed"):
    push_id: str
    by: Literal["agent"] = "agent"


class OutCobrowseNavigate(Out, tag="cobrowse_navigate"):
    nav_id: str
    url: str
    title: str
    agent_id: str
    agent_name: str


class OutCobrowseControlRequest(Out, tag="cobrowse_control_request"):
    request_id: str
    agent_id: str
    agent_name: str


class OutCobrowseInput(Out, tag="cobrowse_input"):
    agent_id: str
    action: str
    node: int | None
    fx: float
    fy: float
    dx: float
    dy: float
    text: str
    key: str | None


class OutCobrowseControlStateToCustomer(Out, tag="cobrowse_control_state"):
    """The agent gave control back."""

    state: Literal["revoked"] = "revoked"
    by: Literal["agent"] = "agent"


# -- co-browse and documents: to the viewers (from cobrowse:) -------------------------------------------

class OutCobrowseState(Out, tag="cobrowse_state"):
    visitor_id: str
    state: Literal["requested", "sharing", "paused", "refused", "stopped", "ended"]
    request_id: str | None | UnsetType = UNSET
    agent_id: str | None | UnsetType = UNSET
    at: float | UnsetType = UNSET
    by: str | UnsetType = UNSET
    resumed: bool | UnsetType = UNSET
    #: The contact that ended (``state`` ``ended``).
    callback_id: str | UnsetType = UNSET


class OutCobrowseEvents(Out, tag="cobrowse_events"):
    visitor_id: str
    #: rrweb events as the customer's page sent them (checked JSON, passed on as is).
    events: msgspec.Raw | list[Json]


class OutCobrowseLoading(Out, tag="cobrowse_loading"):
    visitor_id: str
    pieces: int | None
    failed: str | None


class OutDocPageToViewer(Out, tag="doc_page"):
    visitor_id: str
    push_id: str
    page: int
    zoom: float
    pages: int | None
    by: Literal["customer"] = "customer"
    resumed: bool | UnsetType = UNSET


class OutDocClosedToViewer(Out, tag="doc_closed"):
    visitor_id: str
    push_id: str
    by: Literal["customer"] = "customer"


class OutCobrowseUnmirrored(Out, tag="cobrowse_unmirrored"):
    visitor_id: str
    frames: int
    canvases: int
    videos: int
    areas: list[UnmirroredArea]


class OutCobrowseNavigateAnswer(Out, tag="cobrowse_navigate_answer"):
    visitor_id: str
    nav_id: str
    go: bool
    url: str


class OutCobrowseControlState(Out, tag="cobrowse_control_state"):
    visitor_id: str
    state: Literal["granted", "refused", "revoked"]
    agent_id: str | None
    at: float
    by: str | UnsetType = UNSET


class OutCobrowseControlRefused(Out, tag="cobrowse_control_refused"):
    visitor_id: str
    reason: str


# -- between processes: room events the desk's processes send each other, never a browser --------

class BusEvent(Out):
    """Base of the room events no socket passes on (the hub or a feature acts on them)."""


class BusSessionEnded(BusEvent, tag="session_ended"):
    """A staff member signed out: the hub closes the sockets whose ``Session.tag`` is ``tag``."""

    tag: str


class BusLeader(BusEvent, tag="leader"):
    """A new leader runs the router (room ``system``): processes announce their sockets again."""

    owner: str
    epoch: int


class BusQueues(BusEvent, tag="queues"):
    """Who can answer each queue now and its wait for a new request (room ``queues``)."""

    queues: list[Json]


class BusCobrowseEnd(BusEvent, tag="cobrowse_end"):
    """A viewer stops watching; the customer's socket ends the share if it was theirs."""

    agent_id: str
    agent_name: str


class BusCobrowseContactEnded(BusEvent, tag="cobrowse_contact_ended"):
    callback_id: str


class BusCobrowseControlRelease(BusEvent, tag="cobrowse_control_release"):
    agent_id: str


class BusDocumentsOpen(BusEvent, tag="documents_open"):
    """What the customer's screen shows now (push_id -> document, page...), for a desk reload."""

    documents: Json


def _tags(base: type[Out]) -> dict[str, tuple[type[Out], ...]]:
    found: dict[str, tuple[type[Out], ...]] = {}
    for cls in list(globals().values()):
        if isinstance(cls, type) and issubclass(cls, base) and cls not in (Out, BusEvent) \
                and (base is BusEvent or not issubclass(cls, BusEvent)):
            tag = cls.__struct_config__.tag
            found[tag] = (*found.get(tag, ()), cls)
    return found


#: Every message type the server sends to browsers (its ``type`` tag -> its struct or structs).
OUTBOUND: dict[str, tuple[type[Out], ...]] = _tags(Out)
#: Every room event between processes that no browser receives.
BETWEEN_PROCESSES: dict[str, tuple[type[Out], ...]] = _tags(BusEvent)


# -- building and encoding ---------------------------------------------------------------------

_encoder = msgspec.json.Encoder()


def encode(message: Mapping[str, Any] | Out) -> str:
    """Encode a server message (an ``Out*`` struct, or the dict one became) as a JSON text frame."""
    return _encoder.encode(message).decode()


def checked(cls: type[Out], message: Mapping[str, Any]) -> dict[str, Any]:
    """A message built elsewhere as a dict (the pure core can't import this module), checked
    against ``cls``: raises ``msgspec.ValidationError`` if a field is missing, extra or of the
    wrong type."""
    return msgspec.convert(message, cls).to_dict()


def error(code: str, message: str, *, command_id: str | None = None,
          retry_after: float | None = None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return OutError(code=code, message=message, id=UNSET if command_id is None else command_id,
                    # whole seconds, never early
                    retry_after=UNSET if retry_after is None else math.ceil(retry_after),
                    detail=UNSET if detail is None else detail).to_dict()


def ack(command_id: str, **fields: Any) -> dict[str, Any]:
    """The ``ack`` of a command; ``fields`` are its extra fields (a misspelt one raises TypeError)."""
    return OutAck(id=command_id, **fields).to_dict()


def welcome(fields: _WelcomeFields | Mapping[str, Any], *, seq: int, now: float) -> dict[str, Any]:
    """The ``welcome``: ``type``, ``seq``, ``now``, then the role's fields (a ``*Welcome``; a bare
    mapping from a handler that is not the desk's)."""
    role = msgspec.to_builtins(fields) if isinstance(fields, msgspec.Struct) else fields
    return {**OutWelcome(seq=seq, now=now).to_dict(), **role}
