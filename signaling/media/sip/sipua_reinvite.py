"""The far end's re-INVITE on an established call: hold, resume, media that moves.

A provider (or the phone behind it) sends a re-INVITE to put the call on hold
(``a=sendonly``, ``a=inactive``, or the old ``c=0.0.0.0``), to take it off
hold (``a=sendrecv``), or because its media moved (a new address or port).
aiosipua 0.7.1 validates the request against the dialog (481, 500 for a stale
CSeq) and hands it to ``on_reinvite``, but answers nothing itself: without
this module the far end retransmits its re-INVITE for 32 s, then hangs up.

:func:`take_reinvite` answers 200 OK with our SDP: the same session (its
``o=`` version one higher each time, RFC 3264 §8), the codec already in use
(none of it offered: 488, the call stays as it was), the direction mirrored
(sendonly → recvonly, inactive → inactive, recvonly → sendonly); RTP then
goes to the new address, and stops (or resumes) as the direction says.
:attr:`SipuaCall.far_direction` is what the far end wants to do, from our
side's point of view; a :class:`PhoneEvent` with ``held`` tells the anchor.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiosipua import parse_sdp

from signaling.media.sip.sipua import PAYLOAD_TYPES, SipuaCall, media_of
from signaling.media.sip.trunk import PhoneEvent, PhoneState

if TYPE_CHECKING:
    from signaling.media.sip.sipua import SipuaTrunk

__all__ = ["take_reinvite", "offered_direction", "MIRROR"]

log = logging.getLogger(__name__)

#: Our answer's direction for each offered one (RFC 3264 §6.1).
MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
_NAMES = {pt: name for name, pt in PAYLOAD_TYPES.items()}


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


def _answer(call: SipuaCall, address: str, payload_type: int, dtmf: int, direction: str) -> str:
    call.sdp_version += 1
    lines = ["v=0", f"o=otodesk {call.sdp_session} {call.sdp_version} IN IP4 {address}", "s=otodesk",
             f"c=IN IP4 {address}", "t=0 0", f"m=audio {call.rtp_port} RTP/AVP {payload_type} {dtmf}",
             f"a=rtpmap:{payload_type} {_NAMES[payload_type]}/8000",
             f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16", "a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"


def _refuse(wrapper, status: int, reason: str) -> None:
    wrapper._send_response(status, reason)


def take_reinvite(trunk: "SipuaTrunk", wrapper) -> None:
    """The far end re-INVITEd one of our calls (``wrapper``: aiosipua's IncomingCall for the request)."""
    request = wrapper.invite
    call = trunk._calls.get(request.call_id or "")
    if call is None or call.state != PhoneState.CONNECTED or call.rtp is None:
        _refuse(wrapper, 481, "Call/Transaction Does Not Exist")  # ended meanwhile, or not answered yet
        return
    if not (request.body and request.content_type == "application/sdp"):
        # An offerless re-INVITE wants our offer in the 200 and its answer in the ACK; no provider
        # we know holds that way: refused, the call goes on as it was.
        _refuse(wrapper, 488, "Not Acceptable Here")
        log.warning("phone call %s: a re-INVITE without SDP refused (488)", call.number)
        return
    try:
        remote, _payload_type, dtmf = media_of(request.text, trunk.config.codecs)
        direction = offered_direction(request.text)
        offered = [int(f) for f in parse_sdp(request.text).audio.formats if f.isdigit()]
    except Exception as exc:
        _refuse(wrapper, 488, "Not Acceptable Here")
        log.warning("phone call %s: a re-INVITE's SDP refused (488): %s", call.number, exc)
        return
    current = call.rtp._payload_type
    if current not in offered:  # a codec change mid-call would need a new RTP session: not taken
        _refuse(wrapper, 488, "Not Acceptable Here")
        log.warning("phone call %s: a re-INVITE without the codec in use (%s) refused (488)", call.number,
                    _NAMES.get(current, current))
        return
    if remote[0] != "0.0.0.0" and remote != call.rtp._remote_addr:
        call.rtp.update_remote(remote)
    wrapper.accept(parse_sdp(_answer(call, trunk.address, current, dtmf, MIRROR[direction])))
    was_held = call.far_held
    call.far_direction = direction
    log.info("phone call %s: the far end's re-INVITE: %s, media to %s:%d", call.number, direction, *remote)
    if call.far_held != was_held:
        call._emit(PhoneEvent(state=PhoneState.CONNECTED, status=200,
                              reason="held by the far end" if call.far_held else "resumed by the far end",
                              held=call.far_held))

