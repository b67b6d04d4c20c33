"""What a process asks of the process anchoring a call: one struct per voice request.

:class:`~desktop.voice.bus.VoiceBus` carries them on the call's room (as dicts tagged ``op``);
the anchoring side decodes each with :func:`decode` and the voice feature applies it through
a table of handlers (``desktop/voice/feature.py``). The bus sets the envelope: ``rid`` and
``reply_to`` for a request that waits for its answer, ``at`` (epoch s) on every one.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["VoiceRequest", "Offer", "Control", "OwnerGone", "Stats", "AnyVoiceRequest", "decode"]


class VoiceRequest(msgspec.Struct, tag_field="op", kw_only=True, frozen=True, omit_defaults=True,
                   forbid_unknown_fields=True):
    """Base of every voice request; the envelope fields are the bus's."""

    rid: str | None = None
    reply_to: str | None = None
    at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)


class Offer(VoiceRequest, tag="offer"):
    """A participant's SDP offer (``voice_offer``), with what the anchor needs to build the call."""

    role: str
    sdp: str
    #: The socket the leg belongs to (a reload's new offer replaces the leg of a socket gone).
    owner: str | None = None
    mode: str | None = None
    reconnect: bool = False
    #: How the call's queue is recorded: ``on``, ``consent`` or None.
    recording: str | None = None
    #: Who is on the call (rooms to tell, names for the wall), read from the callback.
    meta: dict[str, Any] = {}


class Control(VoiceRequest, tag="control"):
    role: str
    action: str


class OwnerGone(VoiceRequest, tag="owner_gone"):
    """A socket closed: its legs may be taken over by a new offer."""

    owner: str


class Stats(VoiceRequest, tag="stats"):
    """A browser's getStats of its leg (``voice_stats``)."""

    role: str
    report: dict[str, Any]


AnyVoiceRequest = Offer | Control | OwnerGone | Stats


def decode(message: dict[str, Any]) -> VoiceRequest:
    """The request a bus message holds; raises ``msgspec.ValidationError``."""
    return msgspec.convert(message, AnyVoiceRequest)
