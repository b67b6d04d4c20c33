"""The voice exception tree; every error carries the ``code`` sent to the browser.

- :class:`VoiceError`
  - :class:`BadOffer` (also ``ValueError``): the SDP can't be used (``bad_sdp``)
  - :class:`LegTaken`: that participant already has a live connection (``already_connected``)
  - :class:`AtCapacity`: this process anchors as many calls as it is allowed (``capacity``)
  - :class:`NoSuchCall` (also ``LookupError``): not a live call (``not_found``)
  - :class:`InvalidCallState`: the call is not in a state for that (``invalid_state``)
  - :class:`TrunkError`: the SIP trunk can't place that call (``trunk``)
"""

from __future__ import annotations

__all__ = ["VoiceError", "BadOffer", "LegTaken", "AtCapacity", "NoSuchCall", "InvalidCallState", "TrunkError"]


class VoiceError(Exception):
    code = "internal"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadOffer(VoiceError, ValueError):
    code = "bad_sdp"


class LegTaken(VoiceError):
    code = "already_connected"


class AtCapacity(VoiceError):
    code = "capacity"


class NoSuchCall(VoiceError, LookupError):
    code = "not_found"


class InvalidCallState(VoiceError):
    code = "invalid_state"


class TrunkError(VoiceError):
    """The SIP trunk can't place that call (not configured, not started, not an E.164 number)."""

    code = "trunk"
