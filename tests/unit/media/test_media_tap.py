"""The private-API tap against the installed aiortc: packets out undecoded, statistics intact."""

import asyncio

from aiortc import RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RtpPacket

from signaling.media.tap import is_tapped, tap_receiver
from signaling.media.tones import hold_tone

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


class FakeTransport:
    """What RTCRtpReceiver needs of an RTCDtlsTransport here."""

    _stats_id = "transport"
    state = "new"

    def __init__(self):
        self.sent = []

    def _register_rtp_receiver(self, receiver, parameters):
        pass

    def _unregister_rtp_receiver(self, receiver):
        pass

    def _get_stats(self):
        from aiortc.stats import RTCStatsReport
        return RTCStatsReport()

    async def _send_rtp(self, data):
        self.sent.append(data)


def make_receiver() -> RTCRtpReceiver:
    receiver = RTCRtpReceiver("audio", FakeTransport())
    receiver._track = RemoteStreamTrack(kind="audio")  # as setRemoteDescription does
    return receiver


async def test_tapped_receiver_passes_packets_on_and_never_decodes():
    receiver = make_receiver()
    got = []
    tap = tap_receiver(receiver, got.append)
    assert is_tapped(receiver)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[OPUS]))
    try:
        opus = hold_tone()
        for seq in range(20):
            packet = RtpPacket(payload_type=111, sequence_number=seq, timestamp=seq * 960, ssrc=1234)
            packet.payload = opus[seq]
            await receiver._handle_rtp_packet(packet, arrival_time_ms=seq * 20)
        assert [p.payload for p in got] == list(opus[:20])  # undecoded, in order, at once
        assert tap.packets == 20
        await asyncio.sleep(0.05)
        assert receiver.track._queue.empty()  # nothing decoded: an unread track can't grow
        stats = [s for s in (await receiver.getStats()).values() if s.type == "inbound-rtp"]
        assert stats[0].packetsReceived == 20 and stats[0].packetsLost == 0
    finally:
        await receiver.stop()


async def test_packets_of_an_unknown_payload_type_are_not_forwarded():
    receiver = make_receiver()
    got = []
    tap_receiver(receiver, got.append)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[OPUS]))
    try:
        packet = RtpPacket(payload_type=0, sequence_number=1, timestamp=0, ssrc=1)
        packet.payload = b"\xff" * 160
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        assert got == []
    finally:
        await receiver.stop()
