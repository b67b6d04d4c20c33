"""Voice signaling between processes: one claims a call, the other's requests reach it (MemoryBus)."""

import asyncio

import pytest

from desktop.voice.bus import VoiceBus
from signaling.bus import open_bus
from signaling.protocol import ProtocolError


async def test_the_first_claims_the_other_asks_over_the_bus():
    async with open_bus(None) as bus:
        served = []

        async def anchor_side(callback_id, request):
            served.append((callback_id, request["op"], request.get("role")))
            if request.get("role") == "stranger":
                raise ProtocolError("not_found", "no such call of yours")
            return {"sdp": f"answer for {request['role']}"}

        async def never(callback_id, request):
            raise AssertionError("process b anchors nothing")

        a, b = VoiceBus(bus, "a", anchor_side), VoiceBus(bus, "b", never)
        try:
            assert await a.claim("cb1")
            assert await a.claim("cb1")  # idempotent for the anchor
            assert not await b.claim("cb1")
            assert await b.request("cb1", "offer", role="agent", sdp="v=0") == {"sdp": "answer for agent"}
            with pytest.raises(ProtocolError) as refused:
                await b.request("cb1", "offer", role="stranger", sdp="v=0")
            assert refused.value.code == "not_found"
            await b.notify("cb1", "owner_gone", owner="b:1")
            await asyncio.sleep(0.05)
            assert served[-1] == ("cb1", "owner_gone", None)
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_request_published_before_the_anchor_listens_is_answered():
    async with open_bus(None) as bus:
        async def anchor_side(callback_id, request):
            return {"ok": request["n"]}

        a, b = VoiceBus(bus, "a", anchor_side), VoiceBus(bus, "b", anchor_side)
        try:
            early = asyncio.create_task(b.request("cb2", "control", n=7))
            await asyncio.sleep(0.05)  # published; nobody serves the room yet
            assert await a.claim("cb2")
            assert await asyncio.wait_for(early, 2) == {"ok": 7}
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_dead_anchors_claim_lapses_and_an_adopter_ignores_its_old_requests(monkeypatch):
    import desktop.voice.bus as voice_bus

    # Short, but long enough that a loaded machine's stall doesn't lapse a live claim.
    monkeypatch.setattr(voice_bus, "CLAIM_LEASE", 1.0)
    async with open_bus(None) as bus:
        served = []

        async def record(callback_id, request):
            served.append(request["n"])
            return {}

        a, b = VoiceBus(bus, "a", record), VoiceBus(bus, "b", record)
        try:
            assert await a.claim("cb3")
            assert await b.request("cb3", "control", n=1) == {}
            await asyncio.sleep(1.5)
            assert not await b.claim("cb3", adopt=True)  # a renews its claim while it lives
            # a dies: nothing renews, nothing is released (kill -9).
            for task in [*a._serving.values(), a._renewing]:
                task.cancel()
            a._serving.clear()
            await asyncio.sleep(1.2)
            assert await b.claim("cb3", adopt=True)
            assert await b.request("cb3", "control", n=2) == {}
            assert served == [1, 2]  # request 1 (a's, answered) is not run again
        finally:
            await a.aclose()
            await b.aclose()
