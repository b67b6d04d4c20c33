"""Every websocket message, typed, in one place (protocol version 1).

Messages are JSON text frames with a ``type`` field. What a browser sends is
decoded with :func:`decode` against the union for its role; anything else is
refused with a :class:`ProtocolError` whose ``code`` goes back to the sender
in an ``error`` message. The server's messages are built with the ``Out*``
structs and encoded with :func:`encode`. ``docs/protocol.md`` is the prose
version of this file; keep them together.

Commands that change something carry ``id``, a client-chosen key: a retry
with the same id is answered with the same ``ack`` and not applied twice.
Room events carry ``seq``, the per-room sequence number a client sends back
in ``hello.last_seq`` when it reconnects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "VERSION", "ProtocolError", "decode", "encode",
    "CustomerMessage", "AgentMessage", "SupervisorMessage",
    "Hello", "Ping", "PageView", "Identify", "SetContext", "CallMe", "Cancel",
    "SetState", "Accept", "Decline", "End", "WrapUp",
    "ErrorCode",
]

VERSION = 1

CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]


class ErrorCode:
    """The ``code`` of an ``error`` message; stable, for programs to act on."""

    BAD_JSON = "bad_json"
    BAD_MESSAGE = "bad_message"          # not valid against the schema
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_READY = "not_ready"              # hello must come first
    UNAUTHORIZED = "unauthorized"
    INVALID_PHONE = "invalid_phone"
    PHONE_REFUSED = "phone_refused"      # premium-rate, shared-cost...
    TOO_MANY_REQUESTS = "too_many_requests"  # call-me rate per phone/visitor
    ALREADY_WAITING = "already_waiting"
    NOT_FOUND = "not_found"
    INVALID_STATE = "invalid_state"
    UNKNOWN_QUEUE = "unknown_queue"
    BAD_TIME = "bad_time"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A message that can't be accepted; ``code`` is one of :class:`ErrorCode`."""

    def __init__(self, code: str, message: str, *, command_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.command_id = command_id


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
    queue: ShortText
    topic: ShortText = ""
    message: LongText = ""
    channel: Literal["browser", "phone"] = "browser"
    phone: ShortText | None = None
    #: Epoch seconds; None or in the past means now.
    scheduled_at: float | None = None


class Cancel(_In, tag="cancel"):
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
    """Disposition and note for the contact; the agent becomes available."""

    id: CommandId
    callback_id: ShortText
    disposition: ShortText
    note: LongText = ""


CustomerMessage = Hello | Ping | PageView | Identify | SetContext | CallMe | Cancel
AgentMessage = Hello | Ping | SetState | Accept | Decline | End | WrapUp
SupervisorMessage = Hello | Ping

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


def _command_id(data: str | bytes) -> str | None:
    try:
        value = _any_type.decode(data).get("id")
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


_encoder = msgspec.json.Encoder()


def encode(message: dict[str, Any]) -> str:
    """Encode a server message (a dict with ``type``) as a JSON text frame."""
    return _encoder.encode(message).decode()


def error(code: str, message: str, *, command_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if command_id is not None:
        out["id"] = command_id
    return out


def ack(command_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": "ack", "id": command_id, **fields}
