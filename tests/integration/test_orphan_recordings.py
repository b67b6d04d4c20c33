"""A recording whose process died mid-call is finished by another process (or the restarted one)."""

from __future__ import annotations

import asyncio
import os
import time

from desktop.repository import Repository
from desktop.routing.events import (
    AgentState,
    AgentStateChanged,
    CallbackConnected,
    CallbackEnded,
    CallbackQueued,
    CallbackState,
    OfferEnded,
    OfferMade,
    OfferOutcome,
)
from desktop.voice.records import ABANDONED_MIX_AGE, ORPHAN_AGE, CallRecords
from tests.helpers.voice_bots import goertzel_power
from signaling.media.recorder import PacketRecorder, read_audio
from signaling.media.tones import encode_tone

T0 = time.time() - 3600


async def _connected_call(repo: Repository, agent_id: str, callback_id: str) -> None:
    visitor = await repo.touch_visitor(f"v-{callback_id}", T0)
    await repo.create_callback(id=callback_id, visitor_id=visitor.id,
                               customer_id=visitor.customer_id, queue="sales", name="Olive Orphan", topic="",
                               message="", channel="browser", phone=None, tier="standard", scheduled_at=None, now=T0)
    offer = f"o-{callback_id}"
    await repo.record_routing([CallbackQueued(callback_id, "sales", T0),
                               OfferMade(offer, callback_id, agent_id, T0 + 1, T0 + 21),
                               AgentStateChanged(agent_id, AgentState.RESERVED, "", T0 + 1)])
    await repo.record_routing([OfferEnded(offer, callback_id, agent_id, OfferOutcome.ACCEPTED, T0 + 2),
                               CallbackConnected(callback_id, agent_id, offer, T0 + 2),
                               AgentStateChanged(agent_id, AgentState.BUSY, "", T0 + 2)])


def _left_behind(recordings, callback_id: str, *, age: float) -> None:
    """The packet log a process killed mid-call leaves: 2 s of a 440 Hz voice, untouched for ``age`` s."""
    tone = encode_tone(440)
    recorder = PacketRecorder(recordings / f"{callback_id}.packets", clock=lambda: T0 + 2)
    for i in range(100):
        recorder.write(0, tone[i], 1000 + i * 960)
    recorder.close()
    then = time.time() - age
    os.utime(recordings / f"{callback_id}.packets", (then, then))


async def test_an_ended_calls_left_behind_recording_is_mixed_once_and_put_on_the_timeline(repo: Repository, tmp_path):
    agent = await repo.add_agent("olga", "pw", display_name="Olga", skills=["sales"])
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for callback_id in ("ended", "live", "fresh", "here"):
        await _connected_call(repo, agent.id, callback_id)
        _left_behind(recordings, callback_id, age=5 if callback_id == "fresh" else ORPHAN_AGE + 60)
    # The customer hung up while nobody anchored the call: it ended without its anchor.
    await repo.record_routing([CallbackEnded("ended", CallbackState.COMPLETED, agent.id, T0 + 60)])
    for callback_id in ("fresh", "here"):
        await repo.record_routing([CallbackEnded(callback_id, CallbackState.COMPLETED, agent.id, T0 + 60)])
    _left_behind(recordings, "nobodys", age=ORPHAN_AGE + 60)  # its callback is gone (erased)
    # A log whose mixing process died mid-mix: taken again once it is clearly abandoned.
    await _connected_call(repo, agent.id, "stuck")
    await repo.record_routing([CallbackEnded("stuck", CallbackState.COMPLETED, agent.id, T0 + 60)])
    _left_behind(recordings, "stuck", age=ABANDONED_MIX_AGE + 60)
    (recordings / "stuck.packets").rename(recordings / "stuck.a1b2c3d4.mixing")

    # Two processes sharing var/ look at once: the log is finished exactly once.
    records = [CallRecords(repo), CallRecords(repo)]
    done = await asyncio.gather(*(r.finish_orphans(recordings, anchored=lambda call_id: call_id == "here")
                                  for r in records))
    assert sum(done) == 2

    for callback_id in ("ended", "stuck"):
        samples = read_audio(recordings / f"{callback_id}.ogg")
        assert goertzel_power(samples[24000:72000], 440) > 1e4
    ended = await repo.get_callback("ended")
    timeline = await repo.customer_timeline(ended.customer_id, limit=50)
    [event] = [e for e in timeline.events if e.kind == "call_recording"]
    assert event.callback_id == "ended" and event.data["url"] == "/voice/recordings/ended.ogg"
    assert 1.9 < event.data["seconds"] < 2.2 and event.at == ended.answered_at

    # Still connected (may be taken over), still being written, or anchored here: left alone.
    # Nobody's (erased): deleted, not mixed.
    left = sorted(p.name for p in recordings.iterdir())
    assert left == ["ended.ogg", "fresh.packets", "here.packets", "live.packets", "stuck.ogg"], left
