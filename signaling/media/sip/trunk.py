"""What the media anchor needs of a SIP trunk, whichever stack implements it.

A :class:`Trunk` registers (when its provider wants that), places calls to
E.164 numbers and reports each call's progress as :class:`PhoneEvent` s; a
call arriving from the provider is handed to ``on_incoming`` as an
:class:`IncomingPhoneCall`, to be answered or refused. It carries at most
``max_calls`` calls both ways: beyond, an INVITE is refused (503) and a dial
ends at once ``REFUSED``. Audio
crosses this interface as PCM, signed 16-bit, mono, 8 kHz, 20 ms frames
(:data:`FRAME_BYTES`): what the wire carries (G.711 today) is the backend's
business, and turning that PCM into Opus for a browser is the phone leg's
(:mod:`signaling.media.phone`). A second stack is one more module
implementing these two classes.

Errors: :class:`~signaling.media.errors.TrunkError` (``trunk``): the trunk is
not configured, not started, or the number can't be dialled.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import enum
import os
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["SAMPLE_RATE", "FRAME_SAMPLES", "FRAME_BYTES", "DigitSink", "Registration", "PhoneState", "CallResult",
           "PhoneEvent", "TrunkConfig", "PhoneCall", "IncomingPhoneCall", "RefusedCall", "Trunk",
           "result_of_status", "transport_of", "user_of"]

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2

CODECS = ("PCMU", "PCMA")
TRANSPORTS = ("udp", "tcp", "tls")
SRTP_MODES = ("off", "optional", "required")


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
    CANCELLED = "cancelled"   # we gave up before an answer (the agent hung up); an inbound caller's CANCEL
    REFUSED = "refused"       # not dialled: this process carries as many phone calls as it may


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
    #: True on CONNECTED when the far end put the call on hold (its re-INVITE: sendonly or inactive).
    held: bool = False


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
    #: udp, tcp or tls; empty: from the URI (``sips:``, ``;transport=tls`` or port 5061: tls).
    transport: str = ""
    #: PEM file of the CAs the proxy's TLS certificate must chain to; empty: the system's.
    tls_ca_file: str = ""
    #: Accept any certificate, any name (a lab's self-signed proxy): never on a real trunk.
    tls_insecure_no_verify: bool = False
    #: SDES-SRTP: off, optional (used when the far end takes it) or required (refused calls
    #: fail); empty: optional over TLS, off otherwise (the keys travel in the SDP).
    srtp: str = ""
    #: REGISTER with the provider (seconds between refreshes); 0: a static trunk.
    register_expires: int = 300
    #: Seconds before a failed registration (refused, unanswered, expired) is tried again.
    register_retry: float = 30.0
    #: The address SIP and RTP bind to, and advertise (a private rig may use 127.0.0.1).
    local_host: str = "0.0.0.0"
    local_port: int = 0
    #: Phone calls (both ways) carried at once; 0: no limit.
    max_calls: int = 0

    def __post_init__(self) -> None:
        host, _port = self.proxy
        if not host:
            raise ValueError(f"the SIP trunk URI must be sip:host[:port], not {self.uri!r}")
        bad = [codec for codec in self.codecs if codec.upper() not in CODECS]
        if bad or not self.codecs:
            raise ValueError(f"SIP codecs must be among {', '.join(CODECS)}, not {', '.join(bad) or 'none'}")
        if self.register_retry <= 0:
            raise ValueError(f"the seconds between REGISTER retries must be more than 0, not {self.register_retry}")
        if self.max_calls < 0:
            raise ValueError(f"the most SIP calls at once must be 0 (no limit) or more, not {self.max_calls}")
        if not self.transport:
            object.__setattr__(self, "transport", transport_of(self.uri))
        if self.uri.strip().lower().startswith("sips:") and self.transport != "tls":
            raise ValueError(f"a sips: URI needs TLS, not OTODESK_SIP_TRANSPORT={self.transport}")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"OTODESK_SIP_TRANSPORT must be one of {', '.join(TRANSPORTS)}, not {self.transport!r}")
        if not self.srtp:
            object.__setattr__(self, "srtp", "optional" if self.transport == "tls" else "off")
        if self.srtp not in SRTP_MODES:
            raise ValueError(f"OTODESK_SIP_SRTP must be one of {', '.join(SRTP_MODES)}, not {self.srtp!r}")
        if self.srtp != "off" and self.transport != "tls":
            raise ValueError(f"OTODESK_SIP_SRTP={self.srtp} needs OTODESK_SIP_TRANSPORT=tls: SDES keys travel "
                             f"in the SDP, readable by anyone on the path over {self.transport}")
        if self.tls_ca_file and not os.path.isfile(self.tls_ca_file):
            raise ValueError(f"OTODESK_SIP_TLS_CA_FILE {self.tls_ca_file!r} is not a file")
        if (self.tls_ca_file or self.tls_insecure_no_verify) and self.transport != "tls":
            raise ValueError("OTODESK_SIP_TLS_CA_FILE and OTODESK_SIP_TLS_INSECURE_NO_VERIFY need "
                             "OTODESK_SIP_TRANSPORT=tls")

    @property
    def proxy(self) -> tuple[str, int]:
        """The (host, port) every request goes to."""
        text = self.uri.strip()
        scheme = text[:5].lower()
        if not (scheme.startswith("sip:") or scheme == "sips:"):
            return "", 0
        rest = text[text.index(":") + 1:]
        parts = urlsplit("//" + rest.split(";")[0].split("@")[-1])
        try:
            port = parts.port or self.default_port
        except ValueError:
            return "", 0
        return parts.hostname or "", port

    @property
    def default_port(self) -> int:
        return 5061 if (self.transport or transport_of(self.uri)) == "tls" else 5060

    @property
    def domain(self) -> str:
        host, port = self.proxy
        return host if port == self.default_port else f"{host}:{port}"


def transport_of(uri: str) -> str:
    """The transport a SIP URI implies: ``sips:``, ``;transport=tls`` or port 5061 is tls;
    ``;transport=tcp`` tcp; anything else udp."""
    text = uri.strip().lower()
    params = {part.split("=", 1)[0]: part.partition("=")[2] for part in text.split(";")[1:]}
    if text.startswith("sips:") or params.get("transport") == "tls":
        return "tls"
    if params.get("transport") == "tcp":
        return "tcp"
    host = text.split(";")[0].split("@")[-1]
    return "tls" if host.endswith(":5061") else "udp"


AudioSink = Callable[[bytes], None]
DigitSink = Callable[[str], None]
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
    #: Called with each key the far end presses (an RFC 4733 telephone-event, once at its end).
    on_dtmf: DigitSink | None = None
    #: What the far end's last offer asked for: sendrecv, or sendonly / inactive while it holds the call.
    far_direction: str = "sendrecv"

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


class IncomingPhoneCall(PhoneCall):
    """A call the provider sends us (someone dialled one of our numbers), in ``DIALLING`` until answered.

    ``on_incoming(call)`` must, synchronously, either :meth:`reject` it or
    set ``on_event`` / ``on_audio`` and :meth:`answer` it (that may be
    awaited in a task). The caller hanging up (BYE, or CANCEL before the
    answer) ends it ``COMPLETED`` / ``CANCELLED``; :meth:`hangup` is our BYE.
    """

    #: The caller's number: the P-Asserted-Identity the provider vouches for, else the From
    #: header's (E.164 when the provider sends one); "" or "anonymous" when withheld
    #: (``Privacy: id``).
    caller: str = ""
    #: The number dialled: the Request-URI's user part (E.164 as the provider sends it).
    called: str = ""

    @abc.abstractmethod
    async def answer(self) -> None:
        """200 OK with our SDP answer; media starts (``CONNECTED``). Raises ValueError for an
        offer we can't use (then the call is refused with 488)."""

    @abc.abstractmethod
    def reject(self, status: int, reason: str) -> None:
        """Refuse the call with a final response (404, 480, 486, 503...); it ends ``REFUSED``."""


class RefusedCall(PhoneCall):
    """A call not placed (the trunk is at ``max_calls``): it ends ``REFUSED`` on the next turn of
    the loop, once its owner has attached ``on_event``, through the same path as any ended call."""

    def __init__(self, number: str, reason: str, *, on_event: EventSink | None = None):
        self.number = number
        self.reason = reason
        self.on_event = on_event
        self._ended = asyncio.Event()
        asyncio.get_running_loop().call_soon(self._refuse)

    def _refuse(self) -> None:
        self.state, self.result = PhoneState.ENDED, CallResult.REFUSED
        self._ended.set()
        if self.on_event is not None:
            self.on_event(self, PhoneEvent(state=PhoneState.ENDED, result=CallResult.REFUSED, status=503,
                                           reason=self.reason))

    def send_audio(self, pcm: bytes) -> None:
        pass

    def send_dtmf(self, digits: str) -> None:
        pass

    async def hangup(self) -> None:
        pass

    async def ended(self) -> CallResult:
        await self._ended.wait()
        return CallResult.REFUSED


def user_of(uri: str) -> str:
    """The user part of a SIP URI or name-addr (``"Pat" <sip:+4420...@host>;tag=x`` -> ``+4420...``), or ""."""
    text = uri.strip()
    if "<" in text:
        text = text[text.index("<") + 1:].split(">", 1)[0]
    text = text.split(";", 1)[0]
    for scheme in ("sips:", "sip:", "tel:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
            break
    else:
        return ""
    user = text.split("@", 1)[0] if "@" in text else (text if text[:1] == "+" else "")
    return user.split(";", 1)[0]


class Trunk(abc.ABC):
    """A SIP trunk: ``async with`` it (binds, registers), then :meth:`dial`; set ``on_incoming``
    to take calls (without it every INVITE is refused 480)."""

    registration: Registration = Registration.OFF
    #: The last registration failure (status and reason), for the wall.
    registration_error: str = ""
    on_registration: Callable[[Registration], None] | None = None
    on_incoming: Callable[[IncomingPhoneCall], None] | None = None

    @property
    @abc.abstractmethod
    def live_calls(self) -> int:
        """Calls not yet ended, both ways (what ``max_calls`` limits)."""

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
        (CANCEL) and ends ``NO_ANSWER``. At ``max_calls`` it is a
        :class:`RefusedCall` (nothing is sent). Raises TrunkError when the trunk
        isn't started or the number isn't E.164.
        """

    async def __aenter__(self) -> "Trunk":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
