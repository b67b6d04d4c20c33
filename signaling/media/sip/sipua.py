"""The SIP trunk on aiosipua (signaling) and aiortp (RTP): pure Python, asyncio, MIT.

One UDP socket for SIP (a :class:`~aiosipua.SipUAS` with its
:class:`~aiosipua.SipUAC`: responses and the far end's in-dialog requests
arrive on the same socket), one RTP/RTCP port pair per call, G.711 (PCMU,
PCMA) with RFC 4733 telephone-events.

Where aiosipua 0.7.1 stops short, this module fills in, at the edge:

- it never ACKs a final non-2xx answer to an INVITE (486, 407, 487...): the
  far end would retransmit it for 32 s; we ACK it (RFC 3261 §17.1.1.3) before
  aiosipua sees the response, and ACK its retransmissions too;
- its ringing callback doesn't carry the 183's SDP: we read it from the
  response, so early media reaches the agent;
- it has no ring timeout: ours CANCELs;
- it never retransmits an INVITE over UDP (RFC 3261 Timer A): we do, at
  0.5 s doubling, until any answer, and a trunk that answers nothing in
  :data:`NO_RESPONSE` seconds fails the call ("the trunk did not answer");
- aiortp sends a DTMF digit's packets in one burst, every digit at RTP
  timestamp 0 (a receiver takes a second digit for the first one's
  retransmission): ours are paced every 20 ms on the call's audio clock,
  one event per digit (RFC 4733 section 2.5), audio paused meanwhile;
- aiortp decodes a packet only once the next one has come (20 ms later):
  ours are decoded as they arrive (:mod:`.arrival`);
- its UDP transport asserts that asyncio's datagram transport is a
  ``DatagramTransport``, which Python 3.11's is not (it logs an error at each
  start): :class:`UdpTransport` binds without that check.

No TLS, no SRTP (aiosipua has neither): a provider that requires them needs a
second backend (docs/voice.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import socket
import time

import collections

from aiortp import DtmfEvent, PortAllocator, RTPSession
from aiortp.dtmf import DTMF_EVENTS
from aiosipua import (SipDigestAuth, SipRequest, SipResponse, SipUAC, SipUAS, UdpSipTransport, parse_sdp)
from aiosipua import Registration as SipRegistration
from aiosipua import RegistrationState as SipRegistrationState

from signaling.media.errors import TrunkError
from signaling.media.sip.arrival import deliver_on_arrival
from signaling.media.sip.trunk import (FRAME_BYTES, AudioSink, CallResult, EventSink, PhoneCall, PhoneEvent,
                                       PhoneState, RefusedCall, Registration, Trunk, TrunkConfig, result_of_status)

__all__ = ["SipuaTrunk", "UdpTransport", "media_of"]

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8}
DTMF_PAYLOAD_TYPE = 101
LINGER = 32.0  # seconds an ended call's Call-ID is remembered, to ACK retransmitted answers
REGISTER_RETRY = 30.0  # seconds between REGISTER attempts after a failure
REGISTER_TIMEOUT = 8.0  # seconds without an answer to REGISTER: the registrar is unreachable
USER_AGENT = "otodesk"
T1 = 0.5           # seconds: RFC 3261's first retransmission interval
NO_RESPONSE = 8.0  # seconds without any answer to an INVITE: the trunk is unreachable
DTMF_STEPS = 8     # 20 ms packets per digit: 160 ms of tone
DTMF_GAP = 0.08    # seconds of audio between two digits


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpSipTransport):
        self.owner = owner

    def datagram_received(self, data: bytes, addr) -> None:
        self.owner._dispatch(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.warning("SIP UDP error: %s", exc)


class UdpTransport(UdpSipTransport):
    """aiosipua's UDP transport, bound without its Python 3.12-only type assertion."""

    async def start(self) -> None:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Datagrams(self), local_addr=self.local_addr)
        self._udp_transport = transport

    @property
    def bound(self) -> tuple[str, int]:
        return self._udp_transport.get_extra_info("sockname")[:2]


def _route_address(host: str, port: int) -> str:
    """The local address the kernel would use to reach ``host`` (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host, port))
        return probe.getsockname()[0]


def _offer(address: str, port: int, codecs: tuple[str, ...], session: int) -> str:
    pts = [PAYLOAD_TYPES[c.upper()] for c in codecs]
    lines = ["v=0", f"o=otodesk {session} 1 IN IP4 {address}", "s=otodesk",
             f"c=IN IP4 {address}", "t=0 0",
             f"m=audio {port} RTP/AVP {' '.join(map(str, pts))} {DTMF_PAYLOAD_TYPE}"]
    lines += [f"a=rtpmap:{PAYLOAD_TYPES[c.upper()]} {c.upper()}/8000" for c in codecs]
    lines += [f"a=rtpmap:{DTMF_PAYLOAD_TYPE} telephone-event/8000", f"a=fmtp:{DTMF_PAYLOAD_TYPE} 0-16",
              "a=ptime:20", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def media_of(text: str, codecs: tuple[str, ...]) -> tuple[tuple[str, int], int, int]:
    """(remote RTP address, payload type, telephone-event payload type) of an SDP answer.

    Raises ValueError when the answer can't be used (no audio, no codec of ours, no address).
    """
    sdp = parse_sdp(text)
    audio = sdp.audio
    if audio is None or audio.port == 0:
        raise ValueError("the answer has no audio")
    connection = audio.connection or sdp.connection
    if connection is None or not connection.address:
        raise ValueError("the answer has no connection address")
    ours = {PAYLOAD_TYPES[c.upper()] for c in codecs}
    offered = [int(f) for f in audio.formats if f.isdigit()]
    chosen = next((pt for pt in offered if pt in ours), None)
    if chosen is None:
        raise ValueError(f"the answer has none of our codecs ({', '.join(codecs)})")
    dtmf = next((c.payload_type for c in audio.codecs if c.encoding_name.lower() == "telephone-event"),
                DTMF_PAYLOAD_TYPE)
    return (connection.address, audio.port), chosen, dtmf


class SipuaCall(PhoneCall):
    def __init__(self, trunk: "SipuaTrunk", number: str, *, on_event: EventSink | None, on_audio: AudioSink | None):
        self.trunk = trunk
        self.number = number
        self.on_event = on_event
        self.on_audio = on_audio
        self.state = PhoneState.DIALLING
        self.result: CallResult | None = None
        self.sip_call = None  # aiosipua OutgoingCall
        self.rtp: RTPSession | None = None
        self.rtp_port = 0
        self.started_at = time.monotonic()
        self.answered_at: float | None = None
        self._media_lock = asyncio.Lock()
        self._answering = False
        self._digits: collections.deque[str] = collections.deque(maxlen=64)
        self._dtmf_task: asyncio.Task | None = None
        self.responded = False  # any answer at all to our INVITE (100 Trying included)
        self._in_event = False
        self._ended = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        #: Our SDP's o= session id and version (a re-INVITE's answer is the same session, one version on).
        self.sdp_session, self.sdp_version = secrets.randbelow(1 << 31), 1
        #: What the far end's last offer asked for (its re-INVITE: :mod:`.sipua_reinvite`).
        self.far_direction = "sendrecv"
        #: We sent our offer in a 200 (its re-INVITE had none): its answer comes in the ACK.
        self.awaiting_answer = False

    @property
    def call_id(self) -> str:
        return self.sip_call.call_id if self.sip_call is not None else ""

    @property
    def far_held(self) -> bool:
        """The far end put the call on hold: it sends nothing (inactive) or only its hold music (sendonly)."""
        return self.far_direction in ("sendonly", "inactive")

    # -- from the SIP side ----------------------------------------------------------------

    def _emit(self, event: PhoneEvent) -> None:
        self.state = event.state
        if self.on_event is not None:
            try:
                self.on_event(self, event)
            except Exception:
                log.exception("phone call event handler failed")

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _provisional(self, response: SipResponse) -> None:
        if self.state not in (PhoneState.DIALLING, PhoneState.RINGING):
            return
        early = response.status_code == 183 and bool(response.body) and response.content_type == "application/sdp"
        if early:
            self._spawn(self._media(response.text))
        if self.state == PhoneState.DIALLING or early:
            self._emit(PhoneEvent(state=PhoneState.RINGING, status=response.status_code,
                                  reason=response.reason_phrase, early_media=early))

    def _answered(self, response: SipResponse) -> None:
        if self.state == PhoneState.ENDED or self._answering:
            return  # a retransmitted 200 (aiosipua ACKs it again)
        self._answering = True
        if not (response.body and response.content_type == "application/sdp"):
            self._spawn(self._fail_after_answer("the answer carries no SDP"))
            return
        self._spawn(self._connect(response.text))

    async def _connect(self, sdp: str) -> None:
        try:
            await self._media(sdp)
        except ValueError as exc:
            await self._fail_after_answer(str(exc))
            return
        if self.state == PhoneState.ENDED:
            return
        self.answered_at = time.monotonic()
        self._emit(PhoneEvent(state=PhoneState.CONNECTED, status=200, reason="OK"))

    async def _fail_after_answer(self, reason: str) -> None:
        log.warning("phone call to %s: %s; hanging up", self.number, reason)
        with contextlib.suppress(Exception):
            self.trunk._uac.send_bye(self.sip_call.dialog, self.trunk.proxy_address)
        await self._end(CallResult.FAILED, reason=reason)

    async def _media(self, sdp: str) -> None:
        """Start RTP towards the address the (early or final) answer names, once; follow a change."""
        try:
            remote, payload_type, dtmf = media_of(sdp, self.trunk.config.codecs)
        except Exception as exc:
            raise ValueError(f"malformed SDP answer: {exc}") from None
        async with self._media_lock:
            if self.state == PhoneState.ENDED:
                return
            if self.rtp is None:
                self.rtp = await RTPSession.create(
                    (self.trunk.bind_host, self.rtp_port), remote, payload_type,
                    dtmf_payload_type=dtmf, jitter_prefetch=1, plc=True, cname=USER_AGENT)
                deliver_on_arrival(self.rtp)
                self.rtp.on_audio = self._audio
                self.rtp.on_dtmf = self._digit
            elif self.rtp._remote_addr != remote:
                self.rtp.update_remote(remote)

    def _audio(self, pcm: bytes, timestamp: int) -> None:
        if self.on_audio is not None and self.state != PhoneState.ENDED \
                and self.far_direction in ("sendrecv", "sendonly"):
            self.on_audio(pcm)

    def _digit(self, digit: str, duration: int) -> None:
        if self.on_dtmf is not None and self.state == PhoneState.CONNECTED:
            try:
                self.on_dtmf(digit)
            except Exception:
                log.exception("phone call DTMF handler failed")

    def _rejected(self, status: int, reason: str) -> None:
        self._spawn(self._end(result_of_status(status), status=status, reason=reason))

    def _bye(self) -> None:
        self._spawn(self._end(CallResult.COMPLETED, reason="the phone hung up"))

    async def _end(self, result: CallResult, *, status: int = 0, reason: str = "") -> None:
        if self.state == PhoneState.ENDED:
            return
        self.result = result
        self._emit(PhoneEvent(state=PhoneState.ENDED, result=result, status=status, reason=reason))
        self._ended.set()
        current = asyncio.current_task()
        for task in list(self._tasks):  # the ring timeout, Timer A, DTMF: nothing outlives the call
            if task is not current:
                task.cancel()
        if self.rtp is not None:
            with contextlib.suppress(Exception):
                await self.rtp.close()
        self.trunk._forget(self)

    async def _retransmit(self) -> None:
        """Timer A: the INVITE again at T1, 2·T1, 4·T1… until any answer; none in NO_RESPONSE: failed."""
        loop = asyncio.get_running_loop()
        deadline, interval = loop.time() + NO_RESPONSE, T1
        while not self.responded and self.state == PhoneState.DIALLING:
            wait = min(interval, deadline - loop.time())
            if wait <= 0:
                await self._end(CallResult.FAILED, reason=f"the trunk did not answer in {NO_RESPONSE:g} s")
                return
            await asyncio.sleep(wait)
            if not self.responded and self.state == PhoneState.DIALLING and loop.time() < deadline:
                with contextlib.suppress(Exception):
                    self.trunk._transport.send(self.sip_call.invite, self.trunk.proxy_address)
            interval *= 2

    async def _ring_timeout(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.state in (PhoneState.DIALLING, PhoneState.RINGING):
            with contextlib.suppress(Exception):
                self.trunk._uac.send_cancel(self.sip_call)
            await self._end(CallResult.NO_ANSWER, reason=f"no answer in {seconds:g} s")

    # -- from the anchor ----------------------------------------------------------------------

    def send_audio(self, pcm: bytes) -> None:
        if self.state == PhoneState.CONNECTED and self.rtp is not None and len(pcm) == FRAME_BYTES \
                and not self._in_event and self.far_direction in ("sendrecv", "recvonly"):
            self.rtp.send_audio_pcm_auto(pcm)

    def send_dtmf(self, digits: str) -> None:
        bad = [d for d in digits if d.upper() not in DTMF_EVENTS]
        if bad or not digits:
            raise ValueError(f"not DTMF digits: {''.join(bad)!r} (0-9, *, #, A-D)")
        if self.state != PhoneState.CONNECTED or self.rtp is None:
            return
        self._digits.extend(d.upper() for d in digits)
        if self._dtmf_task is None or self._dtmf_task.done():
            self._dtmf_task = asyncio.get_running_loop().create_task(self._send_digits(), name="dtmf")
            self._tasks.add(self._dtmf_task)
            self._dtmf_task.add_done_callback(self._tasks.discard)

    async def _send_digits(self) -> None:
        while self._digits and self.state == PhoneState.CONNECTED and self.rtp is not None:
            await self._send_event(DTMF_EVENTS[self._digits.popleft()])
            await asyncio.sleep(DTMF_GAP)

    async def _send_event(self, code: int) -> None:
        rtp = self.rtp
        sender, payload_type = rtp._sender, rtp._dtmf_payload_type  # aiortp paces nothing itself
        timestamp = sender.current_timestamp  # the event starts now on the audio clock
        self._in_event = True
        try:
            for step in range(1, DTMF_STEPS):
                event = DtmfEvent(event=code, end=False, volume=10, duration=step * 160)
                sender.send_raw(payload_type, event.serialize(), timestamp, marker=int(step == 1),
                                addr=rtp._remote_addr)
                sender.advance_timestamp()
                await asyncio.sleep(0.02)
            for _ in range(3):  # the end, three times (RFC 4733 section 2.5.1.4)
                event = DtmfEvent(event=code, end=True, volume=10, duration=DTMF_STEPS * 160)
                sender.send_raw(payload_type, event.serialize(), timestamp, addr=rtp._remote_addr)
            sender.advance_timestamp()
        finally:
            self._in_event = False

    async def hangup(self) -> None:
        if self.state == PhoneState.ENDED:
            return
        if self.state == PhoneState.CONNECTED:
            with contextlib.suppress(Exception):
                self.trunk._uac.send_bye(self.sip_call.dialog, self.trunk.proxy_address)
            await self._end(CallResult.COMPLETED, reason="hung up by the agent")
        else:
            with contextlib.suppress(Exception):
                self.trunk._uac.send_cancel(self.sip_call)
            await self._end(CallResult.CANCELLED, reason="cancelled before the answer")

    async def ended(self) -> CallResult:
        await self._ended.wait()
        assert self.result is not None
        return self.result


class SipuaTrunk(Trunk):
    """A trunk on aiosipua: ``async with SipuaTrunk(config) as trunk: call = await trunk.dial(...)``."""

    def __init__(self, config: TrunkConfig, *, rtp_ports: tuple[int, int] = (20000, 30000)):
        self.config = config
        self.registration = Registration.OFF
        self.registration_error = ""
        self.on_registration = None
        self._ports = PortAllocator(rtp_ports)
        self._calls: dict[str, SipuaCall] = {}
        self._transport: UdpTransport | None = None
        self._uac: SipUAC | None = None
        self._uas: SipUAS | None = None
        self._register: SipRegistration | None = None
        self._retry: asyncio.TimerHandle | None = None
        self.proxy_address: tuple[str, int] = ("", 0)
        self.bind_host = config.local_host
        self.address = ""  # advertised in Via, Contact and SDP

    async def start(self) -> None:
        host, port = self.config.proxy
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, family=socket.AF_INET,
                                                                 type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise TrunkError(f"the SIP proxy {host} can't be resolved: {exc}") from None
        self.proxy_address = infos[0][4][:2]
        self.address = (self.config.local_host if self.config.local_host not in ("", "0.0.0.0")
                        else _route_address(*self.proxy_address))
        self._transport = UdpTransport(local_addr=(self.bind_host or "0.0.0.0", self.config.local_port))
        self._uac = SipUAC(self._transport)
        self._uas = SipUAS(self._transport, uac=self._uac, user_agent=USER_AGENT)
        self._uas.on_bye = self._far_bye
        self._uas.on_invite = self._far_invite
        self._uas.on_cancel = self._far_cancel
        self._uas.on_reinvite = self._far_reinvite
        from signaling.media.sip.sipua_reinvite import install  # imports this module
        install(self)  # the answer to our offer in an ACK; UPDATE with an offer, both ways
        await self._uas.start()
        self._uac.advertised_addr = (self.address, self._transport.bound[1])
        self._uas.advertised_addr = self._uac.advertised_addr
        inner = self._transport.on_message
        self._transport.on_message = lambda message, addr: self._received(inner, message, addr)
        if self.config.register_expires > 0:
            self._start_registration()
        else:
            self._set_registration(Registration.STATIC)

    @property
    def local_address(self) -> tuple[str, int]:
        """The (address, port) SIP is advertised on."""
        return self._uac.advertised_addr if self._uac is not None else ("", 0)

    # -- registration --------------------------------------------------------------------------

    def _aor(self, user: str) -> str:
        return f"sip:{user}@{self.config.domain}"

    def _auth(self) -> SipDigestAuth | None:
        return SipDigestAuth(self.config.username, self.config.password) if self.config.username else None

    def _start_registration(self) -> None:
        self._retry = None
        registration = SipRegistration(self._uac, self._aor(self.config.username or "otodesk"), self.proxy_address,
                                       expires=self.config.register_expires, auth=self._auth(),
                                       user_agent=USER_AGENT)
        registration.on_registered = lambda r: self._set_registration(Registration.REGISTERED)
        registration.on_failed = self._registration_failed
        registration.on_expired = lambda r: self._registration_failed(r, 0, "registration expired")
        self._register = registration
        self._set_registration(Registration.REGISTERING)
        registration.register()
        # aiosipua doesn't retransmit REGISTER: an unreachable registrar never answers.
        self._retry = asyncio.get_running_loop().call_later(
            REGISTER_TIMEOUT, self._registration_silent, registration)

    def _registration_silent(self, registration: SipRegistration) -> None:
        if self._register is registration and registration.state == SipRegistrationState.REGISTERING:
            self._registration_failed(registration, 0, "the registrar did not answer")

    def _registration_failed(self, registration: SipRegistration, status: int, reason: str) -> None:
        self.registration_error = f"{status} {reason}".strip() if status else reason
        log.warning("SIP registration failed: %s; retrying in %g s", self.registration_error, REGISTER_RETRY)
        self._set_registration(Registration.FAILED)
        registration._cancel_timers()
        self._uac._registrations.pop(registration.call_id, None)
        if self._retry is not None:
            self._retry.cancel()
        self._retry = asyncio.get_running_loop().call_later(REGISTER_RETRY, self._start_registration)

    def _set_registration(self, state: Registration) -> None:
        if state == Registration.REGISTERED:
            self.registration_error = ""
        if state != self.registration:
            self.registration = state
            if self.on_registration is not None:
                try:
                    self.on_registration(state)
                except Exception:
                    log.exception("registration handler failed")

    # -- calls -------------------------------------------------------------------------------

    async def dial(self, number: str, *, ring_timeout: float, on_event: EventSink | None = None,
                   on_audio: AudioSink | None = None) -> PhoneCall:
        if self._uac is None:
            raise TrunkError("the SIP trunk is not started")
        if not E164.match(number or ""):
            raise TrunkError(f"{number!r} is not an E.164 number (+ and digits)")
        limit = self.config.max_calls
        if limit and self.live_calls >= limit:
            return RefusedCall(number, f"this server carries {limit} phone calls at most; not dialled",
                              on_event=on_event)
        call = SipuaCall(self, number, on_event=on_event, on_audio=on_audio)
        call.rtp_port, _ = await self._ports.allocate()
        caller = self.config.caller_id or self.config.username or "otodesk"
        sip_call = self._uac.send_invite(
            self._aor(caller), self._aor(number), self.proxy_address,
            parse_sdp(_offer(self.address, call.rtp_port, self.config.codecs, call.sdp_session)),
            user_agent=USER_AGENT, auth=self._auth())
        call.sip_call = sip_call
        self._calls[sip_call.call_id] = call
        sip_call.on_answer = lambda c: None  # the 200 itself is read in _received
        sip_call.on_rejected = lambda c, status, reason: call._rejected(status, reason)
        call._spawn(call._ring_timeout(ring_timeout))
        call._spawn(call._retransmit())
        return call

    def _forget(self, call: SipuaCall) -> None:
        asyncio.get_running_loop().create_task(self._ports.release(call.rtp_port))
        # Kept a while: a retransmitted final answer must still be ACKed.
        asyncio.get_running_loop().call_later(LINGER, self._calls.pop, call.call_id, None)

    @property
    def live_calls(self) -> int:
        return sum(1 for call in self._calls.values() if call.state != PhoneState.ENDED)

    def _far_invite(self, wrapper) -> None:
        from signaling.media.sip.sipua_inbound import take_invite  # imports this module
        take_invite(self, wrapper)

    def _far_reinvite(self, wrapper) -> None:
        from signaling.media.sip.sipua_reinvite import take_reinvite  # imports this module
        take_reinvite(self, wrapper)

    def _far_cancel(self, request: SipRequest, addr) -> None:
        call = self._calls.get(request.call_id or "")
        if call is not None and hasattr(call, "_cancelled"):
            call._cancelled()

    def _far_bye(self, wrapper, request: SipRequest) -> None:
        call = self._calls.get(request.call_id or "")
        if call is not None:
            call._bye()

    def _received(self, inner, message, addr) -> None:
        """Every SIP message, before aiosipua: ACK final failures, read 18x/200 SDP."""
        if isinstance(message, SipResponse):
            call = self._calls.get(message.call_id or "")
            cseq = message.cseq
            if call is not None and cseq is not None and cseq.method.upper() == "INVITE":
                call.responded = True
                status = message.status_code
                if status >= 300:
                    self._ack_failure(call, message)
                elif status in (180, 183):
                    call._provisional(message)
                elif 200 <= status < 300 and call.state != PhoneState.CONNECTED:
                    call._answered(message)
        inner(message, addr)

    def _ack_failure(self, call: SipuaCall, response: SipResponse) -> None:
        invite = call.sip_call.invite
        ack = SipRequest(method="ACK", uri=invite.uri)
        via = invite.headers.get_first("via")
        if via:
            ack.headers.append("Via", via)
        ack.headers.set_single("From", invite.headers.get_first("from") or "")
        ack.headers.set_single("To", response.headers.get_first("to") or "")
        ack.headers.set_single("Call-ID", response.call_id or "")
        ack.headers.set_single("CSeq", f"{response.cseq.seq} ACK")
        ack.headers.set_single("Max-Forwards", "70")
        for route in invite.headers.get("route"):
            ack.headers.append("Route", route)
        self._transport.send(ack, self.proxy_address)

    async def aclose(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        for call in list(self._calls.values()):
            await call.hangup()
        if self._register is not None and self.registration == Registration.REGISTERED:
            with contextlib.suppress(Exception):
                self._register.unregister()
        if self._uas is not None:
            with contextlib.suppress(Exception):
                await self._uas.stop()
        self._uac = None
        self._set_registration(Registration.OFF)
