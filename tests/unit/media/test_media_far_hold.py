"""A far end that holds a phone call: the direction its re-INVITE asks for, ours, and a silent leg that is not lost."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from signaling.media.anchor import STALL_SECONDS, MediaAnchor
from signaling.media.phone import PhoneLeg
from signaling.media.sip.sipua_reinvite import MIRROR, offered_direction
from signaling.media.sip.trunk import PhoneEvent, PhoneState

BASE = "v=0\r\no=far 1 2 IN IP4 192.0.2.7\r\ns=-\r\n{session}c=IN IP4 {address}\r\nt=0 0\r\n" \
       "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n{media}"


def offer(*, media: str = "", session: str = "", address: str = "192.0.2.7") -> str:
    return BASE.format(media=media, session=session, address=address)


@pytest.mark.parametrize("text, direction", [
    (offer(), "sendrecv"),                                   # none said: sendrecv (RFC 3264)
    (offer(media="a=sendonly\r\n"), "sendonly"),             # hold, with its music
    (offer(media="a=inactive\r\n"), "inactive"),
    (offer(session="a=inactive\r\n"), "inactive"),           # said for the whole session
    (offer(session="a=sendonly\r\n", media="a=sendrecv\r\n"), "sendrecv"),  # the media's own wins
    (offer(address="0.0.0.0"), "sendonly"),                  # RFC 2543's hold
])
def test_the_direction_an_offer_asks_for(text, direction):
    assert offered_direction(text) == direction


def test_our_answer_mirrors_it():
    assert MIRROR == {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


class Phone:
    number = "+442079460123"
    state = PhoneState.CONNECTED
    far_direction = "sendrecv"


def leg_of(anchor: MediaAnchor, phone: Phone) -> PhoneLeg:
    call = SimpleNamespace(ended=False, _leg_changed=lambda leg: None, state=SimpleNamespace(ringback=False))
    leg = PhoneLeg(call, phone)
    leg.state = "connected"
    call.legs = {"customer": leg}
    anchor.calls["c1"] = call
    return leg


async def test_a_phone_held_with_nothing_sent_is_quiet_not_reconnecting():
    anchor = MediaAnchor(own_addresses=lambda: [])
    phone = Phone()
    leg = leg_of(anchor, phone)
    later = time.monotonic() + STALL_SECONDS + 1
    phone.far_direction = "inactive"
    anchor.check_stalls(later)
    assert not leg.stalled and leg.public_state == "connected"
    phone.far_direction = "sendrecv"  # resumed, and still nothing: that one is lost
    anchor.check_stalls(later)
    assert leg.stalled


def test_the_desk_is_told_the_phone_holds():
    leg = PhoneLeg(SimpleNamespace(ended=False, _leg_changed=lambda leg: None,
                                   state=SimpleNamespace(ringback=False)), Phone())
    leg.event = PhoneEvent(state=PhoneState.CONNECTED, status=200, held=True)
    assert leg.public()["held"] is True
    leg.event = PhoneEvent(state=PhoneState.CONNECTED, status=200)
    assert leg.public()["held"] is False
