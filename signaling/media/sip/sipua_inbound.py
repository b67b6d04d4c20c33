"""Calls the provider sends us, on aiosipua's UAS: answered at once, refused cleanly otherwise.

:class:`SipuaIncomingCall` is an outbound :class:`~signaling.media.sip.sipua_call.SipuaCall`
turned round: the far end's INVITE carries the offer, :meth:`answer` sends
200 OK with our answer (one of our G.711 codecs, the offer's telephone-event
type) and starts RTP; the caller's BYE (or a CANCEL before the answer) ends
it. :func:`take_invite` is what the trunk does with each new INVITE: from the
proxy only (403 otherwise), within ``max_calls`` (503 with Retry-After, so a
proxy in front of several processes tries the next), to ``on_incoming`` (480
without one), which answers or refuses it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

from aiosipua import parse_sdp

from signaling.media.sip.sdp import PAYLOAD_TYPES, media_of
from signaling.media.sip.sipua_call import SipuaCall
from signaling.media.sip.srtp import Crypto, answer_offer, crypto_lines, sdp_crypto
from signaling.media.sip.trunk import CallResult, IncomingPhoneCall, PhoneEvent, PhoneState, user_of

if TYPE_CHECKING:
    from signaling.media.sip.sipua import SipuaTrunk

__all__ = ["SipuaIncomingCall", "take_invite", "caller_of", "RETRY_AFTER"]

log = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds a caller refused at capacity is told to wait (503's Retry-After)
_NAMES = {pt: name for name, pt in PAYLOAD_TYPES.items()}


def _answer(address: str, port: int, payload_type: int, dtmf: int, session: int, crypto: Crypto | None = None,
            profile: str = "RTP/AVP") -> str:
    lines = ["v=0", f"o=otodesk {session} 1 IN IP4 {address}", "s=otodesk",
             f"c=IN IP4 {address}", "t=0 0", f"m=audio {port} {profile} {payload_type} {dtmf}", *crypto_lines(crypto),
             f"a=rtpmap:{payload_type} {_NAMES[payload_type]}/8000",
             f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16", "a=ptime:20", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


class SipuaIncomingCall(SipuaCall, IncomingPhoneCall):
    def __init__(self, trunk: "SipuaTrunk", wrapper):  # wrapper: aiosipua IncomingCall
        invite = wrapper.invite
        caller = caller_of(invite.headers)
        super().__init__(trunk, caller, on_event=None, on_audio=None)
        self.wrapper = wrapper
        self.caller = caller
        self.called = user_of(f"<{invite.uri}>") or user_of(invite.headers.get_first("to") or "")
        self.responded = True  # no Timer A, no ring timeout: we answer

    @property
    def call_id(self) -> str:
        return self.wrapper.call_id

    async def answer(self) -> None:
        invite = self.wrapper.invite
        try:
            if not (invite.body and invite.content_type == "application/sdp"):
                raise ValueError("the INVITE carries no SDP offer")
            remote, payload_type, dtmf = media_of(invite.text, self.trunk.config.codecs)
            theirs, self.crypto = answer_offer(self.trunk.config.srtp, invite.text)
            self.profile = sdp_crypto(invite.text)[0] if self.crypto else "RTP/AVP"
        except Exception as exc:
            self.reject(488, "Not Acceptable Here")
            raise ValueError(f"the caller's offer can't be used: {exc}") from None
        self.rtp_port = self.trunk._ports.allocate()
        async with self._media_lock:
            if self.state == PhoneState.ENDED:  # the caller gave up meanwhile
                return
            await self.open_rtp(remote, payload_type, dtmf, theirs)
        self.wrapper.accept(parse_sdp(_answer(self.trunk.address, self.rtp_port, payload_type, dtmf, self.sdp_session,
                                              self.crypto, self.profile)))
        self.answered_at = time.monotonic()
        self._emit(PhoneEvent(state=PhoneState.CONNECTED, status=200, reason="OK"))

    def reject(self, status: int, reason: str) -> None:
        if self.state == PhoneState.ENDED:
            return
        if self.state == PhoneState.CONNECTED:  # too late for a final response: hang up
            self._spawn(self.hangup())
            return
        _refuse(self.trunk, self.wrapper, status, reason)
        self._spawn(self._end(CallResult.REFUSED, status=status, reason=reason))

    def _bye(self) -> None:
        self._spawn(self._end(CallResult.COMPLETED, reason="the caller hung up"))

    def _cancelled(self) -> None:
        self._spawn(self._end(CallResult.CANCELLED, reason="the caller hung up before the answer"))

    async def hangup(self) -> None:
        if self.state == PhoneState.ENDED:
            return
        if self.state == PhoneState.CONNECTED:
            with contextlib.suppress(Exception):
                self.wrapper.hangup()
            await self._end(CallResult.COMPLETED, reason="hung up by the agent")
        else:
            _refuse(self.trunk, self.wrapper, 480, "Temporarily Unavailable")
            await self._end(CallResult.CANCELLED, reason="not answered")


def caller_of(headers) -> str:
    """The caller's number: P-Asserted-Identity (RFC 3325: the provider vouches for it; it
    comes from the trunk's proxy only, :func:`take_invite`), else From; "anonymous" when the
    caller withheld it (``Privacy: id``), whatever the headers still carry."""
    privacy = {token.strip().lower() for token in (headers.get_first("privacy") or "").split(";")}
    if "id" in privacy:
        return "anonymous"
    asserted = user_of(headers.get_first("p-asserted-identity") or "")
    return asserted or user_of(headers.get_first("from") or "")


def _refuse(trunk: "SipuaTrunk", wrapper, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
    with contextlib.suppress(Exception):
        wrapper._stop_retransmissions()
        wrapper._send_response(status, reason, extra_headers=headers)
        wrapper.dialog.terminate()
    trunk._uas._calls.pop(wrapper.call_id, None)  # aiosipua keeps a rejected call otherwise


def take_invite(trunk: "SipuaTrunk", wrapper) -> None:
    """A new INVITE reached the trunk: refuse it, or hand it to ``trunk.on_incoming``."""
    source = wrapper.source_addr[0]
    if source != trunk.proxy_address[0]:
        log.warning("INVITE from %s refused: calls come from the trunk's proxy (%s) only", source,
                    trunk.proxy_address[0])
        _refuse(trunk, wrapper, 403, "Forbidden")
        return
    limit = trunk.config.max_calls
    if limit and trunk.live_calls >= limit:
        log.warning("INVITE refused: %d phone calls carried, the most allowed (OTODESK_SIP_MAX_CALLS)", limit)
        _refuse(trunk, wrapper, 503, "Service Unavailable", {"Retry-After": str(RETRY_AFTER)})
        return
    if trunk.on_incoming is None:
        _refuse(trunk, wrapper, 480, "Temporarily Unavailable")
        return
    call = SipuaIncomingCall(trunk, wrapper)
    trunk._calls[call.call_id] = call
    try:
        trunk.on_incoming(call)
    except Exception:
        log.exception("incoming call handler failed")
        call.reject(500, "Server Internal Error")
