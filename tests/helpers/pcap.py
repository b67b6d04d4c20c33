"""Pcaps of RTP for sipp's play_pcap_audio: a G.711 tone, 20 ms a packet, or a key press (RFC 4733),
paced by the capture times.

sipp replays the RTP payloads of the captured UDP packets to the call's media
address at the captured pace; the addresses in the file don't matter.
"""

from __future__ import annotations

import struct
from pathlib import Path

from aiortp import get_codec

from tests.helpers.sip_peer import tone_frames

__all__ = ["write_tone_pcap", "write_dtmf_pcap"]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def _write(path: Path, packets: list[tuple[float, bytes]]) -> Path:
    """(capture time, RTP packet) pairs as UDP in IPv4 in Ethernet, in a pcap file."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet link type
    for n, (at, rtp) in enumerate(packets):
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        out += struct.pack("<IIII", int(at), int((at % 1) * 1e6), len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path


def write_dtmf_pcap(path: Path, digit: int, *, payload_type: int = 101) -> Path:
    """A key press as RFC 4733 telephone-events: one event (one RTP timestamp), 160 ms of
    updates every 20 ms (the first marked), then its end three times."""
    packets = []
    for n in range(11):
        step = min(n + 1, 8)
        end = 0x80 if n >= 8 else 0
        event = struct.pack("!BBH", digit, end | 10, step * 160)
        packets.append((min(n, 8) * 0.02, struct.pack("!BBHII", 0x80, payload_type | (0x80 if n == 0 else 0),
                                                       n, 8000, 0xD7F) + event))
    return _write(path, packets)


def write_tone_pcap(path: Path, hz: int, *, seconds: float = 4.0, payload_type: int = 0) -> Path:
    """``seconds`` of a sine of ``hz`` as PCMU (0) or PCMA (8) RTP in a pcap file."""
    codec = get_codec(payload_type)
    frames = tone_frames(hz)
    return _write(path, [(n * 0.02, struct.pack("!BBHII", 0x80, payload_type, n & 0xFFFF, n * 160, 0x5EED)
                          + codec.encode(frames[n % len(frames)])) for n in range(int(seconds * 50))])
