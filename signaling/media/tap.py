"""Encoded packets out of an aiortc receiver: the only use of aiortc's private API.

aiortc 1.16 (pinned in pyproject.toml) has no public way to read the encoded
packets a peer receives: every RTP packet passes
``RTCRtpReceiver._handle_rtp_packet`` (bitrate estimate, RTCP statistics,
NACKs, depayloading) and is then added to the receiver's jitter buffer, whose
complete frames go to a decoder thread. :func:`tap_receiver` swaps that
jitter buffer (the name-mangled ``_RTCRtpReceiver__jitter_buffer``) for a
:class:`PacketTap` that hands each depayloaded packet to a callback and never
returns a frame, so:

- RTCP receiver reports (loss, jitter, the sender's RTT) and ``getStats`` keep
  working, as the public code path before the jitter buffer is untouched;
- nothing is buffered (no 4-frame prefetch: packets leave as they arrive) and
  nothing is decoded; the remote track's queue stays empty, so an unread
  remote track can't grow.

``tests/unit/test_voice_tap.py`` checks these facts against the installed
aiortc, so an upgrade that moves the attribute fails there first.
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket

__all__ = ["PacketTap", "tap_receiver", "is_tapped"]

_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"


class PacketTap:
    """Stands in for the receiver's jitter buffer: ``add`` passes packets on."""

    def __init__(self, sink: Callable[[RtpPacket], None]):
        self.sink = sink
        self.packets = 0

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        # (pli_flag, encoded_frame): never a frame, so the decoder thread idles.
        if packet.payload:
            self.packets += 1
            self.sink(packet)
        return False, None


def tap_receiver(receiver: RTCRtpReceiver, sink: Callable[[RtpPacket], None]) -> PacketTap:
    """Send every RTP packet ``receiver`` gets to ``sink(packet)``, undecoded.

    ``packet.payload`` is the codec payload (an Opus packet), ``packet.timestamp``
    the sender's RTP timestamp, ``packet.ssrc`` its stream. ``sink`` runs on the
    event loop, synchronously: it must not block. Call before the connection
    starts (right after ``setRemoteDescription``). Raises ``RuntimeError`` if
    this aiortc has no such attribute (an unsupported version).
    """
    if not hasattr(receiver, _ATTRIBUTE):
        raise RuntimeError("this aiortc version has no RTCRtpReceiver jitter buffer to tap; "
                           "otodesk pins aiortc==1.16.0")
    tap = PacketTap(sink)
    setattr(receiver, _ATTRIBUTE, tap)
    return tap


def is_tapped(receiver: RTCRtpReceiver) -> bool:
    return isinstance(getattr(receiver, _ATTRIBUTE, None), PacketTap)
