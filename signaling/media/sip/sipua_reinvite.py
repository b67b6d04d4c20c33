"""The far end renegotiates an established call: hold, resume, media that moves.

A provider (or the phone behind it) sends a re-INVITE, or an UPDATE (RFC 3311),
to put the call on hold (``a=sendonly``, ``a=inactive``, or the old
``c=0.0.0.0``), to take it off hold (``a=sendrecv``), or because its media
moved (a new address or port). aiosipua 0.7.1 validates a re-INVITE against
the dialog (481, 500 for a stale CSeq) and hands it to ``on_reinvite``, but
answers nothing itself: without this module the far end retransmits it for
32 s, then hangs up. Its UPDATE handler answers only calls that came in, and
only through a callback: an UPDATE with an offer on a call we dialled got 488.

:func:`take_reinvite` and :func:`take_update` answer an offer with 200 OK and
our SDP: the same session (its ``o=`` version one higher each time, RFC 3264
§8), the codec already in use (none of it offered: 488, the call stays as it
was), the direction mirrored (sendonly → recvonly, inactive → inactive,
recvonly → sendonly); RTP then goes to the new address, and stops (or
resumes) as the direction says. A re-INVITE *without* SDP asks for our offer:
it goes in the 200 (the codec in use, ``sendrecv``) and the far end's answer
comes in its ACK (:func:`take_ack`, RFC 3261 §14.2), applied the same way; an
ACK without one leaves the call as it was. A bodyless UPDATE (a session
refresh) gets 200 as before. :attr:`SipuaCall.far_direction` is what the far
end wants to do, from our side's point of view; a :class:`PhoneEvent` with
``held`` tells the anchor. On an SRTP call every offer must carry a key of
the suite in use (488 otherwise: the call never drops to plain RTP); a new
key re-keys what we receive, and our SDP keeps our key. A plain call refuses
an offer of RTP/SAVP (488).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from aiosipua import parse_sdp

from signaling.media.sip.sdp import PAYLOAD_TYPES, media_of
from signaling.media.sip.sipua import SipuaCall
from signaling.media.sip.srtp import choose_crypto, crypto_lines, sdp_crypto
from signaling.media.sip.trunk import PhoneEvent, PhoneState

if TYPE_CHECKING:
    from signaling.media.sip.sipua import SipuaTrunk

__all__ = ["take_reinvite", "take_update", "take_ack", "install", "offered_direction", "MIRROR"]

log = logging.getLogger(__name__)

#: Our answer's direction for each offered one (RFC 3264 §6.1).
MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
_NAMES = {pt: name for name, pt in PAYLOAD_TYPES.items()}


class _Unacceptable(ValueError):
    """An offer (or answer) this call can't take: refused with 488, the call goes on as it was."""


def offered_direction(text: str) -> str:
    """The direction an SDP offer asks for: the audio's own attribute, else the session's.

    ``c=0.0.0.0`` (RFC 2543 hold, still sent by some equipment) is ``sendonly``.
    """
    sdp = parse_sdp(text)
    audio = sdp.audio
    connection = (audio.connection if audio else None) or sdp.connection
    for attributes in ((audio.attributes if audio else {}), sdp.attributes):
        for direction in MIRROR:
            if direction in attributes:
                return direction
    if connection is not None and connection.address == "0.0.0.0":
        return "sendonly"
    return "sendrecv"


def _sdp(call: SipuaCall, address: str, payload_type: int, dtmf: int, direction: str) -> str:
    """Our SDP for this call: the same session, one version on."""
    call.sdp_version += 1
    lines = ["v=0", f"o=otodesk {call.sdp_session} {call.sdp_version} IN IP4 {address}", "s=otodesk",
             f"c=IN IP4 {address}", "t=0 0", f"m=audio {call.rtp_port} {call.profile} {payload_type} {dtmf}",
             *crypto_lines(call.crypto if call.srtp is not None else None),
             f"a=rtpmap:{payload_type} {_NAMES[payload_type]}/8000",
             f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16", "a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"


def _apply(trunk: "SipuaTrunk", call: SipuaCall, text: str) -> tuple[int, str]:
    """Take the far end's SDP (an offer, or the answer to ours) on ``call``: its address and
    direction. Returns (telephone-event payload type, its direction); _Unacceptable otherwise."""
    try:
        remote, _payload_type, dtmf = media_of(text, trunk.config.codecs)
        direction = offered_direction(text)
        formats = [int(f) for f in parse_sdp(text).audio.formats if f.isdigit()]
    except Exception as exc:
        raise _Unacceptable(f"its SDP can't be used: {exc}") from None
    current = call.rtp._payload_type
    if current not in formats:  # a codec change mid-call would need a new RTP session: not taken
        raise _Unacceptable(f"it lacks the codec in use ({_NAMES.get(current, current)})")
    _rekey(call, text)
    if remote[0] != "0.0.0.0" and remote != call.rtp._remote_addr:
        call.rtp.update_remote(remote)
    was_held = call.far_held
    call.far_direction = direction
    log.info("phone call %s: the far end's SDP: %s, media to %s:%d", call.number, direction, *remote)
    if call.far_held != was_held:
        call._emit(PhoneEvent(state=PhoneState.CONNECTED, status=200,
                              reason="held by the far end" if call.far_held else "resumed by the far end",
                              held=call.far_held))
    return dtmf, direction


def _rekey(call: SipuaCall, text: str) -> None:
    """An SRTP call takes the SDP's key (the same suite); a plain one refuses RTP/SAVP."""
    proto, values = sdp_crypto(text)
    if call.srtp is None:
        if "SAVP" in proto:
            raise _Unacceptable("it asks for SRTP on a call that has none")
        return
    try:
        theirs = choose_crypto(values)
    except ValueError as exc:
        raise _Unacceptable(f"no SRTP key for this SRTP call: {exc}") from None
    if theirs.suite != call.crypto.suite:
        raise _Unacceptable(f"it changes the SRTP suite ({call.crypto.suite} in use)")
    call.crypto = dataclasses.replace(call.crypto, tag=theirs.tag)  # our answer names its tag (RFC 4568 §7.1.3)
    call.srtp.rekey(theirs)


def _answer(trunk: "SipuaTrunk", call: SipuaCall, offer: str) -> str:
    """Our answer to the far end's offer (taken on ``call``); _Unacceptable to refuse it."""
    dtmf, direction = _apply(trunk, call, offer)
    return _sdp(call, trunk.address, call.rtp._payload_type, dtmf, MIRROR[direction])


def _live(trunk: "SipuaTrunk", call_id: str | None) -> SipuaCall | None:
    call = trunk._calls.get(call_id or "")
    return call if call is not None and call.state == PhoneState.CONNECTED and call.rtp is not None else None


def take_reinvite(trunk: "SipuaTrunk", wrapper) -> None:
    """The far end re-INVITEd one of our calls (``wrapper``: aiosipua's IncomingCall for the request)."""
    request = wrapper.invite
    call = _live(trunk, request.call_id)
    if call is None:
        wrapper._send_response(481, "Call/Transaction Does Not Exist")  # ended meanwhile, or not answered yet
        return
    if not (request.body and request.content_type == "application/sdp"):
        # It wants our offer: in the 200, the codec in use; its answer comes in the ACK (take_ack).
        dtmf = getattr(call.rtp, "_dtmf_payload_type", None) or 101
        call.awaiting_answer = True
        wrapper.accept(parse_sdp(_sdp(call, trunk.address, call.rtp._payload_type, dtmf, "sendrecv")))
        log.info("phone call %s: a re-INVITE without SDP: our offer sent in the 200", call.number)
        return
    try:
        answer = _answer(trunk, call, request.text)
    except _Unacceptable as exc:
        wrapper._send_response(488, "Not Acceptable Here")
        log.warning("phone call %s: a re-INVITE refused (488): %s", call.number, exc)
        return
    wrapper.accept(parse_sdp(answer))


def take_ack(trunk: "SipuaTrunk", request) -> None:
    """An ACK: for a re-INVITE we answered with our offer, it carries the far end's answer."""
    call = _live(trunk, request.call_id)
    if call is None or not call.awaiting_answer:
        return
    call.awaiting_answer = False
    if not (request.body and request.content_type == "application/sdp"):
        log.warning("phone call %s: the ACK to our offer carries no answer; the call goes on as it was",
                    call.number)
        return
    try:
        _apply(trunk, call, request.text)
    except _Unacceptable as exc:  # too late to refuse (RFC 3261 §13.2.2.4 would BYE): kept as it was
        log.warning("phone call %s: the answer in the ACK is not taken: %s", call.number, exc)


def take_update(trunk: "SipuaTrunk", fallback, request, addr) -> None:
    """An UPDATE: with an offer on a live call of ours, answered as a re-INVITE's is; anything
    else (a session refresh, a call not ours) as aiosipua does (``fallback``)."""
    call = _live(trunk, request.call_id)
    has_offer = bool(request.body) and request.content_type == "application/sdp"
    uas = trunk._uas
    _incoming, dialog = uas._find_dialog(request.call_id or "")
    if call is None or not has_offer or dialog is None:
        fallback(request, addr)
        return
    if not uas._validate_in_dialog(dialog, request):  # stale CSeq: aiosipua has answered 500
        return
    try:
        response = dialog.create_response(request, 200, "OK")
        response.text = _answer(trunk, call, request.text)
        response.headers.set_single("Content-Type", "application/sdp")
    except _Unacceptable as exc:
        response = dialog.create_response(request, 488, "Not Acceptable Here")
        log.warning("phone call %s: an UPDATE refused (488): %s", call.number, exc)
    response.headers.set_single("User-Agent", uas.user_agent or "otodesk")
    uas.transport.send_reply(response)


def install(trunk: "SipuaTrunk") -> None:
    """Route the trunk's ACKs and UPDATEs through this module (before aiosipua's own handling)."""
    handlers = trunk._uas._handlers
    ack, update = handlers["ACK"], handlers["UPDATE"]

    def on_ack(request, addr) -> None:
        take_ack(trunk, request)
        ack(request, addr)

    handlers["ACK"] = on_ack
    handlers["UPDATE"] = lambda request, addr: take_update(trunk, update, request, addr)
