"""What the media anchor needs of a SIP trunk, whichever stack implements it.

A :class:`Trunk` registers (when its provider wants that), places calls to
E.164 numbers and reports each call's progress as :class:`PhoneEvent` s. Audio
crosses this interface as PCM, signed 16-bit, mono, 8 kHz, 20 ms frames
(:data:`FRAME_BYTES`): what the wire carries (G.711 today) is the backend's
business, and turning that PCM into Opus for a browser is the phone leg's
(:mod:`signaling.media.phone`). A second stack (e.g. baresip, for TLS and
SRTP) is one more module implementing these two classes.

Errors: :class:`~signaling.media.errors.TrunkError` (``trunk``): the trunk is
not configured, not started, or the number can't be dialled.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["SAMPLE_RATE", "FRAME_SAMPLES", "FRAME_BYTES", "Registration", "PhoneState", "CallResult",
           "PhoneEvent", "TrunkConfig", "PhoneCall", "Trunk", "result_of_status"]

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2

CODECS = ("PCMU", "PCMA")
TRANSPORTS = ("udp",)


class Registration(enum.StrEnum):
    """The trunk's standing with its provider, as /healthz and the wall show it."""

    OFF = "off"                    # no trunk configured: phone callbacks are dialled by hand
    STATIC = "static"              # a trunk that authenticates each call (no REGISTER)
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"              # credentials refused or registrar unreachable; retried


class PhoneState(enum.StrEnum):
    """One outbound call's progress, in the order it normally goes."""

    DIALLING = "dialling"    # INVITE sent, nothing back but 100 Trying
    RINGING = "ringing"      # 180, or 183 with early media
    CONNECTED = "connected"  # 200 OK, ACKed: the phone answered
    ENDED = "ended"          # see :class:`CallResult`


class CallResult(enum.StrEnum):
    """Why a call ended; the retry policy reads this."""

    COMPLETED = "completed"   # answered, then hung up by either side
    BUSY = "busy"             # 486, 600
    NO_ANSWER = "no_answer"   # rang until the ring timeout (we sent CANCEL), or 408/480
    REJECTED = "rejected"     # 603 Decline, 404 and other refusals of that number
    FAILED = "failed"         # auth refused, unreachable, malformed answer, 5xx
    CANCELLED = "cancelled"   # we gave up before an answer (the agent hung up)


def result_of_status(status: int) -> CallResult:
    """The :class:`CallResult` of a final SIP failure response."""
    if status in (486, 600):
        return CallResult.BUSY
    if status in (408, 480, 487):
        return CallResult.NO_ANSWER
    if status in (401, 407, 403) or status >= 500 and status != 600 and status != 603:
        return CallResult.FAILED
    return CallResult.REJECTED


@dataclasses.dataclass(frozen=True, kw_only=True)
class PhoneEvent:
    state: PhoneState
    result: CallResult | None = None
    #: The SIP status that caused it (180, 183, 200, 486...), 0 if none (a timeout, our CANCEL).
    status: int = 0
    reason: str = ""
    #: True on RINGING when the far end sent early media (183 with SDP): the agent hears it.
    early_media: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrunkConfig:
    """A trunk as the settings describe it (OTODESK_SIP_*)."""

    #: ``sip:host[:port]`` of the provider's proxy/registrar.
    uri: str
    username: str = ""
    password: str = ""
    #: The number presented to the called party (E.164): one the contact centre owns.
    caller_id: str = ""
    codecs: tuple[str, ...] = CODECS
    transport: str = "udp"
    #: REGISTER with the provider (seconds between refreshes); 0: a static trunk.
    register_expires: int = 300
    #: The address SIP and RTP bind to, and advertise (a private rig may use 127.0.0.1).
    local_host: str = "0.0.0.0"
    local_port: int = 0

    def __post_init__(self) -> None:
        host, _port = self.proxy
        if not host:
            raise ValueError(f"the SIP trunk URI must be sip:host[:port], not {self.uri!r}")
        bad = [codec for codec in self.codecs if codec.upper() not in CODECS]
        if bad or not self.codecs:
            raise ValueError(f"SIP codecs must be among {', '.join(CODECS)}, not {', '.join(bad) or 'none'}")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"SIP transport must be one of {', '.join(TRANSPORTS)} (TLS needs a second backend), "
                             f"not {self.transport!r}")

    @property
    def proxy(self) -> tuple[str, int]:
        """The (host, port) every request goes to."""
        text = self.uri.strip()
        if not text.lower().startswith("sip:"):
            return "", 0
        parts = urlsplit("//" + text[4:].split(";")[0].split("@")[-1])
        try:
            port = parts.port or 5060
        except ValueError:
            return "", 0
        return parts.hostname or "", port

    @property
    def domain(self) -> str:
        host, port = self.proxy
        return host if port == 5060 else f"{host}:{port}"


AudioSink = Callable[[bytes], None]
EventSink = Callable[["PhoneCall", PhoneEvent], None]


class PhoneCall(abc.ABC):
    """One outbound call on a trunk.

    ``on_event(call, event)`` is called (synchronously; schedule your own I/O)
    at each change of state, once with ``ENDED``; ``on_audio(pcm)`` with each
    20 ms frame received (early media included).
    """

    number: str
    state: PhoneState = PhoneState.DIALLING
    result: CallResult | None = None
    on_audio: AudioSink | None = None

    @abc.abstractmethod
    def send_audio(self, pcm: bytes) -> None:
        """Send one 20 ms frame (:data:`FRAME_BYTES`) to the phone; ignored unless connected."""

    @abc.abstractmethod
    def send_dtmf(self, digits: str) -> None:
        """Send digits (0-9, *, #, A-D), one after the other, as RFC 4733 telephone-events;
        ignored unless connected. Raises ValueError for anything else."""

    @abc.abstractmethod
    async def hangup(self) -> None:
        """CANCEL before the answer, BYE after; the call ends (``CANCELLED`` or ``COMPLETED``). Idempotent."""

    @abc.abstractmethod
    async def ended(self) -> CallResult:
        """Wait for the call to end; returns its result."""


class Trunk(abc.ABC):
    """A SIP trunk: ``async with`` it (binds, registers), then :meth:`dial`."""

    registration: Registration = Registration.OFF
    #: The last registration failure (status and reason), for the wall.
    registration_error: str = ""
    on_registration: Callable[[Registration], None] | None = None

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Hang up every call, unregister, close the sockets."""

    @abc.abstractmethod
    async def dial(self, number: str, *, ring_timeout: float, on_event: EventSink | None = None,
                   on_audio: AudioSink | None = None) -> PhoneCall:
        """Call ``number`` (E.164, ``+`` and digits); returns at once, in ``DIALLING``.

        After ``ring_timeout`` seconds without an answer the call is cancelled
        (CANCEL) and ends ``NO_ANSWER``. Raises TrunkError when the trunk isn't
        started or the number isn't E.164.
        """

    async def __aenter__(self) -> "Trunk":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
