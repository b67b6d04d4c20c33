"""Calls into the SIP trunk (aiosipua's UAS) from the stack's own UAC, on 127.0.0.1 (Tier 1).

The caller (tests/helpers/sip_caller.py) plays 440 Hz; our side answers and
plays 660 Hz; each names what it hears by FFT. A number the handler refuses
gets its status; calls beyond ``max_calls`` get 503 inbound and a REFUSED
call outbound (nothing sent); an INVITE from anywhere but the trunk's proxy
gets 403. Debian's sipp phones in too (tests/sipp/call_in.xml).
"""

from __future__ import annotations

import asyncio
import time


from signaling.media.sip.arrival import ArrivalBuffer
from signaling.media.sip import CallResult, PhoneState, TrunkConfig, open_trunk
from tests.helpers.pcap import write_tone_pcap
from tests.helpers.sip_caller import Caller, free_udp_port
from tests.helpers.sip_peer import tone_frames
from tests.helpers.sipp import Sipp
from tests.integration.test_sip_trunk import hears

NUMBER = "+442079460500"


def ours(caller: Caller, port: int, **changes) -> TrunkConfig:
    return TrunkConfig(**{"uri": caller.uri, "local_host": "127.0.0.1", "local_port": port, "register_expires": 0,
                          **changes})


class Answering:
    """on_incoming: answer (playing 660 Hz), or refuse with ``refuse`` = (status, reason)."""

    def __init__(self, refuse: tuple[int, str] | None = None):
        self.refuse = refuse
        self.calls = []
        self.events = []
        self.heard = bytearray()
        self.tasks = set()

    def __call__(self, call) -> None:
        self.calls.append(call)
        if self.refuse:
            call.reject(*self.refuse)
            return
        call.on_event = lambda c, e: self.events.append(e)
        call.on_audio = self.heard.extend
        task = asyncio.get_running_loop().create_task(self._answer(call))
        self.tasks.add(task)

    async def _answer(self, call) -> None:
        await call.answer()
        frames = tone_frames(660)
        loop = asyncio.get_running_loop()
        start, i = loop.time(), 0
        while call.state == PhoneState.CONNECTED:
            call.send_audio(frames[i % len(frames)])
            i += 1
            await asyncio.sleep(max(0.0, start + i * 0.02 - loop.time()))

    def recent(self, seconds: float = 0.5) -> bytes:
        return bytes(self.heard[-int(seconds * 8000) * 2:])


async def test_a_call_is_answered_both_hear_each_other_and_the_caller_hangs_up():
    port = free_udp_port()
    async with Caller(from_number="+447700900123") as caller, open_trunk(ours(caller, port)) as trunk:
        handler = trunk.on_incoming = Answering()
        await caller.dial(port, NUMBER)
        answered = await caller.until(PhoneState.CONNECTED)
        assert answered.status == 200
        [call] = handler.calls
        assert (call.caller, call.called) == ("+447700900123", NUMBER)
        assert trunk.live_calls == 1
        assert isinstance(call.rtp._jitter_buffer, ArrivalBuffer)  # packets decoded as they arrive
        assert isinstance(caller.call.rtp._jitter_buffer, ArrivalBuffer)
        await hears(caller, 660)   # ours reaches the caller
        await hears(handler, 440)  # the caller's reaches us
        began = time.monotonic()
        await caller.hangup()
        for _ in range(100):
            if call.state == PhoneState.ENDED:
                break
            await asyncio.sleep(0.02)
        assert time.monotonic() - began < 2.0
        assert call.result == CallResult.COMPLETED and handler.events[-1].reason == "the caller hung up"
        assert trunk.live_calls == 0


async def test_our_hangup_reaches_the_caller():
    port = free_udp_port()
    async with Caller() as caller, open_trunk(ours(caller, port)) as trunk:
        handler = trunk.on_incoming = Answering()
        await caller.dial(port, NUMBER)
        await caller.until(PhoneState.CONNECTED)
        await handler.calls[0].hangup()
        ended = await caller.until(PhoneState.ENDED, timeout=2)
        assert ended.result == CallResult.COMPLETED


async def test_a_number_the_handler_refuses_gets_that_status():
    port = free_udp_port()
    async with Caller() as caller, open_trunk(ours(caller, port)) as trunk:
        trunk.on_incoming = Answering(refuse=(404, "Not Found"))
        await caller.dial(port, "+442079460999")
        ended = await caller.until(PhoneState.ENDED)
        assert ended.status == 404 and ended.result == CallResult.REJECTED
        assert trunk.live_calls == 0 and not trunk._uas._calls


async def test_without_a_handler_calls_are_refused_480():
    port = free_udp_port()
    async with Caller() as caller, open_trunk(ours(caller, port)):
        await caller.dial(port, NUMBER)
        ended = await caller.until(PhoneState.ENDED)
        assert ended.status == 480


async def test_beyond_max_calls_inbound_gets_503_and_outbound_is_refused_undialled():
    port = free_udp_port()
    async with Caller() as first, Caller() as second, \
            open_trunk(ours(first, port, max_calls=1)) as trunk:
        handler = trunk.on_incoming = Answering()
        await first.dial(port, NUMBER)
        await first.until(PhoneState.CONNECTED)
        await second.dial(port, NUMBER)  # from 127.0.0.1 too: the proxy's address
        refused = await second.until(PhoneState.ENDED)
        assert refused.status == 503 and refused.result == CallResult.FAILED
        assert len(handler.calls) == 1

        events = []
        call = await trunk.dial("+15550300", ring_timeout=5, on_event=lambda c, e: events.append(e))
        await asyncio.sleep(0.05)
        assert call.result == CallResult.REFUSED and events[-1].result == CallResult.REFUSED
        assert "at most" in events[-1].reason

        await first.hangup()  # room again
        for _ in range(100):
            if trunk.live_calls == 0:
                break
            await asyncio.sleep(0.02)
        async with Caller() as third:
            await third.dial(port, NUMBER)
            await third.until(PhoneState.CONNECTED)
            await third.hangup()


async def test_an_invite_from_elsewhere_than_the_proxy_is_forbidden():
    port = free_udp_port()
    async with Caller() as proxy, Caller(host="127.0.0.2") as stranger, open_trunk(ours(proxy, port)) as trunk:
        handler = trunk.on_incoming = Answering()
        await stranger.dial(port, NUMBER)
        ended = await stranger.until(PhoneState.ENDED)
        assert ended.status == 403 and handler.calls == []


async def test_sipp_phones_in_plays_a_tone_and_hangs_up(tmp_path):
    """Debian's sipp as the caller (tests/sipp/call_in.xml): our 200 is ACKed, its pcap tone reaches us,
    its BYE ends the call; sipp exits 0 only if every answer was what it expected."""
    tone = write_tone_pcap(tmp_path / "tone.pcap", 440, seconds=1.5)
    port = free_udp_port()
    caller = Sipp("call_in.xml", tmp_path, calls=f"127.0.0.1:{port}", number=NUMBER, TONE=str(tone))
    config = TrunkConfig(uri=caller.uri, local_host="127.0.0.1", local_port=port, register_expires=0)
    async with open_trunk(config) as trunk:
        handler = trunk.on_incoming = Answering()
        async with caller:
            await hears(handler, 440, timeout=5)
            await caller.finished()
        [call] = handler.calls
        assert (call.caller, call.called) == ("+447700900555", NUMBER)
        assert call.result == CallResult.COMPLETED
