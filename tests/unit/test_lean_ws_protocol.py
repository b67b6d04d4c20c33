"""The lean stand-ins for uvicorn's receive queue and "writable" event (desktop/web/ws_protocol.py):
FIFO, a reader that waits until a frame comes, cancellation that loses nothing, several writers
waiting for the transport to drain. And the class still fits the uvicorn it is written against."""

from __future__ import annotations

import asyncio

import pytest

from desktop.web.ws_protocol import LeanFlag, LeanQueue, LeanWebSocketProtocol


async def test_the_queue_hands_frames_in_order_and_a_waiting_reader_gets_the_next():
    queue = LeanQueue()
    assert queue.empty() and queue.qsize() == 0
    queue.put_nowait({"n": 1})
    queue.put_nowait({"n": 2})
    assert queue.qsize() == 2
    assert [await queue.get(), await queue.get()] == [{"n": 1}, {"n": 2}]
    assert queue.empty() and queue._items is None  # nothing kept while idle
    reader = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not reader.done()
    queue.put_nowait({"n": 3})
    assert await asyncio.wait_for(reader, 1) == {"n": 3}


async def test_a_reader_cancelled_while_waiting_loses_no_frame():
    queue = LeanQueue()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)  # the hub's hello timeout does this
    queue.put_nowait("late")
    assert await asyncio.wait_for(queue.get(), 1) == "late"


async def test_the_flag_lets_every_waiting_writer_go_when_set_and_survives_one_cancelled():
    flag = LeanFlag(True)
    assert await asyncio.wait_for(flag.wait(), 1)
    flag.clear()
    first, second = asyncio.create_task(flag.wait()), asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    assert not second.done()
    flag.set()
    assert await asyncio.wait_for(second, 1) and flag.is_set()


def test_what_it_replaces_is_still_what_uvicorn_uses():
    # If uvicorn renames these, the lean parts would silently not be used (or break).
    import inspect

    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    source = inspect.getsource(WebSocketsSansIOProtocol)
    for used in ("self.queue.put_nowait(", "await self.queue.get()", "self.queue.empty()",
                 "await self.writable.wait()", "self.writable.set()", "self.writable.clear()",
                 "self.request = event", "self.response = self.conn.accept(event)"):
        assert used in source, used
    assert issubclass(LeanWebSocketProtocol, WebSocketsSansIOProtocol)


def test_the_request_the_parser_keeps_has_headers_that_can_be_emptied():
    # LeanWebSocketProtocol.send empties the handshake request's headers in place, because
    # websockets' ServerProtocol.parse keeps the request as a local of its suspended generator.
    import inspect

    from websockets.datastructures import Headers
    from websockets.server import ServerProtocol

    assert "request = yield from Request.parse(" in inspect.getsource(ServerProtocol.parse)
    headers = Headers({"host": "example.test", "cookie": "a=b"})
    headers.clear()
    assert list(headers.raw_items()) == [] and headers.get("host") is None


def test_offered_extensions_are_read_while_answering_the_handshake_only():
    # LeanWebSocketProtocol.send drops conn.available_extensions once the handshake is answered.
    import inspect

    import websockets.protocol
    import websockets.server

    assert "available_extensions" not in inspect.getsource(websockets.protocol)
    server = inspect.getsource(websockets.server)
    uses = [line for line in server.splitlines() if "self.available_extensions" in line]
    assert len(uses) == 3, uses  # set in __init__, read twice in process_extensions
    assert "available_extensions" in inspect.getsource(websockets.server.ServerProtocol.process_extensions)
