"""SDES-SRTP for the trunk (signaling/media/sip/srtp.py): crypto lines, keys, protect/unprotect."""

from __future__ import annotations

import base64

import pylibsrtp
import pytest
from aiortp.packet import RtpPacket

from signaling.media.sip.srtp import (Crypto, SrtpContext, answer_offer, choose_crypto, new_crypto, parse_crypto,
                                      their_answer)

KEY = bytes(range(30))
LINE = f"1 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(KEY).decode()}"


def _sdp(proto: str = "RTP/SAVP", *crypto: str) -> str:
    lines = ["v=0", "o=far 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
             f"m=audio 4000 {proto} 0 101", "a=rtpmap:0 PCMU/8000", *(f"a=crypto:{c}" for c in crypto)]
    return "\r\n".join(lines) + "\r\n"


def _packet(seq: int, payload: bytes = b"\x55" * 160) -> bytes:
    return RtpPacket(payload_type=0, sequence_number=seq, timestamp=seq * 160, ssrc=0x1234, payload=payload).serialize()


def test_a_crypto_line_parses_and_formats_back():
    crypto = parse_crypto(LINE)
    assert (crypto.tag, crypto.suite, crypto.key) == (1, "AES_CM_128_HMAC_SHA1_80", KEY)
    assert crypto.line() == LINE
    assert parse_crypto(LINE.replace("_80", "_32")).suite == "AES_CM_128_HMAC_SHA1_32"


def test_a_key_never_shows_in_a_repr():
    crypto = new_crypto()
    assert len(crypto.key) == 30
    assert base64.b64encode(crypto.key).decode() not in repr(crypto) and repr(crypto.key) not in repr(crypto)
    assert new_crypto().key != crypto.key


@pytest.mark.parametrize("line, why", [
    ("1 AES_256_CM_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(46)).decode(), "not supported"),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(16)).decode(), "30 bytes"),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:not*base64", "not base64"),
    (LINE + "|2^20|1:4", "lifetime or an MKI"),
    (LINE + " UNENCRYPTED_SRTP", "session parameters"),
    ("AES_CM_128_HMAC_SHA1_80 inline:xyz", "tag suite"),
    ("1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", "inline"),
])
def test_lines_we_cannot_honour_are_refused_saying_why(line, why):
    with pytest.raises(ValueError, match=why) as refused:
        parse_crypto(line)
    assert base64.b64encode(KEY).decode() not in str(refused.value)


def test_the_first_usable_line_of_an_offer_is_chosen():
    other = "2 AES_256_CM_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(46)).decode()
    assert choose_crypto([other, LINE.replace("1 ", "3 ", 1)]).tag == 3
    with pytest.raises(ValueError, match="not supported"):
        choose_crypto([other])
    with pytest.raises(ValueError, match="no SRTP key"):
        choose_crypto([])


def test_what_we_protect_the_far_end_unprotects_with_our_key_and_nothing_else():
    ours, theirs = new_crypto(), new_crypto()
    us, far = SrtpContext(ours, theirs), SrtpContext(theirs, ours)
    plain = _packet(1)
    wire = us.protect(plain)
    assert wire != plain and plain[12:] not in wire and len(wire) == len(plain) + 10  # 80-bit tag
    assert far.unprotect(wire) == plain
    assert far.unprotect(wire) is None and far.refused == 1  # a replay
    stranger = SrtpContext(theirs, new_crypto())
    assert stranger.unprotect(us.protect(_packet(2))) is None  # another key: refused
    tampered = bytearray(us.protect(_packet(3)))
    tampered[20] ^= 1
    assert far.unprotect(bytes(tampered)) is None
    # An independent libsrtp session with our key reads what we sent.
    reader = pylibsrtp.Session(pylibsrtp.Policy(key=ours.key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND))
    assert reader.unprotect(us.protect(_packet(4))) == _packet(4)


def test_a_new_key_from_the_far_end_is_taken_for_what_follows():
    ours, first, second = new_crypto(), new_crypto(), new_crypto()
    us = SrtpContext(ours, first)
    us.rekey(second)
    assert us.unprotect(SrtpContext(second, ours).protect(_packet(1))) == _packet(1)


def test_an_answer_without_a_key_fails_only_when_srtp_is_required():
    ours = Crypto(1, "AES_CM_128_HMAC_SHA1_80", KEY)
    with pytest.raises(ValueError, match="without an SRTP key"):
        their_answer("required", ours, _sdp("RTP/SAVP"))
    assert their_answer("optional", ours, _sdp("RTP/AVP")) is None
    assert their_answer("optional", ours, _sdp("RTP/AVP", LINE)).key == KEY
    with pytest.raises(ValueError, match="did not offer"):
        their_answer("required", ours, _sdp("RTP/SAVP", LINE.replace("1 ", "2 ", 1)))
    assert their_answer("off", None, _sdp("RTP/AVP")) is None


def test_an_offer_is_answered_with_a_key_of_ours_or_refused():
    theirs, ours = answer_offer("optional", _sdp("RTP/SAVP", LINE))
    assert theirs.key == KEY and ours.key != KEY and (ours.tag, ours.suite) == (1, theirs.suite)
    assert answer_offer("optional", _sdp("RTP/AVP")) == (None, None)  # plain RTP, SRTP optional
    for mode, offer, why in [("required", _sdp("RTP/AVP"), "no SRTP key"),
                             ("off", _sdp("RTP/SAVP", LINE), "off here"),
                             ("optional", _sdp("RTP/SAVP"), "without a key"),
                             ("required", _sdp("RTP/SAVP", LINE.replace("_80", "_99")), "no usable SRTP key"),
                             ("optional", _sdp("UDP/TLS/RTP/SAVP"), "without a key")]:
        with pytest.raises(ValueError, match=why):
            answer_offer(mode, offer)
