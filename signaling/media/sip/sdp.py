"""The SDP of the trunk's calls: G.711 and RFC 4733 offered, the far end's answer read.

:func:`offer_sdp` our offer (our codecs in order, telephone-event 101, a
crypto line and RTP/SAVP or RTP/AVP when SRTP is on: :mod:`.srtp`);
:func:`media_of` what an answer (or a far end's offer) gives us: where to
send RTP, the codec, its telephone-event type.
"""

from __future__ import annotations

from aiosipua import parse_sdp

from signaling.media.sip.srtp import Crypto, crypto_lines

__all__ = ["PAYLOAD_TYPES", "DTMF_PAYLOAD_TYPE", "offer_sdp", "media_of"]

PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8}
DTMF_PAYLOAD_TYPE = 101


def offer_sdp(address: str, port: int, codecs: tuple[str, ...], session: int, crypto: Crypto | None = None,
           profile: str = "RTP/AVP") -> str:
    pts = [PAYLOAD_TYPES[c.upper()] for c in codecs]
    lines = ["v=0", f"o=otodesk {session} 1 IN IP4 {address}", "s=otodesk",
             f"c=IN IP4 {address}", "t=0 0",
             f"m=audio {port} {profile} {' '.join(map(str, pts))} {DTMF_PAYLOAD_TYPE}", *crypto_lines(crypto)]
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
