"""ReplyBox (signaling/bus/replies.py) on the MemoryBus: answers reach the right request."""

import asyncio

import pytest

from signaling.bus import ReplyBox, error_reply, ok_reply, open_bus
from signaling.bus.base import DEFAULT_BUFFER
from signaling.protocol import ProtocolError

ROOM = "reply:p1"


def box_on(bus) -> ReplyBox:
    return ReplyBox(bus, ROOM, id_prefix="p1.", timeout_code="not_ready", timeout_message="nobody answered")


async def test_each_answer_goes_to_the_request_with_its_id():
    async with open_bus(None) as bus, box_on(bus) as box:
        sent: dict[str, asyncio.Future[str]] = {"first": asyncio.Future(), "second": asyncio.Future()}

        def sender(name: str):
            async def send(rid: str) -> None:
                sent[name].set_result(rid)
            return send

        first = asyncio.create_task(box.ask(sender("first"), timeout=2))
        second = asyncio.create_task(box.ask(sender("second"), timeout=2))
        first_rid, second_rid = await sent["first"], await sent["second"]
        assert first_rid != second_rid and first_rid.startswith("p1.")
        # Answered in the other order, and one answer for nobody in between.
        await bus.publish(ROOM, ok_reply(second_rid, {"n": 2}))
        await bus.publish(ROOM, ok_reply("someone-else.1", {"n": 0}))
        await bus.publish(ROOM, ok_reply(first_rid, {"n": 1}))
        assert await first == {"n": 1}
        assert await second == {"n": 2}


async def test_an_answer_sent_before_send_returns_is_not_lost():
    async with open_bus(None) as bus, box_on(bus) as box:
        async def answered_at_once(rid: str) -> None:
            await bus.publish(ROOM, ok_reply(rid, None))

        assert await box.ask(answered_at_once, timeout=2) == {}


async def test_a_failed_answer_raises_its_code():
    async with open_bus(None) as bus, box_on(bus) as box:
        async def refused(rid: str) -> None:
            await bus.publish(ROOM, error_reply(rid, "not_found", "no such callback"))

        with pytest.raises(ProtocolError) as raised:
            await box.ask(refused, timeout=2)
        assert (raised.value.code, raised.value.message) == ("not_found", "no such callback")


async def test_no_answer_in_time_raises_the_boxes_own_error():
    async with open_bus(None) as bus, box_on(bus) as box:
        async def unanswered(rid: str) -> None:
            pass

        with pytest.raises(ProtocolError) as raised:
            await box.ask(unanswered, timeout=0.05)
        assert (raised.value.code, raised.value.message) == ("not_ready", "nobody answered")
        assert not box._pending  # the given-up request leaves nothing behind


async def test_a_lagged_subscription_is_resubscribed():
    async with open_bus(None) as bus, box_on(bus) as box:
        rids: asyncio.Queue[str] = asyncio.Queue()
        waiting = asyncio.create_task(box.ask(rids.put, timeout=2))
        rid = await rids.get()
        # More unread events than the subscription buffers: it lags and its backlog is dropped.
        for n in range(DEFAULT_BUFFER + 1):
            await bus.publish(ROOM, ok_reply(f"noise.{n}", None))
        await asyncio.sleep(0.05)  # the box notices and subscribes again
        await bus.publish(ROOM, ok_reply(rid, {"after": "lag"}))
        assert await waiting == {"after": "lag"}


async def test_closing_cancels_requests_still_waiting():
    async with open_bus(None) as bus:
        box = box_on(bus)
        rids: asyncio.Queue[str] = asyncio.Queue()
        waiting = asyncio.create_task(box.ask(rids.put, timeout=2))
        await rids.get()
        await box.aclose()
        with pytest.raises(asyncio.CancelledError):
            await waiting
