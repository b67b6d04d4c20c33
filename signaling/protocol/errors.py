"""What goes wrong with a message: :class:`ProtocolError` and its stable codes.

A handler raises ``ProtocolError(code, message)``; the hub sends it back to the sender as
an ``error`` message (``signaling.protocol.outbound.error``) and keeps the socket open.
"""

from __future__ import annotations

__all__ = ["ErrorCode", "ProtocolError"]


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
    PHONE_COUNTRY = "phone_country"      # a country the contact centre does not call
    PHONE_WAITING = "phone_waiting"      # this number has an open callback request already
    CONSENT_NEEDED = "consent_needed"    # a phone callback without the customer's consent
    TOO_MANY_REQUESTS = "too_many_requests"  # call-me rate per phone/visitor
    ALREADY_WAITING = "already_waiting"
    NOT_FOUND = "not_found"
    INVALID_STATE = "invalid_state"
    UNKNOWN_QUEUE = "unknown_queue"
    BAD_TIME = "bad_time"
    IDENTITY_UNVERIFIED = "identity_unverified"  # identify's user_hash does not match user_id
    BAD_SDP = "bad_sdp"                  # voice: an SDP offer that can't be used
    ALREADY_CONNECTED = "already_connected"  # voice: a second offer for a live leg
    CAPACITY = "capacity"                # voice: this server carries as many calls as it may
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A message that can't be accepted; ``code`` is one of :class:`ErrorCode`."""

    def __init__(self, code: str, message: str, *, command_id: str | None = None,
                 retry_after: float | None = None, detail: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.command_id = command_id
        #: Seconds until the same request can succeed (rate limits), sent as ``retry_after``.
        self.retry_after = retry_after
        #: Structured facts for the client to word the error (``error.detail``).
        self.detail = detail
