"""A pcap of G.711 RTP for sipp's play_pcap_audio: a tone, 20 ms a packet, paced by the capture times.

sipp replays the RTP payloads of the captured UDP packets to the call's media
address at the captured pace; the addresses in the file don't matter.
"""

from __future__ import annotations

import struct
from pathlib import Path

from aiortp import get_codec

from tests.helpers.sip_peer import tone_frames

__all__ = ["write_tone_pcap"]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def write_tone_pcap(path: Path, hz: int, *, seconds: float = 4.0, payload_type: int = 0) -> Path:
    """``seconds`` of a sine of ``hz`` as PCMU (0) or PCMA (8) RTP in a pcap file."""
    codec = get_codec(payload_type)
    frames = tone_frames(hz)
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet link type
    for n in range(int(seconds * 50)):
        payload = codec.encode(frames[n % len(frames)])
        rtp = struct.pack("!BBHII", 0x80, payload_type, n & 0xFFFF, n * 160, 0x5EED) + payload
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        at = n * 0.02
        out += struct.pack("<IIII", int(at), int((at % 1) * 1e6), len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path
