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
  :data:`~.sipua_call.NO_RESPONSE` seconds fails the call ("the trunk did not answer");
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
import socket

from aiosipua import SipRequest, SipResponse, SipUAC, SipUAS, parse_sdp
from aiosipua import Registration as SipRegistration

from signaling.media.errors import TrunkError
from signaling.media.sip.sdp import media_of, offer_sdp
from signaling.media.sip.rtp_ports import RtpPorts
from signaling.media.sip.sipua_call import SipuaCall
from signaling.media.sip.srtp import new_crypto, offer_profile
from signaling.media.sip.sipua_register import USER_AGENT, Registering
from signaling.media.sip.sipua_stream import open_transport
from signaling.media.sip.transport import StreamTransport, UdpTransport, route_address
from signaling.media.sip.trunk import (AudioSink, EventSink, PhoneCall, PhoneState, RefusedCall, Registration, Trunk,
                                       TrunkConfig)

__all__ = ["SipuaTrunk", "UdpTransport", "media_of"]

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
LINGER = 32.0  # seconds an ended call's Call-ID is remembered, to ACK retransmitted answers


class SipuaTrunk(Registering, Trunk):
    """A trunk on aiosipua: ``async with SipuaTrunk(config) as trunk: call = await trunk.dial(...)``."""

    def __init__(self, config: TrunkConfig, *, rtp_ports: tuple[int, int] = (20000, 30000)):
        self.config = config
        self.registration = Registration.OFF
        self.registration_error = ""
        self.on_registration = None
        self._ports = RtpPorts(rtp_ports)
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
        call.rtp_port = self._ports.allocate()
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
        self._ports.release(call.rtp_port)
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
        try:
            cseq = message.cseq
        except ValueError:  # "CSeq: one INVITE": aiosipua would raise on it too
            self._malformed(message, addr, "CSeq")
            return
        sdp_ok = True
        if message.body and "sdp" in (message.content_type or "").lower():
            try:
                parse_sdp(message.text)  # as aiosipua will, which raises on "m=audio abc ..."
            except ValueError:
                sdp_ok = False
        if isinstance(message, SipRequest) and not sdp_ok:
            self._malformed(message, addr, "SDP")
            return
        if isinstance(message, SipResponse):
            call = self._calls.get(message.call_id or "")
            if call is not None and cseq is not None and cseq.method.upper() == "INVITE":
                call.responded = True
                status = message.status_code
                if status >= 300:
                    self._ack_failure(call, message)
                elif status in (180, 183):
                    call._provisional(message)
                elif 200 <= status < 300 and call.state != PhoneState.CONNECTED:
                    call._answered(message)  # a malformed SDP answer: hung up, failed, saying why
        if not sdp_ok:  # aiosipua gets it without the SDP it would raise on (and then never ACK)
            message.body = b""
            message.headers.set_single("Content-Length", "0")
        inner(message, addr)

    def _malformed(self, message, addr, what: str) -> None:
        """A message whose ``what`` (its CSeq, a request's SDP) can't be read: a response is dropped,
        a request (not an ACK) answered 400 Bad Request (RFC 3261 8.2.2), its own headers echoed;
        one warning line, never an error."""
        kind = "response" if isinstance(message, SipResponse) else f"{message.method} request"
        log.warning("a SIP %s with a malformed %s from %s:%d ignored", kind, what, *addr[:2])
        if isinstance(message, SipResponse) or message.method.upper() == "ACK":
            return
        response = SipResponse(status_code=400, reason_phrase=f"Bad Request (malformed {what})")
        for via in message.headers.get("via"):
            response.headers.append("Via", via)
        for name in ("From", "To", "Call-ID", "CSeq"):
            response.headers.set_single(name, message.headers.get_first(name) or "")
        self._transport.send(response, addr)

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
