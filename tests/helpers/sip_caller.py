"""Someone phoning the contact centre: the stack's own UAC (a second trunk) as the provider's side.

``async with Caller() as caller`` binds a SIP port on 127.0.0.1 (``caller.uri``
is what our trunk takes for its proxy: INVITEs must come from there);
``await caller.call(trunk_port, "+4420...")`` places a call into our trunk,
presenting ``from_number``; the caller's microphone plays ``tone_hz`` once
answered and what it hears is kept (``recent()`` for
:func:`~tests.helpers.sip_peer.dominant_hz`); ``press("1")`` sends keys (RFC 4733).
"""

from __future__ import annotations

import asyncio
import socket

from signaling.media.sip import CallResult, PhoneState, TrunkConfig, open_trunk
from tests.helpers.sip_peer import tone_frames

__all__ = ["Caller", "free_udp_port", "trunk_env"]


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def trunk_env(far_port: int, our_port: int, *, credentials: bool = True, register: bool = False) -> dict[str, str]:
    """A server's settings for a SIP trunk whose proxy (the test's far end: tests/helpers/sip_peer.py,
    sipp, baresip or a :class:`Caller`) is 127.0.0.1:``far_port``, ours 127.0.0.1:``our_port``;
    with ``credentials`` the ones sip_peer's digest challenge expects; registering only if asked."""
    env = {"OTODESK_SIP_URI": f"sip:127.0.0.1:{far_port}", "OTODESK_SIP_LOCAL_HOST": "127.0.0.1",
           "OTODESK_SIP_LOCAL_PORT": str(our_port), "OTODESK_SIP_CALLER_ID": "+441632960000"}
    if credentials:
        env |= {"OTODESK_SIP_USERNAME": "otodesk", "OTODESK_SIP_PASSWORD": "s3cret"}
    if not register:
        env["OTODESK_SIP_REGISTER_EXPIRES"] = "0"
    return env


class Caller:
    def __init__(self, *, from_number: str = "+447700900123", tone_hz: int = 440, host: str = "127.0.0.1",
                 port: int = 0):
        self.from_number = from_number
        self.tone = tone_frames(tone_hz)
        self.host = host
        self.port = port or free_udp_port(host)
        self.trunk = None
        self.call = None
        self.events: list = []
        self.heard = bytearray()
        self.changed = asyncio.Event()
        self._mic: asyncio.Task | None = None

    @property
    def uri(self) -> str:
        return f"sip:{self.host}:{self.port}"

    async def __aenter__(self) -> "Caller":
        return self

    async def __aexit__(self, *exc) -> None:
        if self._mic is not None:
            self._mic.cancel()
        if self.trunk is not None:
            await self.trunk.aclose()

    async def dial(self, port: int, number: str, *, host: str = "127.0.0.1", ring_timeout: float = 10.0):
        """Call ``number`` at our trunk (``host:port``); returns the call (DIALLING)."""
        self.trunk = open_trunk(TrunkConfig(uri=f"sip:{host}:{port}", caller_id=self.from_number,
                                            local_host=self.host, local_port=self.port, register_expires=0),
                                rtp_ports=(50000, 55000))  # apart from the server's and the far end's
        await self.trunk.start()
        self.call = await self.trunk.dial(number, ring_timeout=ring_timeout, on_event=self._event,
                                          on_audio=self.heard.extend)
        return self.call

    def _event(self, call, event) -> None:
        self.events.append(event)
        self.changed.set()
        if event.state == PhoneState.CONNECTED:
            self._mic = asyncio.get_running_loop().create_task(self._talk(call))
        elif event.state == PhoneState.ENDED and self._mic is not None:
            self._mic.cancel()

    async def _talk(self, call) -> None:
        loop = asyncio.get_running_loop()
        start, i = loop.time(), 0
        while True:
            call.send_audio(self.tone[i % len(self.tone)])
            i += 1
            await asyncio.sleep(max(0.0, start + i * 0.02 - loop.time()))

    async def until(self, state: PhoneState, timeout: float = 5.0):
        async def seen():
            while not any(e.state == state for e in self.events):
                self.changed.clear()
                await self.changed.wait()
            return next(e for e in self.events if e.state == state)
        return await asyncio.wait_for(seen(), timeout)

    def press(self, digits: str) -> None:
        """Press keys on the phone: RFC 4733 telephone-events, as a handset's keypad sends them."""
        self.call.send_dtmf(digits)

    async def hangup(self) -> CallResult | None:
        """The caller hangs up (BYE once answered)."""
        await self.call.hangup()
        return self.call.result

    def recent(self, seconds: float = 0.5) -> bytes:
        return bytes(self.heard[-int(seconds * 8000) * 2:])
