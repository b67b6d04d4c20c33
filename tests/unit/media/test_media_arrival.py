"""A trunk's RTP handed on as it arrives (signaling/media/sip/arrival.py), against the installed aiortp."""

from __future__ import annotations

import struct

from aiortp import RTPSession, get_codec

from signaling.media.sip.arrival import MAX_CONCEALED, ArrivalBuffer, deliver_on_arrival
from tests.helpers.sip_peer import tone_frames


def rtp(sequence: int, payload_type: int = 0) -> bytes:
    payload = get_codec(0).encode(tone_frames(440)[sequence % 50])
    return struct.pack("!BBHII", 0x80, payload_type, sequence & 0xFFFF, sequence * 160, 0x5EED) + payload


async def session(arrival: bool) -> tuple[RTPSession, list[bytes]]:
    rtp_session = await RTPSession.create(("127.0.0.1", 0), ("127.0.0.1", 9), 0, jitter_prefetch=1, plc=True)
    heard: list[bytes] = []
    rtp_session.on_audio = lambda pcm, timestamp: heard.append(pcm)
    if arrival:
        deliver_on_arrival(rtp_session)
    return rtp_session, heard


async def test_aiortps_own_buffer_holds_a_packet_until_the_next_one():
    """Why the stand-in exists: with aiortp's jitter buffer a packet is decoded only once the next has come."""
    rtp_session, heard = await session(arrival=False)
    try:
        rtp_session._handle_rtp(rtp(1), ("127.0.0.1", 9))
        assert heard == []
        rtp_session._handle_rtp(rtp(2), ("127.0.0.1", 9))
        assert len(heard) == 1
    finally:
        await rtp_session.close()


async def test_each_packet_is_decoded_as_it_arrives():
    rtp_session, heard = await session(arrival=True)
    try:
        for n in range(1, 4):
            rtp_session._handle_rtp(rtp(n), ("127.0.0.1", 9))
            assert len(heard) == n and len(heard[-1]) == 320  # one 20 ms frame of 8 kHz PCM, at once
    finally:
        await rtp_session.close()


async def test_a_lost_packet_is_concealed_before_the_next_frame_and_late_ones_are_dropped():
    rtp_session, heard = await session(arrival=True)
    try:
        for n in (1, 2, 4, 3, 4, 5):  # 3 comes after 4: too late; 4 twice: a duplicate
            rtp_session._handle_rtp(rtp(n), ("127.0.0.1", 9))
        assert len(heard) == 5 and sum(map(len, heard)) == 5 * 320  # 1, 2, concealed 3, 4, 5
    finally:
        await rtp_session.close()


def test_the_buffer_counts_gaps_up_to_a_bound_and_starts_afresh_after_a_jump():
    class Packet:
        def __init__(self, n):
            self.sequence_number, self.timestamp, self.payload = n & 0xFFFF, n * 160, b"x"

    buffer = ArrivalBuffer()
    assert buffer.add(Packet(65534))[1].lost == 0
    assert buffer.add(Packet(65537))[1].lost == 2          # across the wrap: 65535 and 0 lost
    assert buffer.add(Packet(65537 + MAX_CONCEALED + 2))[1].lost == 0  # a jump: a new start
    buffer.mark_non_media(65537 + MAX_CONCEALED + 3)        # a DTMF packet takes its number
    assert buffer.add(Packet(65537 + MAX_CONCEALED + 4))[1].lost == 0
    buffer.reset()
    assert buffer.add(Packet(7))[1].lost == 0
