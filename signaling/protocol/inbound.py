"""What browsers send, typed (protocol version 1).

Messages are JSON text frames with a ``type`` field. What a browser sends is
decoded with :func:`decode` against the union for its role; anything else is
refused with a :class:`~signaling.protocol.errors.ProtocolError` whose ``code``
goes back to the sender in an ``error`` message. What the server sends is in
:mod:`signaling.protocol.outbound`. ``docs/protocol.md`` is the prose of both
(tests/unit/signaling/test_protocol_doc.py checks they name the same messages).

Commands that change something carry ``id``, a client-chosen key: a retry
with the same id is answered with the same ``ack`` and not applied twice.
Room events carry ``seq``, the per-room sequence number a client sends back
in ``hello.last_seq`` when it reconnects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from signaling.protocol.errors import ErrorCode, ProtocolError

__all__ = [
    "VERSION", "decode", "INBOUND",
    "CustomerMessage", "AgentMessage", "SupervisorMessage",
    "Hello", "Ping", "PageView", "Identify", "SetContext", "CallMe", "Cancel", "Queues", "Rate", "NotSolved",
    "SetState", "Accept", "Decline", "End", "WrapUp", "WallResync",
    "CobrowseAnswer", "CobrowseEvents", "CobrowseChunk", "CobrowseStop", "CobrowseResume",
    "CobrowseRequest", "CobrowseView", "CobrowsePointer", "CobrowseEnd",
    "CobrowseUnmirrored", "UnmirroredArea", "DocPush", "DocPage", "DocClose", "DocResume",
    "CobrowseNavigate", "CobrowseNavigateAnswer", "CobrowseControl", "CobrowseControlAnswer",
    "CobrowseControlRevoke", "CobrowseInput", "CobrowseControlRefused",
    "VoiceOffer", "VoiceControl", "VoiceStats", "VoiceProblem", "SuggestionFeedback",
]

VERSION = 1

CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]
#: The agent's summary for the customer (widget and e-mail): a few sentences.
SUMMARY_MAX = 1000
SummaryText = Annotated[str, msgspec.Meta(max_length=SUMMARY_MAX)]
#: The widget's languages (desktop.settings.WIDGET_LOCALES).
Locale = Literal["en", "zh-CN", "zh-TW"]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]


class _In(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, frozen=True):
    """Base of what browsers send."""


# -- any role --------------------------------------------------------------

class Hello(_In, tag="hello"):
    """First message on every socket. ``last_seq``: resume after this event."""

    last_seq: int | None = None
    #: Customers only: the signed visitor token from ``POST /api/visitor``.
    token: str | None = None
    #: Customers only: the page the widget is on.
    url: str | None = None
    title: str | None = None


class Ping(_In, tag="ping"):
    pass


# -- customer (widget) -----------------------------------------------------

class PageView(_In, tag="page_view"):
    url: Url
    title: ShortText = ""
    #: When the page was shown (epoch s), for pages noted before the socket
    #: was up; the server accepts the last hour and uses its own clock otherwise.
    at: float | None = None
    #: Optional on informational messages: with an id, the server acks.
    id: CommandId | None = None


class Identify(_In, tag="identify"):
    """What the site or the customer says about who this is.

    ``user_id`` links records only with a valid ``user_hash`` (an HMAC of the
    id with the site's secret); name, e-mail and phone are hints shown to agents.
    """

    name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None
    user_id: ShortText | None = None
    user_hash: ShortText | None = None
    id: CommandId | None = None


class SetContext(_In, tag="set_context"):
    """Free-form context from the site (cart, order number...), at most 50 keys."""

    context: dict[str, Any]
    id: CommandId | None = None


class CallMe(_In, tag="call_me"):
    id: CommandId
    name: ShortText
    #: Empty: the first queue whose agents speak ``locale`` (the admin console), else the first.
    queue: ShortText = ""
    topic: ShortText = ""
    message: LongText = ""
    channel: Literal["browser", "phone"] = "browser"
    phone: ShortText | None = None
    #: Epoch seconds; None or in the past means now.
    scheduled_at: float | None = None
    #: A phone callback: the consent sentence the widget showed next to the number (required).
    consent: LongText | None = None
    #: The widget's language: what the customer is written to in after the contact.
    locale: Locale | None = None


class Cancel(_In, tag="cancel"):
    id: CommandId
    callback_id: ShortText


class Queues(_In, tag="queues"):
    """The queues as the welcome lists them, afresh (who can answer now); acks ``queues``."""

    id: CommandId


class Rate(_In, tag="rate"):
    """The customer's answer to "how did we do?" after a contact with a summary (1-5; a
    later answer replaces it)."""

    id: CommandId
    callback_id: ShortText
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]


class NotSolved(_In, tag="not_solved"):
    """"Not solved": the contact is reopened as a new request that goes ahead in line and is
    offered as a follow-up; acks ``callback_id`` (the new request). Once per contact."""

    id: CommandId
    callback_id: ShortText


# -- agent (desk) ----------------------------------------------------------

class SetState(_In, tag="set_state"):
    id: CommandId
    state: Literal["available", "away"]
    reason: ShortText = ""


class Accept(_In, tag="accept"):
    id: CommandId
    offer_id: ShortText


class Decline(_In, tag="decline"):
    id: CommandId
    offer_id: ShortText


class End(_In, tag="end"):
    """The agent ends the conversation; the agent goes to wrap-up."""

    id: CommandId
    callback_id: ShortText


class WrapUp(_In, tag="wrap_up"):
    """Disposition and note for the contact; the agent becomes available.

    ``timed_out``: the desk saves what the agent had typed when the wrap-up time ran
    out (the agent is already available); the disposition may then be empty.
    """

    id: CommandId
    callback_id: ShortText
    disposition: ShortText
    note: LongText = ""
    timed_out: bool = False
    #: What was done, in words for the customer (the widget shows it, an e-mail carries it);
    #: empty: nothing is shown or sent.
    summary: SummaryText = ""


# -- co-browse (issue 3; desktop/cobrowse/feature.py) ---------------------------------
# Customer: answer an agent's request, send rrweb events (batched; a batch too
# big for one message in ordered pieces), stop, resume on a new page load.
# Agent / supervisor: ask to see the page, watch a share midway, point, end.

class CobrowseAnswer(_In, tag="cobrowse_answer"):
    """The customer's answer to ``cobrowse_request``; accepting acks with ``token``."""

    id: CommandId
    request_id: ShortText
    accept: bool


class CobrowseEvents(_In, tag="cobrowse_events"):
    """rrweb events recorded since the last batch (about every 100 ms)."""

    events: list[dict[str, Any]]


class CobrowseChunk(_In, tag="cobrowse_chunk"):
    """Piece ``index`` (from 0) of ``total`` of one batch (a full snapshot): its JSON text, or
    with ``encoding`` "deflate" the base64 of that text compressed (zlib format). The last
    piece carries an ``id``: its ack says the whole batch arrived."""

    batch: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    index: Annotated[int, msgspec.Meta(ge=0)]
    total: Annotated[int, msgspec.Meta(ge=1)]
    data: str
    encoding: Literal["json", "deflate"] = "json"
    id: CommandId | None = None


class CobrowseStop(_In, tag="cobrowse_stop"):
    """The customer stops sharing (also withdraws from a pending request)."""

    id: CommandId | None = None


class CobrowseResume(_In, tag="cobrowse_resume"):
    """A new page of a share in progress: ``token`` is the ack of the accepting answer."""

    id: CommandId
    token: Annotated[str, msgspec.Meta(max_length=1024)]


class CobrowseRequest(_In, tag="cobrowse_request"):
    """The agent asks to see the page of the customer of ``callback_id``."""

    id: CommandId
    callback_id: ShortText


class CobrowseView(_In, tag="cobrowse_view"):
    """Watch a share in progress (a supervisor, or the agent after a reload)."""

    id: CommandId
    visitor_id: ShortText


class CobrowsePointer(_In, tag="cobrowse_pointer"):
    """Where the viewer points: rrweb node id and offset in it (0..1), page coordinates as a fallback."""

    visitor_id: ShortText
    node: int | None = None
    fx: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    fy: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    x: float = 0
    y: float = 0
    #: A click: the customer's page briefly rings the element (a highlight).
    highlight: bool = False


class CobrowseEnd(_In, tag="cobrowse_end"):
    """Stop watching; the agent who asked also ends the customer's share."""

    id: CommandId
    visitor_id: ShortText


class DocPush(_In, tag="doc_push"):
    """The agent opens a library document on the customer's page (acks ``push_id``, ``visitor_id``)."""

    id: CommandId
    callback_id: ShortText
    document_id: ShortText


class DocPage(_In, tag="doc_page"):
    """A page turn or zoom of a pushed document, from either side (agents name ``visitor_id``)."""

    push_id: ShortText
    page: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    zoom: Annotated[float, msgspec.Meta(ge=0.25, le=5)] = 1.0
    #: Pages in the document, once the customer's side has opened it.
    pages: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    visitor_id: ShortText | None = None
    id: CommandId | None = None


class DocClose(_In, tag="doc_close"):
    """The customer closes a pushed document, or the agent takes it back."""

    push_id: ShortText
    visitor_id: ShortText | None = None
    id: CommandId | None = None


# -- co-browse: "go to this page" and remote control (desktop/cobrowse/control.py) ------
# Agent: send the customer to a page of the same site; ask for / give back control;
# while granted, clicks, scrolls and typing on the mirror (rrweb node ids).
# Customer: Go / Stay, Allow / No, take control back, "refused on my device".

class CobrowseNavigate(_In, tag="cobrowse_navigate"):
    """The agent proposes a page of the customer's own site (same origin; relative URLs resolve)."""

    id: CommandId
    visitor_id: ShortText
    url: Url
    title: ShortText = ""


class CobrowseNavigateAnswer(_In, tag="cobrowse_navigate_answer"):
    """The customer's Go (``go``) or Stay on a ``cobrowse_navigate``."""

    id: CommandId
    nav_id: ShortText
    go: bool


class CobrowseControl(_In, tag="cobrowse_control"):
    """The sharing agent asks for remote control, or gives it back."""

    id: CommandId
    visitor_id: ShortText
    action: Literal["request", "release"]


class CobrowseControlAnswer(_In, tag="cobrowse_control_answer"):
    """The customer allows (``accept``) or refuses the agent's control, each time asked."""

    id: CommandId
    request_id: ShortText
    accept: bool


class CobrowseControlRevoke(_In, tag="cobrowse_control_revoke"):
    """The customer takes control back (Esc, a click, the banner's button)."""

    id: CommandId | None = None


class CobrowseInput(_In, tag="cobrowse_input"):
    """One input of the agent in control: a click on ``node``, a scroll by (dx, dy) px,
    ``text`` typed into ``node``, or a ``key`` pressed there."""

    visitor_id: ShortText
    action: Literal["click", "scroll", "text", "key"]
    node: Annotated[int, msgspec.Meta(ge=0)] | None = None
    fx: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    fy: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.5
    dx: Annotated[float, msgspec.Meta(ge=-5000, le=5000)] = 0
    dy: Annotated[float, msgspec.Meta(ge=-5000, le=5000)] = 0
    text: Annotated[str, msgspec.Meta(max_length=64)] = ""
    key: Literal["Backspace", "Enter"] | None = None


class CobrowseControlRefused(_In, tag="cobrowse_control_refused"):
    """The customer's device refused one of the agent's inputs (told to the agent)."""

    reason: Literal["private", "masked", "foreign", "gone"]


class UnmirroredArea(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One element the mirror can't show: its rrweb node id on the customer's page."""

    kind: Literal["frame", "canvas", "video"]
    node: Annotated[int, msgspec.Meta(ge=1, le=2**31)]
    #: Its size on the customer's screen (CSS px): the replay can't size a canvas without scripts.
    width: Annotated[float, msgspec.Meta(ge=0, le=100_000)] = 0
    height: Annotated[float, msgspec.Meta(ge=0, le=100_000)] = 0


class CobrowseUnmirrored(_In, tag="cobrowse_unmirrored"):
    """What the shared page has that the agent can't see: cross-origin (or sandboxed) frames,
    canvases, videos. Sent after every full snapshot and when the counts change."""

    frames: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    canvases: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    videos: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    areas: Annotated[list[UnmirroredArea], msgspec.Meta(max_length=50)] = []


class DocResume(_In, tag="doc_resume"):
    """A pushed document still open after a page load: ``token`` came with its ``doc_open``."""

    token: Annotated[str, msgspec.Meta(max_length=1024)]
    page: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    zoom: Annotated[float, msgspec.Meta(ge=0.25, le=5)] = 1.0
    pages: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    id: CommandId | None = None


CobrowseCustomerMessage = (CobrowseAnswer | CobrowseEvents | CobrowseChunk | CobrowseStop | CobrowseResume
                           | DocPage | DocClose | CobrowseNavigateAnswer
                           | CobrowseControlAnswer | CobrowseControlRevoke | CobrowseControlRefused
                           | CobrowseUnmirrored | DocResume)
CobrowseViewerMessage = (CobrowseRequest | CobrowseView | CobrowsePointer | CobrowseEnd | DocPush | DocPage | DocClose
                         | CobrowseNavigate | CobrowseControl | CobrowseInput)


# -- voice (issue 5; desktop/voice/feature.py, signaling/media/) ----------------------
# Each browser makes one RTCPeerConnection to the server's media anchor. The
# offer is complete (non-trickle: the browser waited for ICE gathering); the
# ack carries the answer. Who hears whom is changed with ``voice_control``.

Sdp = Annotated[str, msgspec.Meta(min_length=1, max_length=32 * 1024)]


class VoiceOffer(_In, tag="voice_offer"):
    """This participant's SDP offer for the call of ``callback_id``; the ack has ``sdp`` (the answer).

    Audio m-lines only: the first sends the microphone (and receives the other
    party), an optional second receives an extra voice (a supervisor's, or for
    a supervisor the agent's). ``mode`` is for supervisors: how they join.
    ``reconnect``: this replaces this participant's own leg, which dropped (a
    fresh RTCPeerConnection: aiortc can't do an ICE restart); the call goes on.
    """

    id: CommandId
    callback_id: ShortText
    sdp: Sdp
    mode: Literal["listen", "whisper", "barge"] | None = None
    reconnect: bool = False


class VoiceControl(_In, tag="voice_control"):
    """Customer: mute, unmute, hangup, and consent / refuse when asked to be recorded.
    Agent: mute, unmute, hold, resume, hangup, and dtmf (``digits``, to a phone call's far end).
    Supervisor: listen, whisper, barge, leave."""

    id: CommandId
    callback_id: ShortText
    action: Literal["mute", "unmute", "hold", "resume", "hangup", "listen", "whisper", "barge", "leave",
                    "consent", "refuse", "dtmf"]
    digits: Annotated[str, msgspec.Meta(pattern=r"^[0-9*#A-Da-d]{1,32}$")] | None = None


Millis = Annotated[float, msgspec.Meta(ge=0, le=600_000)]


class VoiceStats(_In, tag="voice_stats"):
    """The browser's own view of its leg (getStats), every few seconds; no ack.

    ``rtt_ms`` from remote-inbound-rtp (what the server reports of our audio),
    the rest from inbound-rtp (what we receive): ``jitter_ms``, ``loss`` (share
    0..1 since the last report), ``concealed_ms`` (audio the browser had to
    invent since the last report: gaps a person hears).
    """

    callback_id: ShortText
    rtt_ms: Millis | None = None
    jitter_ms: Millis | None = None
    loss: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    concealed_ms: Millis | None = None


class VoiceProblem(_In, tag="voice_problem"):
    """Customer: their browser can't talk (it has no microphone, may not use it, or another app
    holds it): the agent is told, and can call their phone or end. No id, no ack."""

    callback_id: ShortText
    problem: Literal["no_microphone", "microphone_refused", "microphone_busy"]


VoiceMessage = VoiceOffer | VoiceControl | VoiceStats


# -- suggestions (issue 11; desktop/suggestions/) ----------------------------------------

class SuggestionFeedback(_In, tag="suggestion_feedback"):
    """What became of a suggestion on the card of a contact of the agent's (offer or call).

    ``shown``: it was on the card (an impression, sent once); ``presented``: the agent
    opened it to read; ``accepted`` / ``declined`` (with an optional ``reason``): the
    customer's answer. Each is recorded once per contact, action and version (acks
    ``recorded``: false for a repeat).
    """

    id: CommandId
    callback_id: ShortText
    action_id: ShortText
    version: Annotated[int, msgspec.Meta(ge=1)]
    outcome: Literal["shown", "presented", "accepted", "declined"]
    reason: ShortText = ""


# -- supervisor ---------------------------------------------------------------------------

class WallResync(_In, tag="wall_resync"):
    """A ``wall_delta`` did not follow the wall shown: publish a whole ``wall`` (within a second)."""

    id: CommandId


CustomerMessage = (Hello | Ping | PageView | Identify | SetContext | CallMe | Cancel | Queues | Rate | NotSolved
                   | CobrowseCustomerMessage | VoiceMessage | VoiceProblem)
AgentMessage = (Hello | Ping | SetState | Accept | Decline | End | WrapUp | CobrowseViewerMessage | VoiceMessage
                | SuggestionFeedback)
SupervisorMessage = Hello | Ping | WallResync | CobrowseView | CobrowsePointer | CobrowseEnd | VoiceMessage

#: Every message type a browser may send (its ``type`` tag -> struct), for docs/protocol.md's check.
INBOUND: dict[str, type[msgspec.Struct]] = {
    cls.__struct_config__.tag: cls
    for cls in (Hello, Ping, PageView, Identify, SetContext, CallMe, Cancel, Queues, Rate, NotSolved,
                SetState, Accept, Decline, End, WrapUp, WallResync, *CobrowseCustomerMessage.__args__,
                *CobrowseViewerMessage.__args__, *VoiceMessage.__args__, VoiceProblem, SuggestionFeedback)
}

_decoders = {
    "customer": msgspec.json.Decoder(CustomerMessage),
    "agent": msgspec.json.Decoder(AgentMessage),
    "supervisor": msgspec.json.Decoder(SupervisorMessage),
}
_any_type = msgspec.json.Decoder(dict[str, Any])


def decode(role: str, data: str | bytes, *, max_bytes: int) -> _In:
    """Parse and validate one frame from a browser of ``role``.

    Raises ProtocolError (never anything else) with a code for the sender.
    """
    if len(data) > max_bytes:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"message of {len(data)} bytes exceeds {max_bytes}")
    try:
        return _decoders[role].decode(data)
    except msgspec.ValidationError as exc:
        command_id = _command_id(data)
        text = str(exc)
        if "Invalid value" in text and "$.type" in text or "Missing required field `type`" in text:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, text, command_id=command_id) from None
        raise ProtocolError(ErrorCode.BAD_MESSAGE, text, command_id=command_id) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_JSON, f"not JSON: {exc}") from None
    except RecursionError:
        # msgspec refuses very deep nesting this way; no message of ours nests so.
        raise ProtocolError(ErrorCode.BAD_JSON, "JSON nested too deeply") from None


def _command_id(data: str | bytes) -> str | None:
    try:
        value = _any_type.decode(data).get("id")
    except (msgspec.DecodeError, RecursionError):
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None
