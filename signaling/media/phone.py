"""A phone leg: a SIP call (signaling/media/sip) standing in a call as the customer.

It looks to the call what a browser :class:`~signaling.media.anchor.Leg`
looks like: two outgoing slots whose ``push`` takes Opus packets, a state, a
``close``. Behind that, what is routed to it is decoded (:mod:`.transcode`)
and sent to the trunk as 8 kHz PCM; what the phone says (early media
included) is encoded to Opus once and routed as the customer's voice.

Towards the phone, a frame of the one voice it hears (the agent) goes out as
it is decoded: waiting for the mixer's 20 ms tick added 0-20 ms to each. The
mixer's clock still keeps the line: while two voices come (a barging
supervisor) or the waiting audio plays, it mixes a frame a tick from the
slots' queues; when nothing comes it sends silence, once the frames sent fall
a frame behind the clock (the RTP timestamps count frames, so the phone's
timeline stays the clock's: never more than a burst ahead, at most
:data:`LAG_FRAMES` behind).

An inbound caller waiting for an agent hears ``waiting`` (PCM frames, the
greeting then hold music: :mod:`signaling.media.waiting`) instead, until the
call stops it (:meth:`PhoneLeg.stop_waiting`) as the agent's leg connects.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from signaling.media.hearing import Role
from signaling.media.sip.trunk import FRAME_BYTES, IncomingPhoneCall, PhoneCall, PhoneEvent, PhoneState
from signaling.media.transcode import OpusToPcm, PcmToOpus

__all__ = ["PhoneLeg"]

SLOTS = 2
QUEUE_FRAMES = 6  # 120 ms at most waits for the mixer; older audio is dropped, never delayed
FRAME_SECONDS = 0.02
DRAIN_TICKS = 25  # a slot whose queue never fell under 2 frames for this many ticks (0.5 s) is drained
SOLO_AFTER = 0.1  # seconds without a frame from the other slot before a voice goes to the phone on arrival
LAG_FRAMES = 1  # frames the phone's timeline may fall behind the mixer's clock before silence fills it


class _Slot:
    """One outgoing slot of a phone leg: Opus in, 20 ms PCM frames queued for the mixer."""

    def __init__(self, leg: "PhoneLeg | None" = None):
        self._leg = leg
        self._decoder = OpusToPcm()
        self.frames: collections.deque[bytes] = collections.deque(maxlen=QUEUE_FRAMES)
        self._floor = QUEUE_FRAMES  # the fewest frames queued at a tick in this window
        self._ticks = 0
        self.heard_at = float("-inf")  # time.monotonic() of the last frame decoded

    def push(self, source: object, payload: bytes, rtp_timestamp: int) -> None:
        frames = self._decoder.decode(payload)
        if not frames:
            return
        self.heard_at = time.monotonic()
        if self._leg is not None and self._leg._solo(self):
            while self.frames:  # what the mixer still held goes first, in order
                self._leg._send(self.frames.popleft())
            for frame in frames:
                self._leg._send(frame)
        else:
            self.frames.extend(frames)

    def next(self) -> bytes | None:
        """The frame for this tick of the mixer, or None.

        Frames come at the mixer's own rate, so whatever queue a burst left (the
        first packets, a stall of this process) would stay as a standing delay
        of up to :data:`QUEUE_FRAMES` frames for the rest of the call. A queue
        that held 2 frames or more at every tick of a window (:data:`DRAIN_TICKS`)
        is not jitter: it is cut back to one frame, once, at the window's end.
        """
        frames = self.frames
        self._floor = min(self._floor, len(frames))
        self._ticks += 1
        if self._ticks >= DRAIN_TICKS:
            for _ in range(self._floor - 1):
                frames.popleft()
            self._floor, self._ticks = QUEUE_FRAMES, 0
        return frames.popleft() if frames else None

    def stop(self) -> None:
        self.frames.clear()


class PhoneLeg:
    """The customer's leg of ``call``, on ``phone``; :meth:`attach` before the phone's events come."""

    role = Role.CUSTOMER

    def __init__(self, call: Any, phone: PhoneCall):  # call: signaling.media.anchor.Call (imports this module)
        self.call = call
        self.phone = phone
        self.owner: str | None = "phone"  # never replaced by a browser's offer
        self.outs = [_Slot(self) for _ in range(SLOTS)]
        self.state = str(phone.state)
        self.stalled = False
        self.closed = False
        #: We ended the phone call (the agent hung up, the call was torn down) while it was still on:
        #: the desk must not say that the customer or the caller hung up.
        self.hung_up_by_us = False
        #: When an inbound caller's wait ended (time.monotonic()): their talk starts there, not at
        #: their arrival (the greeting and hold music are not talk).
        self.talking_since: float | None = None
        self.packets_in = 0
        self.last_packet = time.monotonic()
        self.browser: dict[str, Any] = {}
        #: The last :class:`PhoneEvent`: what the desk and the widget are told.
        self.event: PhoneEvent | None = None
        #: PCM frames the phone hears instead of the call while it waits for an agent (inbound).
        self.waiting: Iterator[bytes] | None = None
        self._encoder = PcmToOpus()
        self._rtp_timestamp = 0
        self._mixer: asyncio.Task | None = None
        self._sent = 0  # frames sent to the phone since the mixer's clock started

    @property
    def inbound(self) -> bool:
        """The phone called us (it was not dialled)."""
        return isinstance(self.phone, IncomingPhoneCall)

    @property
    def paused(self) -> bool:
        """The far end holds the call with nothing sent (``inactive``): silence is expected."""
        return self.phone.far_direction == "inactive"

    @property
    def public_state(self) -> str:
        return "closed" if self.closed else self.state

    def public(self) -> dict[str, Any]:
        event = self.event
        return {"number": self.phone.number, "state": str(self.phone.state),
                "inbound": self.inbound, "waiting": self.waiting is not None,
                "result": str(event.result) if event and event.result else None,
                "status": event.status if event else 0, "reason": event.reason if event else "",
                "early_media": bool(event and event.early_media),
                "held": bool(event and event.held and event.state == PhoneState.CONNECTED),
                "hung_up_by_us": self.hung_up_by_us}

    # -- the phone's side -------------------------------------------------------------------

    def on_event(self, phone: PhoneCall, event: PhoneEvent) -> None:
        self.event = event
        self.state = str(event.state)
        # A phone that rings without early media of its own: the agent hears a ringback meanwhile.
        ringback = event.state == PhoneState.RINGING and not event.early_media
        if not self.call.ended and self.call.state.ringback != ringback:
            self.call.update(ringback=ringback)
        if event.state == PhoneState.CONNECTED and self._mixer is None:
            self._mixer = asyncio.get_running_loop().create_task(self._mix(), name="phone-mixer")
        if event.state == PhoneState.ENDED:
            self._stop_mixer()
        self.call._leg_changed(self)

    def on_audio(self, pcm: bytes) -> None:
        self.packets_in += 1
        self.last_packet = time.monotonic()
        for payload in self._encoder.encode(pcm):
            self.call._route(Role.CUSTOMER, payload, self._rtp_timestamp, "phone")
            self._rtp_timestamp = (self._rtp_timestamp + 960) % (1 << 32)

    # -- towards the phone ---------------------------------------------------------------------

    def _solo(self, slot: _Slot) -> bool:
        """``slot``'s frames may go to the phone as they come: the mixer runs, no waiting audio, and
        the other slot has been silent for :data:`SOLO_AFTER` seconds with nothing queued."""
        if self._mixer is None or self.waiting is not None:
            return False
        quiet = time.monotonic() - SOLO_AFTER
        return all(other is slot or (not other.frames and other.heard_at < quiet) for other in self.outs)

    def _send(self, pcm: bytes) -> None:
        self.phone.send_audio(pcm)
        self._sent += 1

    async def _mix(self) -> None:
        loop = asyncio.get_running_loop()
        start, i = loop.time(), 0
        self._sent = 0
        silence = bytes(FRAME_BYTES)
        while True:
            frames = [frame for slot in self.outs if (frame := slot.next()) is not None]
            if self.waiting is not None:
                self._send(next(self.waiting))
            elif len(frames) == 1:
                self._send(frames[0])
            elif frames:
                mixed = np.sum([np.frombuffer(f, dtype=np.int16).astype(np.int32) for f in frames], axis=0)
                self._send(np.clip(mixed, -32768, 32767).astype(np.int16).tobytes())
            elif self._sent < i - LAG_FRAMES:
                self._send(silence)  # a phone line carries silence, not nothing
            i += 1
            await asyncio.sleep(max(0.0, start + i * FRAME_SECONDS - loop.time()))

    def _stop_mixer(self) -> None:
        if self._mixer is not None:
            self._mixer.cancel()
            self._mixer = None

    def stop_waiting(self) -> None:
        """An agent is on the line: the phone hears the call from now on."""
        self.waiting = None
        if self.talking_since is None:
            self.talking_since = time.monotonic()

    def send_dtmf(self, digit: str) -> None:
        self.phone.send_dtmf(digit)

    async def stats(self) -> dict[str, Any]:
        return {"role": str(self.role), "state": self.public_state, "rtt_ms": None, "jitter_ms": None,
                "loss": None, "loss_out": None, "packets_in": self.packets_in, "packets_lost": None, "browser": {},
                "phone": self.public()}

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.hung_up_by_us = self.phone.state != PhoneState.ENDED
        self._stop_mixer()
        for slot in self.outs:
            slot.stop()
        with contextlib.suppress(Exception):
            await self.phone.hangup()
