"""SRTP for the trunk's calls: SDES keys (RFC 4568) and libsrtp (pylibsrtp, installed with aiortc).

Each side of a call picks its own master key and salt (30 random bytes for
the AES-CM suites) and puts it in its SDP, ``a=crypto:1 AES_CM_128_HMAC_SHA1_80
inline:<base64>``; each encrypts what it sends with its own key and decrypts
what it receives with the other's. Those keys travel in the SIP message, so
they are secret only as far as SIP is: over TLS (the trunk refuses SRTP
without it, :class:`~signaling.media.sip.trunk.TrunkConfig`).

- :class:`Crypto` one ``a=crypto`` line: :func:`parse_crypto` refuses what we
  can't honour (another suite, a key of the wrong length, a key lifetime or
  MKI we don't apply, session parameters such as UNENCRYPTED_SRTP);
  :meth:`Crypto.line` writes it. Its repr never shows the key, so neither can a log.
- :class:`SrtpContext` the two libsrtp sessions of a call (ours out, theirs in).
- :class:`SrtpSession` aiortp's RTPSession with SRTP and SRTCP on the wire:
  it drops every packet until :attr:`SrtpSession.srtp` is set (right after
  :meth:`create`, before media flows), and any packet that fails authentication.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import secrets

import pylibsrtp
from aiortp import RTPSession
from aiosipua import parse_sdp

__all__ = ["Crypto", "SrtpContext", "SrtpSession", "parse_crypto", "choose_crypto", "new_crypto", "SUITES", "sdp_crypto",
           "offer_profile", "crypto_lines", "their_answer", "answer_offer",
           "OFFERED_SUITE"]

log = logging.getLogger(__name__)

#: The suites we take, and libsrtp's profile for each (both: 128-bit AES counter mode, a 30-byte key+salt).
SUITES = {"AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
          "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32}
OFFERED_SUITE = "AES_CM_128_HMAC_SHA1_80"
KEY_BYTES = 30


@dataclasses.dataclass(frozen=True)
class Crypto:
    """One SDES crypto attribute: its tag, suite and master key+salt (never shown in a repr)."""

    tag: int
    suite: str
    key: bytes = dataclasses.field(repr=False)

    def line(self) -> str:
        """The attribute's value, as after ``a=crypto:``."""
        return f"{self.tag} {self.suite} inline:{base64.b64encode(self.key).decode()}"


def new_crypto(tag: int = 1, suite: str = OFFERED_SUITE) -> Crypto:
    """A fresh random key for our side."""
    return Crypto(tag, suite, secrets.token_bytes(KEY_BYTES))


def parse_crypto(value: str) -> Crypto:
    """The crypto attribute ``value`` (``1 AES_CM_128_HMAC_SHA1_80 inline:...``); ValueError
    naming what is wrong (never the key) if we can't use it."""
    parts = value.split()
    if len(parts) < 3 or not parts[0].isdigit():
        raise ValueError("a crypto attribute is 'tag suite inline:key'")
    tag, suite, params = int(parts[0]), parts[1].upper(), parts[2]
    if suite not in SUITES:
        raise ValueError(f"the crypto suite {parts[1]} is not supported ({', '.join(SUITES)} are)")
    if len(parts) > 3:
        raise ValueError(f"SRTP session parameters are not supported: {' '.join(parts[3:])}")
    if not params.lower().startswith("inline:"):
        raise ValueError("the key method must be inline")
    key_text, *extra = params[len("inline:"):].split("|")
    if extra:  # a lifetime (|2^31) or an MKI (|1:4): we'd have to honour them; we don't
        raise ValueError("keys with a lifetime or an MKI are not supported")
    try:
        key = base64.b64decode(key_text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key is not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"the key and salt must be {KEY_BYTES} bytes, not {len(key)}")
    return Crypto(tag, suite, key)


def choose_crypto(values: list[str]) -> Crypto:
    """The first crypto attribute of an offer we can use; ValueError saying why none (no key shown)."""
    reasons = []
    for value in values:
        try:
            return parse_crypto(value)
        except ValueError as exc:
            reasons.append(str(exc))
    raise ValueError("; ".join(reasons) if reasons else "no SRTP key offered")


def _session(crypto: Crypto, direction: int) -> pylibsrtp.Session:
    policy = pylibsrtp.Policy(key=crypto.key, ssrc_type=direction, srtp_profile=SUITES[crypto.suite])
    policy.allow_repeat_tx = True  # aiortp may send a packet twice (its duplicate_tx, NACK answers)
    return pylibsrtp.Session(policy)


class SrtpContext:
    """Our key protects what we send; the far end's unprotects what we receive."""

    def __init__(self, ours: Crypto, theirs: Crypto):
        self.ours = ours
        self.theirs = theirs
        self._out = _session(ours, pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
        self._in = _session(theirs, pylibsrtp.Policy.SSRC_ANY_INBOUND)
        self.refused = 0  # packets in that failed authentication or replay checks

    def rekey(self, theirs: Crypto) -> None:
        """The far end offered a new key (a re-INVITE): what it sends from now on uses it."""
        if theirs != self.theirs:
            self.theirs = theirs
            self._in = _session(theirs, pylibsrtp.Policy.SSRC_ANY_INBOUND)

    def protect(self, packet: bytes) -> bytes:
        return self._out.protect(packet)

    def protect_rtcp(self, packet: bytes) -> bytes:
        return self._out.protect_rtcp(packet)

    def unprotect(self, packet: bytes) -> bytes | None:
        try:
            return self._in.unprotect(packet)
        except pylibsrtp.Error:
            self.refused += 1
            return None

    def unprotect_rtcp(self, packet: bytes) -> bytes | None:
        try:
            return self._in.unprotect_rtcp(packet)
        except pylibsrtp.Error:
            self.refused += 1
            return None


class SrtpSession(RTPSession):
    """An RTPSession whose wire is SRTP/SRTCP: set :attr:`srtp` right after :meth:`create`."""

    srtp: SrtpContext | None = None

    async def _bind_transports(self, local_addr, remote_addr) -> None:
        await super()._bind_transports(local_addr, remote_addr)
        # Everything aiortp sends goes through these two transports' send (RTP, DTMF, RTCP, BYE).
        for transport, protect in ((self._rtp_transport, self._protect), (self._rtcp_transport, self._protect_rtcp)):
            transport.send = _protected(transport.send, protect)

    def _protect(self, packet: bytes) -> bytes | None:
        return self.srtp.protect(packet) if self.srtp is not None else None

    def _protect_rtcp(self, packet: bytes) -> bytes | None:
        return self.srtp.protect_rtcp(packet) if self.srtp is not None else None

    def _handle_rtp(self, data: bytes, addr) -> None:
        plain = self.srtp.unprotect(data) if self.srtp is not None else None
        if plain is not None:
            super()._handle_rtp(plain, addr)

    def _handle_rtcp(self, data: bytes, addr) -> None:
        plain = self.srtp.unprotect_rtcp(data) if self.srtp is not None else None
        if plain is not None:
            super()._handle_rtcp(plain, addr)


def _protected(send, protect):
    def secured(data: bytes, addr=None) -> None:
        packet = protect(data)
        if packet is not None:  # not keyed yet: nothing goes out in clear
            send(packet, addr)
    return secured


# -- SDP offer/answer (RFC 4568 §5, §7) ----------------------------------------------------------

def sdp_crypto(text: str) -> tuple[str, list[str]]:
    """(the audio's transport protocol, its crypto attributes) of an SDP."""
    audio = parse_sdp(text).audio
    if audio is None:
        return "RTP/AVP", []
    return audio.proto.upper(), list(audio.attributes.get("crypto", []))


def offer_profile(mode: str) -> str:
    """The m= protocol we offer: RTP/SAVP when SRTP is required; with SRTP optional, RTP/AVP
    carrying a key (best effort: a far end without SRTP ignores it, one with it answers a key)."""
    return "RTP/SAVP" if mode == "required" else "RTP/AVP"


def crypto_lines(crypto: Crypto | None) -> list[str]:
    return [f"a=crypto:{crypto.line()}"] if crypto is not None else []


def their_answer(mode: str, ours: Crypto | None, text: str) -> Crypto | None:
    """The far end's key in its answer to our offer (None: plain RTP, SRTP being optional);
    ValueError saying why the answer can't be taken."""
    if ours is None:
        return None
    proto, values = sdp_crypto(text)
    if not values:
        if mode == "required" or "SAVP" in proto:
            raise ValueError("the far end answered without an SRTP key (OTODESK_SIP_SRTP=required)")
        log.warning("the far end answered without SRTP: this call's audio is not encrypted")
        return None
    theirs = choose_crypto(values)
    if (theirs.tag, theirs.suite) != (ours.tag, ours.suite):
        raise ValueError(f"the far end answered crypto {theirs.tag} {theirs.suite}, which we did not offer")
    return theirs


def answer_offer(mode: str, text: str) -> tuple[Crypto | None, Crypto | None]:
    """(their key, our key) to answer an offer with; (None, None): plain RTP. ValueError (a 488)
    when the offer and ``mode`` can't agree."""
    proto, values = sdp_crypto(text)
    secure = "SAVP" in proto
    if mode == "off":
        if secure:
            raise ValueError("the offer asks for SRTP, which is off here (OTODESK_SIP_SRTP)")
        return None, None
    if not values:
        if mode == "required" or secure:
            raise ValueError("the offer carries no SRTP key (SRTP is required)" if not secure
                             else "the offer asks for SRTP without a key")
        return None, None
    try:
        theirs = choose_crypto(values)
    except ValueError as exc:
        if mode == "required" or secure:
            raise ValueError(f"no usable SRTP key offered: {exc}") from None
        log.warning("the offer's SRTP keys are unusable (%s): answering plain RTP", exc)
        return None, None
    return theirs, new_crypto(theirs.tag, theirs.suite)
