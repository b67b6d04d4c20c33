"""A call's voice_state events reach its rooms in the order its changes happened, even when
one publish is slow (a new Redis connection) and the next one is not."""

import asyncio
from dataclasses import dataclass, field

from desktop.rooms import agent_room, visitor_room
from desktop.settings import Settings
from desktop.voice.feature import VoiceFeature
from signaling.bus.memory import MemoryBus
from signaling.media.anchor import MediaAnchor


class FirstPublishSlow(MemoryBus):
    """The first publish to each room waits, as one waiting for a new pooled connection does."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    async def publish(self, room, event, *, keep=None):
        if room not in self._seen:
            self._seen.add(room)
            await asyncio.sleep(0.05)
        return await super().publish(room, event, keep=keep)


@dataclass
class _State:
    held: bool = False


@dataclass
class CallChanging:
    """What the feature reads of an anchored call when it changes."""

    id: str
    legs: dict = field(default_factory=dict)
    ended: bool = False
    phone: None = None
    recorder: None = None
    state: _State = field(default_factory=_State)

    def public(self):
        return {"callback_id": self.id, "state": "active", "held": False, "muted": [],
                "legs": dict(self.legs)}


async def test_a_slow_first_publish_does_not_leave_an_older_state_last():
    bus = FirstPublishSlow()
    feature = VoiceFeature(repo=None, bus=bus, router=None, settings=Settings(),
                           anchor=MediaAnchor(ice_servers=[]))
    feature._meta["cb1"] = {"agent_id": "alice", "visitor_id": "v1"}
    call = CallChanging("cb1", legs={"customer": "connected", "agent": "connecting"})
    feature._changed(call)
    call.legs["agent"] = "connected"
    feature._changed(call)
    await asyncio.gather(*feature._pending)

    for room in (agent_room("alice"), visitor_room("v1")):
        events = [event for _seq, event in await bus.replay(room, 0)]
        assert [event["call"]["legs"]["agent"] for event in events] == ["connecting", "connected"], room
