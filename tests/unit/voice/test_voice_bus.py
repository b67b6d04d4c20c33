"""Voice signaling between processes: one claims a call, the other's requests reach it (MemoryBus)."""

import asyncio
import time

import pytest

from desktop.voice.bus import VoiceBus
from desktop.voice.requests import Control, Offer, OwnerGone
from signaling.bus import open_bus
from signaling.protocol import ProtocolError


async def test_the_first_claims_the_other_asks_over_the_bus():
    async with open_bus(None) as bus:
        served = []

        async def anchor_side(callback_id, request):
            served.append((callback_id, type(request).__name__, getattr(request, "role", None)))
            if getattr(request, "role", None) == "stranger":
                raise ProtocolError("not_found", "no such call of yours")
            return {"sdp": f"answer for {request.role}"}

        async def never(callback_id, request):
            raise AssertionError("process b anchors nothing")

        a, b = VoiceBus(bus, "a", anchor_side), VoiceBus(bus, "b", never)
        try:
            assert await a.claim("cb1")
            assert await a.claim("cb1")  # idempotent for the anchor
            assert not await b.claim("cb1")
            assert await b.request("cb1", Offer(role="agent", sdp="v=0")) == {"sdp": "answer for agent"}
            with pytest.raises(ProtocolError) as refused:
                await b.request("cb1", Offer(role="stranger", sdp="v=0"))
            assert refused.value.code == "not_found"
            await b.notify("cb1", OwnerGone(owner="b:1"))
            await asyncio.sleep(0.05)
            assert served[-1] == ("cb1", "OwnerGone", None)
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_request_published_before_the_anchor_listens_is_answered():
    async with open_bus(None) as bus:
        async def anchor_side(callback_id, request):
            return {"ok": request.action}

        a, b = VoiceBus(bus, "a", anchor_side), VoiceBus(bus, "b", anchor_side)
        try:
            early = asyncio.create_task(b.request("cb2", Control(role="agent", action="mute")))
            await asyncio.sleep(0.05)  # published; nobody serves the room yet
            assert await a.claim("cb2")
            assert await asyncio.wait_for(early, 2) == {"ok": "mute"}
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
            served.append(request.action)
            return {}

        a, b = VoiceBus(bus, "a", record), VoiceBus(bus, "b", record)
        try:
            assert await a.claim("cb3")
            assert await b.request("cb3", Control(role="agent", action="mute")) == {}
            await asyncio.sleep(1.5)
            assert not await b.claim("cb3", adopt=True)  # a renews its claim while it lives
            # a dies: nothing renews, nothing is released (kill -9).
            for task in [*a._serving.values(), a._renewing]:
                task.cancel()
            a._serving.clear()
            await asyncio.sleep(1.2)
            assert await b.claim("cb3", adopt=True)
            assert await b.request("cb3", Control(role="agent", action="unmute")) == {}
            assert served == ["mute", "unmute"]  # the first (a's, answered) is not run again
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_request_the_anchor_cant_read_is_refused_not_run():
    async with open_bus(None) as bus:
        served = []

        async def anchor_side(callback_id, request):
            served.append(request)
            return {}

        a = VoiceBus(bus, "a", anchor_side)
        try:
            assert await a.claim("cb4")
            replies = bus.subscribe("voice-reply:b")
            async with replies as subscription:
                await bus.publish("voice:cb4", {"op": "control", "rid": "r1", "reply_to": "b",
                                                "at": time.time(), "role": "agent", "acton": "mute"})
                _seq, reply = await asyncio.wait_for(anext(aiter(subscription)), 2)
            assert reply["ok"] is False and reply["code"] == "bad_message" and "acton" in reply["message"]
            assert served == []
        finally:
            await a.aclose()


async def test_a_claim_lapsed_in_a_stall_is_taken_back_while_the_call_is_here(monkeypatch):
    """An event loop stalled past the lease (a process over its capacity): the next renewal claims the
    call again, so no other process adopts a call this one still carries. It once only warned."""
    import desktop.voice.bus as voice_bus

    monkeypatch.setattr(voice_bus, "CLAIM_LEASE", 1.0)
    async with open_bus(None) as bus:
        lost, served = [], []

        async def on_lost(callback_id):
            lost.append(callback_id)

        async def record(callback_id, request):
            served.append(request.action)
            return {}

        a, b = VoiceBus(bus, "a", record, on_lost=on_lost), VoiceBus(bus, "b", record)
        try:
            assert await a.claim("cb4")
            time.sleep(1.3)  # a's loop stalls: the lease runs out before its next renewal
            await asyncio.sleep(0.5)  # the renewal comes late, finds the claim gone, takes it back
            assert not await b.claim("cb4", adopt=True)
            assert await b.request("cb4", Control(role="agent", action="mute")) == {}
            assert served == ["mute"] and lost == []
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_claim_another_process_took_in_a_stall_ends_the_call_here(monkeypatch):
    """The stalled process's claim was taken (adopted) before its renewal came: it stops serving the
    call's room and ends its side (``on_lost``); the call is anchored in one place only."""
    import desktop.voice.bus as voice_bus

    monkeypatch.setattr(voice_bus, "CLAIM_LEASE", 1.0)
    async with open_bus(None) as bus:
        lost, served = [], []

        async def on_lost(callback_id):
            lost.append(callback_id)

        def serving(name):
            async def record(callback_id, request):
                served.append((name, request.action))
                return {}
            return record

        a = VoiceBus(bus, "a", serving("a"), on_lost=on_lost)
        b, c = VoiceBus(bus, "b", serving("b")), VoiceBus(bus, "c", serving("c"))
        try:
            assert await a.claim("cb5")
            time.sleep(1.3)  # a stalls past its lease...
            assert await b.claim("cb5", adopt=True)  # ...and b adopts the call before a's renewal runs
            await asyncio.sleep(0.5)
            assert lost == ["cb5"]
            assert await c.request("cb5", Control(role="agent", action="mute")) == {}
            await asyncio.sleep(0.1)
            assert served == [("b", "mute")]  # a no longer answers for it
        finally:
            await a.aclose()
            await b.aclose()
            await c.aclose()


async def test_a_request_counts_as_being_answered_until_its_reply_is_sent():
    """A stopping process drains until no request is being answered: a hang-up ends the call
    before its reply is sent, and closing the bus then lost the reply (the agent's Hang up timed out)."""
    async with open_bus(None) as bus:
        handling, go_on = asyncio.Event(), asyncio.Event()

        async def anchor_side(callback_id, request):
            handling.set()
            await go_on.wait()
            return {}

        async def never(callback_id, request):
            raise AssertionError("process b anchors nothing")

        a, b = VoiceBus(bus, "a", anchor_side), VoiceBus(bus, "b", never)
        try:
            assert await a.claim("cb1")
            asked = asyncio.create_task(b.request("cb1", Control(role="agent", action="hangup")))
            await asyncio.wait_for(handling.wait(), 2)
            assert a.answering == 1
            go_on.set()
            assert await asyncio.wait_for(asked, 2) == {}
            assert a.answering == 0
        finally:
            await a.aclose()
            await b.aclose()
