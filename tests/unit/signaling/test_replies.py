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


async def test_a_request_cancelled_on_any_turn_around_its_answer_ends_cancelled():
    """A cancel landing as the answer comes is not dropped (``asyncio.wait_for`` on Python 3.11
    returned the answer instead): a handler cancelled then would carry on."""
    async with open_bus(None) as bus, box_on(bus) as box:
        lost = []
        for turns in range(8):
            asked: asyncio.Future[str] = asyncio.get_running_loop().create_future()

            async def send(rid: str) -> None:
                asked.set_result(rid)

            task = asyncio.create_task(box.ask(send, timeout=2))
            await bus.publish(ROOM, ok_reply(await asked, {"n": 1}))
            for _ in range(turns):
                await asyncio.sleep(0)
            if task.done():
                break
            task.cancel()
            await asyncio.wait([task], timeout=2)
            if not task.cancelled():
                lost.append(turns)
        assert lost == [], f"cancels lost on loop turns {lost}"
