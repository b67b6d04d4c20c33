"""The SIP trunk on aiosipua (signaling) and aiortp (RTP): pure Python, asyncio, MIT.

One UDP socket for SIP, or one TCP or TLS connection to the proxy
(:mod:`.sipua_stream`), carrying a :class:`~aiosipua.SipUAS` with its
:class:`~aiosipua.SipUAC` (responses and the far end's in-dialog requests
arrive the same way); one RTP/RTCP port pair per call, G.711 (PCMU, PCMA)
with RFC 4733 telephone-events (:mod:`.dtmf`), SDES-SRTP when the config
says so (:mod:`.srtp`: offered with a key of ours; an answer without one
fails the call when SRTP is required).

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
  timestamp 0: ours are paced (:mod:`.dtmf`);
- aiortp decodes a packet only once the next one has come (20 ms later):
  ours are decoded as they arrive (:mod:`.arrival`);
- its UDP transport asserts that asyncio's datagram transport is a
  ``DatagramTransport``, which Python 3.11's is not (it logs an error at each
  start): :class:`~.transport.UdpTransport` binds without that check.

aiosipua has no TLS and aiortp no SRTP: :mod:`.transport` and :mod:`.srtp` add them.
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

from aiortp import PortAllocator, RTPSession
from aiosipua import SipRequest, SipResponse, SipUAC, SipUAS, parse_sdp
from aiosipua import Registration as SipRegistration

from signaling.media.errors import TrunkError
from signaling.media.sip.arrival import deliver_on_arrival
from signaling.media.sip.dtmf import check_digits, send_digits
from signaling.media.sip.sdp import media_of, offer_sdp
from signaling.media.sip.srtp import (Crypto, SrtpContext, SrtpSession, new_crypto, offer_profile,
                                      their_answer)
from signaling.media.sip.sipua_register import USER_AGENT, Registering
from signaling.media.sip.sipua_stream import open_transport
from signaling.media.sip.transport import StreamTransport, UdpTransport, route_address
from signaling.media.sip.trunk import (FRAME_BYTES, AudioSink, CallResult, EventSink, PhoneCall, PhoneEvent,
                                       PhoneState, RefusedCall, Registration, Trunk, TrunkConfig, result_of_status)

__all__ = ["SipuaTrunk", "UdpTransport", "media_of"]

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
LINGER = 32.0  # seconds an ended call's Call-ID is remembered, to ACK retransmitted answers
T1 = 0.5           # seconds: RFC 3261's first retransmission interval
NO_RESPONSE = 8.0  # seconds without any answer to an INVITE: the trunk is unreachable


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
        self.digits: collections.deque[str] = collections.deque(maxlen=64)
        self._dtmf_task: asyncio.Task | None = None
        self.responded = False  # any answer at all to our INVITE (100 Trying included)
        self.in_event = False
        #: SRTP: our key (offered, or answered), and the call's context once both keys are known.
        self.crypto: Crypto | None = None
        self.srtp: SrtpContext | None = None
        self.profile = "RTP/AVP"  # the m= line's protocol: RTP/SAVP for SRTP required
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
            self._spawn(self._early_media(response.text))
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

    async def _early_media(self, sdp: str) -> None:
        try:
            await self._media(sdp)
        except ValueError as exc:  # the final answer decides; meanwhile, nothing heard
            log.warning("phone call to %s: early media not taken: %s", self.number, exc)

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
        theirs = their_answer(self.trunk.config.srtp, self.crypto, sdp)  # ValueError: SRTP refused
        async with self._media_lock:
            if self.state == PhoneState.ENDED:
                return
            if self.rtp is None:
                await self.open_rtp(remote, payload_type, dtmf, theirs)
            else:
                if self.rtp._remote_addr != remote:
                    self.rtp.update_remote(remote)
                if self.srtp is not None and theirs is not None:
                    self.srtp.rekey(theirs)  # the 200's key may differ from the 183's

    async def open_rtp(self, remote: tuple[str, int], payload_type: int, dtmf: int, theirs: Crypto | None) -> None:
        """The call's RTP session towards ``remote``: SRTP when the far end gave a key (``theirs``)."""
        rtp = await (SrtpSession if theirs is not None else RTPSession).create(
            (self.trunk.bind_host, self.rtp_port), remote, payload_type,
            dtmf_payload_type=dtmf, jitter_prefetch=1, plc=True, cname=USER_AGENT)
        if theirs is not None:
            self.srtp = rtp.srtp = SrtpContext(self.crypto, theirs)
        deliver_on_arrival(rtp)
        rtp.on_audio = self._audio
        rtp.on_dtmf = self._digit
        self.rtp = rtp

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
        result = result_of_status(status)
        if status in (488, 606) and self.crypto is not None and self.trunk.config.srtp == "required":  # Not Acceptable: most likely our SRTP offer
            result, reason = CallResult.FAILED, f"the far end refused SRTP ({status} {reason})"
        self._spawn(self._end(result, status=status, reason=reason))

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
                await self._end(CallResult.FAILED, reason=getattr(self.trunk._transport, "error", "")
                                or f"the trunk did not answer in {NO_RESPONSE:g} s")
                return
            await asyncio.sleep(wait)
            if not self.responded and self.state == PhoneState.DIALLING and loop.time() < deadline \
                    and not self.trunk._transport.reliable:  # TCP/TLS: the stream retransmits
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
                and not self.in_event and self.far_direction in ("sendrecv", "recvonly"):
            self.rtp.send_audio_pcm_auto(pcm)

    def send_dtmf(self, digits: str) -> None:
        digits = check_digits(digits)
        if self.state != PhoneState.CONNECTED or self.rtp is None:
            return
        self.digits.extend(digits)
        if self._dtmf_task is None or self._dtmf_task.done():
            connected = lambda: self.state == PhoneState.CONNECTED  # noqa: E731
            self._dtmf_task = asyncio.get_running_loop().create_task(send_digits(self, connected), name="dtmf")
            self._tasks.add(self._dtmf_task)
            self._dtmf_task.add_done_callback(self._tasks.discard)

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


class SipuaTrunk(Registering, Trunk):
    """A trunk on aiosipua: ``async with SipuaTrunk(config) as trunk: call = await trunk.dial(...)``."""

    def __init__(self, config: TrunkConfig, *, rtp_ports: tuple[int, int] = (20000, 30000)):
        self.config = config
        self.registration = Registration.OFF
        self.registration_error = ""
        self.on_registration = None
        self._ports = PortAllocator(rtp_ports)
        self._calls: dict[str, SipuaCall] = {}
        self._transport: UdpTransport | StreamTransport | None = None
        self._tasks: set[asyncio.Task] = set()
        self._uac: SipUAC | None = None
        self._uas: SipUAS | None = None
        self._register: SipRegistration | None = None
        self._retry: asyncio.TimerHandle | None = None
        self.proxy_address: tuple[str, int] = ("", 0)
        self.bind_host = config.local_host
        self.address = ""  # advertised in Via, Contact and SDP

    async def start(self) -> None:
        host, port = self.config.proxy
        udp = self.config.transport == "udp"
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        except OSError as exc:
            raise TrunkError(f"the SIP proxy {host} can't be resolved: {exc}") from None
        self.proxy_address = infos[0][4][:2]
        self.address = (self.config.local_host if self.config.local_host not in ("", "0.0.0.0")
                        else route_address(*self.proxy_address))
        if udp:
            self._transport = UdpTransport(local_addr=(self.bind_host or "0.0.0.0", self.config.local_port))
        else:
            self._transport = open_transport(self)
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
        if isinstance(self._transport, StreamTransport) and not self._transport.connected \
                and self.config.register_expires > 0:
            self.registration_failed(self._transport.error)
        elif self.config.register_expires > 0:
            self._start_registration()
        else:
            self._set_registration(Registration.STATIC)

    @property
    def local_address(self) -> tuple[str, int]:
        """The (address, port) SIP is advertised on."""
        return self._uac.advertised_addr if self._uac is not None else ("", 0)

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
        if self.config.srtp != "off":
            call.crypto, call.profile = new_crypto(), offer_profile(self.config.srtp)
        offer = offer_sdp(self.address, call.rtp_port, self.config.codecs, call.sdp_session, call.crypto, call.profile)
        sip_call = self._uac.send_invite(
            self._aor(caller), self._aor(number), self.proxy_address, parse_sdp(offer),
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
        for task in list(self._tasks):
            task.cancel()
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
