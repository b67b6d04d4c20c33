"""Co-browse sessions, the pure part: consent, event checks, snapshot reassembly.

Nothing here touches a socket, the bus, the database or the clock (``now`` is
passed in); ``desktop.cobrowse.feature`` drives these objects from the hub.

One :class:`Share` per customer socket (a browser tab) holds the consent state
machine::

    idle ──request──▶ requested ──accept──▶ sharing ──stop──▶ stopped
                         │                    │  ▲
                         └──refuse──▶ refused └──┘ resume (a new page of the same share)

Only ``sharing`` lets the customer's rrweb events through. ``resume`` (a new
page load presenting the signed share token) goes straight to ``sharing``.

rrweb events are checked for shape (``check_events``) and size; a full snapshot
bigger than one websocket message arrives in pieces (``ChunkAssembler``).

Exceptions: :class:`CobrowseError` (base, with an error ``code`` for the
sender), :class:`InvalidShareState` (also a ``RuntimeError``),
:class:`BadEvents` (also a ``ValueError``).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import zlib
from typing import Any

import msgspec

__all__ = [
    "BadEvents",
    "ChunkAssembler",
    "CobrowseError",
    "InvalidShareState",
    "Share",
    "ShareLimits",
    "ShareState",
    "check_events",
]


class CobrowseError(Exception):
    """Base of co-browse errors; ``code`` is a protocol error code."""

    code = "bad_message"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidShareState(CobrowseError, RuntimeError):
    code = "invalid_state"


class BadEvents(CobrowseError, ValueError):
    code = "bad_message"


class ShareState(enum.StrEnum):
    IDLE = "idle"
    REQUESTED = "requested"
    SHARING = "sharing"
    REFUSED = "refused"
    STOPPED = "stopped"


#: Allowed moves: (from, action) -> to.
_MOVES: dict[tuple[ShareState, str], ShareState] = {
    (ShareState.IDLE, "request"): ShareState.REQUESTED,
    (ShareState.REFUSED, "request"): ShareState.REQUESTED,
    (ShareState.STOPPED, "request"): ShareState.REQUESTED,
    (ShareState.REQUESTED, "request"): ShareState.REQUESTED,  # asked again (another agent)
    (ShareState.REQUESTED, "accept"): ShareState.SHARING,
    (ShareState.REQUESTED, "refuse"): ShareState.REFUSED,
    (ShareState.REQUESTED, "stop"): ShareState.STOPPED,  # the agent withdrew the request
    (ShareState.SHARING, "stop"): ShareState.STOPPED,
    (ShareState.IDLE, "resume"): ShareState.SHARING,
    (ShareState.STOPPED, "resume"): ShareState.SHARING,
    (ShareState.REFUSED, "resume"): ShareState.SHARING,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShareLimits:
    """What one share may send, coherent with the hub's per-socket limits (``within_hub``).

    A full snapshot of a big page (Python's ``genindex-all.html``, 7 MB of HTML) is ~10 MB
    of JSON, ~1 MB compressed: the recorder sends it deflated, in ``piece_chars`` pieces,
    at most ``pieces_per_second`` (bursts of ``piece_burst``), under the hub's message rate
    with room left for the socket's other messages. The customer is told these in the
    answer's and resume's ack (``pace``).
    """

    #: Events in one ``cobrowse_events`` batch.
    max_events: int = 2000
    #: Bytes of one reassembled batch once decompressed (the JSON text).
    max_batch_bytes: int = 32 * 1024 * 1024
    #: Pieces of one chunked batch, and characters in one piece (under the hub's message size).
    max_chunks: int = 512
    piece_chars: int = 48_000
    #: The pace the recorder keeps when sending pieces.
    pieces_per_second: float = 14.0
    piece_burst: int = 30
    #: Sustained bytes a second one share may relay, and the burst above it (page loads
    #: send a full snapshot at once). Bounds what a hostile page can make the bus hold.
    bytes_per_second: float = 256 * 1024
    burst_bytes: int = 8 * 1024 * 1024

    @classmethod
    def within_hub(cls, *, messages_per_second: float, message_burst: int, max_message_bytes: int,
                   **overrides: Any) -> "ShareLimits":
        """Limits a recorder can keep without the hub refusing its pieces: about 70% of the
        socket's message rate and half its burst (pointer, input and control messages share
        the socket), pieces that fit one message with room for the envelope."""
        return cls(pieces_per_second=max(1.0, messages_per_second * 0.7),
                   piece_burst=max(1, message_burst // 2),
                   piece_chars=max(1024, min(48_000, max_message_bytes - 4096)), **overrides)

    def pace(self) -> dict[str, Any]:
        return {"per_second": self.pieces_per_second, "burst": self.piece_burst, "piece": self.piece_chars,
                "max_pieces": self.max_chunks}


@dataclasses.dataclass(eq=False)
class Share:
    """The consent state of one customer tab; every change goes through ``_move``."""

    state: ShareState = ShareState.IDLE
    request_id: str | None = None
    agent_id: str | None = None
    agent_name: str = ""
    since: float | None = None
    #: The contact the share belongs to: it ends with it.
    callback_id: str | None = None

    def _move(self, action: str) -> ShareState:
        target = _MOVES.get((self.state, action))
        if target is None:
            raise InvalidShareState(f'Cannot {action} a co-browse share in state "{self.state}"')
        self.state = target
        return target

    def request(self, *, request_id: str, agent_id: str, agent_name: str, callback_id: str | None = None) -> None:
        if self.state == ShareState.SHARING:
            raise InvalidShareState("the customer is already sharing their page")
        self._move("request")
        self.request_id, self.agent_id, self.agent_name = request_id, agent_id, agent_name
        self.callback_id = callback_id

    def answer(self, request_id: str, *, accept: bool, now: float) -> None:
        """The customer's answer to request ``request_id``; a forged or stale id is refused."""
        if self.state != ShareState.REQUESTED or request_id != self.request_id:
            raise InvalidShareState("no such co-browse request is waiting for an answer")
        self._move("accept" if accept else "refuse")
        if accept:
            self.since = now

    def resume(self, *, request_id: str, agent_id: str, agent_name: str, since: float,
               callback_id: str | None = None) -> None:
        self._move("resume")
        self.request_id, self.agent_id, self.agent_name, self.since = request_id, agent_id, agent_name, since
        self.callback_id = callback_id

    def stop(self) -> float | None:
        """End the share (or withdraw the request); returns how long it lasted (s) from ``since``."""
        was_sharing = self.state == ShareState.SHARING
        self._move("stop")
        return self.since if was_sharing else None

    @property
    def sharing(self) -> bool:
        return self.state == ShareState.SHARING

    def require_sharing(self) -> None:
        if not self.sharing:
            raise InvalidShareState("this page is not being shared: nothing may be sent before consent")


_event_list = msgspec.json.Decoder(list[dict[str, Any]])

#: rrweb's EventType: DomContentLoaded 0, Load 1, FullSnapshot 2, IncrementalSnapshot 3,
#: Meta 4, Custom 5, Plugin 6.
_EVENT_TYPES = range(7)


def check_events(events: list[Any], *, limits: ShareLimits) -> list[dict[str, Any]]:
    """Refuse anything that is not a list of rrweb-shaped events; returns them unchanged.

    Only the envelope is checked (``type``, ``timestamp``, ``data``): the
    contents are rendered by rrweb's replayer inside a sandboxed iframe where
    no script runs. Raises BadEvents.
    """
    if not isinstance(events, list):
        raise BadEvents("events must be a list")
    if not events:
        raise BadEvents("an empty batch of events")
    if len(events) > limits.max_events:
        raise BadEvents(f"{len(events)} events in one batch; at most {limits.max_events}", code="too_large")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise BadEvents(f"event {index} is not an object")
        kind = event.get("type")
        if not isinstance(kind, int) or isinstance(kind, bool) or kind not in _EVENT_TYPES:
            raise BadEvents(f"event {index} has no valid rrweb type (0-6)")
        stamp = event.get("timestamp")
        if not isinstance(stamp, (int, float)) or isinstance(stamp, bool) or not 0 < stamp < 1e14:
            raise BadEvents(f"event {index} has no valid timestamp (epoch ms)")
        if not isinstance(event.get("data"), dict):
            raise BadEvents(f"event {index} has no data object")
    return events


class ByteBudget:
    """A token bucket of bytes: ``take(n, now)`` raises BadEvents (``rate_limited``) when spent."""

    def __init__(self, limits: ShareLimits, *, now: float):
        self.rate = limits.bytes_per_second
        self.burst = float(limits.burst_bytes)
        self.tokens = self.burst
        self.at = now

    def take(self, size: int, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if size > self.tokens:
            raise BadEvents(f"co-browse traffic over {int(self.rate / 1024)} KB/s; events dropped, "
                            "slow down", code="rate_limited")
        self.tokens -= size


def _inflate(text: str, max_bytes: int) -> bytes:
    """base64 of zlib-compressed JSON -> the JSON bytes, never more than ``max_bytes`` of it."""
    try:
        packed = base64.b64decode(text, validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, max_bytes + 1)
    except (ValueError, zlib.error) as exc:
        raise BadEvents(f"the joined batch is not base64 of deflated JSON: {exc}") from None
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise BadEvents(f"batch larger than {max_bytes} bytes once decompressed", code="too_large")
    if not inflater.eof:
        raise BadEvents("the joined batch is cut short: the compressed stream does not end")
    return data


class ChunkAssembler:
    """Joins the pieces of one batch too big for a websocket message.

    One batch at a time per customer tab: a piece of another batch drops the
    unfinished one (the customer's recorder moved on).
    """

    def __init__(self, limits: ShareLimits):
        self.limits = limits
        self._batch: str | None = None
        self._total = 0
        self._parts: list[str] = []
        self._size = 0

    def add(self, batch: str, index: int, total: int, data: str,
            encoding: str = "json") -> list[dict[str, Any]] | None:
        """Add piece ``index`` of ``total``; the checked events once the last arrives, else None.

        Pieces must come in order. ``encoding`` "deflate": the joined pieces are the base64 of
        the JSON compressed (zlib format), decompressed here no further than ``max_batch_bytes``.
        Raises BadEvents (and forgets the batch).
        """
        if not 1 <= total <= self.limits.max_chunks:
            self.reset()
            raise BadEvents(f"a batch may have 1 to {self.limits.max_chunks} pieces, not {total}")
        if batch != self._batch:
            self.reset()
            self._batch, self._total = batch, total
        if index != len(self._parts) or total != self._total:
            self.reset()
            raise BadEvents(f"piece {index} of {total} out of order; send the batch again from piece 0")
        self._size += len(data)
        if self._size > self.limits.max_batch_bytes:
            self.reset()
            raise BadEvents(f"batch larger than {self.limits.max_batch_bytes} bytes", code="too_large")
        self._parts.append(data)
        if len(self._parts) < total:
            return None
        text = "".join(self._parts)
        self.reset()
        if encoding == "deflate":
            text = _inflate(text, self.limits.max_batch_bytes)
        try:
            events = _event_list.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise BadEvents(f"the joined batch is not a JSON list of events: {exc}") from None
        return check_events(events, limits=self.limits)

    def reset(self) -> None:
        self._batch, self._total, self._parts, self._size = None, 0, [], 0
