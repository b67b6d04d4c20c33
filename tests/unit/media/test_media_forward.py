"""ForwardTrack: encoded packets out in order, timestamps continuous across sources, bounded."""

import asyncio

import pytest

from signaling.media.forward import FRAME_SAMPLES, ForwardTrack


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


async def drain(track, n):
    return [await asyncio.wait_for(track.recv(), 1) for _ in range(n)]


async def test_one_source_keeps_its_spacing_including_gaps():
    clock = Clock()
    track = ForwardTrack(clock=clock)
    for i, ts in enumerate([1000, 1960, 2920, 2920 + 5 * 960]):  # a 4-frame gap (DTX)
        clock.now += 0.02
        track.push("a", bytes([i + 1]), ts)
    packets = await drain(track, 4)
    assert [p.pts for p in packets] == [0, 960, 1920, 1920 + 5 * 960]
    assert bytes(packets[2]) == b"\x03"


async def test_a_new_source_is_placed_by_the_wall_clock():
    clock = Clock()
    track = ForwardTrack(clock=clock)
    track.push("a", b"x", 5000)
    clock.now += 0.5  # half a second later another voice starts
    track.push("b", b"y", 123456789)
    clock.now += 0.02
    track.push("b", b"z", 123456789 + 960)
    assert [p.pts for p in await drain(track, 3)] == [0, 25 * FRAME_SAMPLES, 26 * FRAME_SAMPLES]


async def test_rtp_timestamp_wraparound_within_a_source():
    track = ForwardTrack(clock=Clock())
    track.push("a", b"x", (1 << 32) - 480)
    track.push("a", b"y", 480)
    assert [p.pts for p in await drain(track, 2)] == [0, 960]


async def test_bounded_queue_drops_the_oldest():
    track = ForwardTrack(queue_size=3, clock=Clock())
    for i in range(5):
        track.push("a", bytes([i]), i * 960)
    assert track.dropped == 2
    assert [bytes(p) for p in await drain(track, 3)] == [b"\x02", b"\x03", b"\x04"]


async def test_stop_ends_a_waiting_recv():
    from aiortc.mediastreams import MediaStreamError
    track = ForwardTrack()
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, 1)
