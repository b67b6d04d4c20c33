"""The phone leg's mixer slot: a standing queue left by a burst is drained, jitter is not."""

from __future__ import annotations

from signaling.media.phone import DRAIN_TICKS, _Slot


def frames(start: int, count: int) -> list[bytes]:
    return [n.to_bytes(2, "big") * 160 for n in range(start, start + count)]


def test_a_burst_at_the_start_does_not_stay_as_delay_for_the_call():
    slot = _Slot()
    slot.frames.extend(frames(0, 5))  # the first packets came in a burst: 4 frames more than a tick takes
    out, queued = [], []
    for tick in range(3 * DRAIN_TICKS):
        slot.frames.extend(frames(5 + tick, 1))  # then one every 20 ms, as the mixer ticks
        queued.append(len(slot.frames))
        out.append(slot.next())
    assert min(queued[:DRAIN_TICKS]) == 6  # 100 ms behind, at every tick of the first window
    assert max(queued[DRAIN_TICKS + 1:]) == 1  # then each frame goes out at the tick after it came
    assert None not in out and len(set(out)) == len(out)  # nothing played twice, no gap made


def test_jitter_is_not_drained():
    slot = _Slot()
    sent = frames(0, 2 * DRAIN_TICKS)
    out = []
    for tick in range(2 * DRAIN_TICKS):
        if tick % 2:  # packets in pairs every 40 ms: the queue falls to 0 every other tick
            slot.frames.extend(sent[tick - 1:tick + 1])
        frame = slot.next()
        if frame is not None:
            out.append(frame)
    out += [slot.next() for _ in range(len(slot.frames))]
    assert out == sent  # every frame played, in order
