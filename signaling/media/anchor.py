"""The media anchor: one server-side RTCPeerConnection per participant of a call.

A :class:`Call` (keyed by its callback id) has up to three :class:`Leg` s:
customer, agent, supervisor. Each leg's peer receives its browser's
microphone on the first audio m-line and sends two audio slots back
(:data:`~signaling.media.hearing.MAIN`, :data:`~signaling.media.hearing.EXTRA`).
Received packets are tapped before aiortc's jitter buffer
(:mod:`~signaling.media.tap`) and pushed, still encoded, into the slots
:func:`~signaling.media.hearing.who_hears` names for the call's state. Nothing
is decoded or re-encoded on the way.

Signaling is non-trickle: the browser sends a complete offer (it waited for
ICE gathering), :meth:`MediaAnchor.offer` answers with a complete answer.

Lifetimes: ``async with MediaAnchor(...) as anchor``; closing it closes every
peer. :meth:`MediaAnchor.end` ends one call; a leg whose socket went away
(``owner_gone``) stays until the same participant offers again (a reload)
or the call ends.

A leg that drops mid-call: aiortc 1.16 can't do an ICE restart (it has no
``iceRestart`` and ignores new ICE credentials on an open connection), so the
browser makes a fresh RTCPeerConnection and offers again with ``reconnect``;
:meth:`MediaAnchor.offer` swaps that leg in place (the call, its start, its
recording and the other legs go on). aiortc itself only notices a dead leg
after ~30 s of failed consent checks, so :meth:`MediaAnchor.check_stalls`
marks a connected leg ``reconnecting`` after :data:`STALL_SECONDS` without a
packet (browsers send 50 a second, silence included), and the other party is
told at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc import sdp as aiortc_sdp
from aiortc.rtp import RtpPacket
from aioice.ice import get_host_addresses

from signaling.media.candidates import CandidatePolicy, filter_offer
from signaling.media.errors import AtCapacity, BadOffer, InvalidCallState, LegTaken, NoSuchCall
from signaling.media.forward import ForwardTrack
from signaling.media.hearing import MAIN, CallState, Mode, Role, Source, who_hears
from signaling.media.phone import PhoneLeg
from signaling.media.sip.trunk import IncomingPhoneCall, PhoneState, Trunk
from signaling.media.tap import tap_receiver
from signaling.media.tones import TonePlayer, hold_tone, ringback_tone

__all__ = ["MediaAnchor", "Call", "Leg", "consent_state", "ice_servers_from_config"]

log = logging.getLogger(__name__)

MAX_SDP_BYTES = 32 * 1024
SLOTS = 2
STALL_SECONDS = 2.5  # a connected leg silent this long (no packet at all) is "reconnecting"


def ice_servers_from_config(servers: list[dict[str, Any]]) -> list[RTCIceServer]:
    """``[{"urls": ..., "username"?: ..., "credential"?: ...}]`` (the browser's shape) for aiortc."""
    return [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in servers]


def consent_state(answer: bool | None) -> str:
    """``Call.consent`` of a call that asks: "asked" until the customer answers, then "given" or "refused"."""
    return "asked" if answer is None else "given" if answer else "refused"


def _opus_only() -> list:
    return [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == "audio/opus"]


def _check_offer(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise BadOffer("the offer has no SDP")
    if len(text) > MAX_SDP_BYTES:
        raise BadOffer(f"the offer's SDP is larger than {MAX_SDP_BYTES} bytes")
    if not text.startswith("v=0"):
        raise BadOffer("the offer's SDP must start with v=0")
    try:
        parsed = aiortc_sdp.SessionDescription.parse(text)
    except Exception as exc:  # the parser raises many kinds on garbage
        raise BadOffer(f"the offer's SDP can't be parsed: {exc}") from None
    kinds = [m.kind for m in parsed.media]
    if not kinds:
        raise BadOffer("the offer has no media")
    if any(kind != "audio" for kind in kinds):
        raise BadOffer("voice calls carry audio only")
    if len(kinds) > SLOTS:
        raise BadOffer(f"at most {SLOTS} audio m-lines (your microphone, then an extra voice)")
    if not all(any(c.mimeType.lower() == "audio/opus" for c in m.rtp.codecs) for m in parsed.media):
        raise BadOffer("every audio m-line must offer Opus")


class Leg:
    """One participant's peer connection and its two outgoing slots."""

    def __init__(self, call: "Call", role: Role, *, owner: str | None, ice_servers: list[RTCIceServer]):
        self.call = call
        self.role = role
        self.owner = owner
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=list(ice_servers)))
        self.outs = [ForwardTrack() for _ in range(SLOTS)]
        self.state = "new"
        self.packets_in = 0
        self.closed = False
        self.last_packet = time.monotonic()
        self.stalled = False
        #: The browser's own report (``voice_stats``): rtt_ms, jitter_ms, loss, concealed_ms.
        self.browser: dict[str, Any] = {}

        @self.pc.on("connectionstatechange")
        async def _changed() -> None:
            self.state = self.pc.connectionState
            self.last_packet = time.monotonic()  # the stall clock starts when it connects
            self.call._leg_changed(self)

    @property
    def public_state(self) -> str:
        """aiortc's connection state, or "reconnecting" while packets have stopped."""
        return "reconnecting" if self.stalled and self.state == "connected" else self.state

    async def answer(self, offer: str) -> str:
        _check_offer(offer)
        offer = self.call.anchor.filter_candidates(offer)
        opus = _opus_only()
        count = len(aiortc_sdp.SessionDescription.parse(offer).media)
        # Transceivers made before the offer is applied take it in order, with
        # our codec preference (Opus only: what the taps forward is Opus).
        for slot in range(count):
            transceiver = self.pc.addTransceiver(self.outs[slot], direction="sendrecv")
            transceiver.setCodecPreferences(opus)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        except Exception as exc:
            raise BadOffer(f"the offer can't be used: {exc}") from None
        transceivers = self.pc.getTransceivers()
        tap_receiver(transceivers[MAIN].receiver, self._received)
        for transceiver in transceivers[1:]:
            tap_receiver(transceiver.receiver, lambda packet: None)  # nothing expected; never decode
        try:
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as exc:
            raise BadOffer(f"no answer fits this offer: {exc}") from None
        return self.pc.localDescription.sdp

    def _received(self, packet: RtpPacket) -> None:
        self.packets_in += 1
        self.last_packet = time.monotonic()
        if self.stalled:
            self.stalled = False
            self.call._leg_changed(self)
        self.call._route(self.role, packet.payload, packet.timestamp, packet.ssrc)

    async def stats(self) -> dict[str, Any]:
        """Round-trip time (ms), jitter (ms) and loss (share 0..1) of this leg, as aiortc sees it;
        ``packets_lost``: what the browser sent that never came, since the leg began."""
        rtt = loss_out = jitter_in = None
        received = lost = 0
        with contextlib.suppress(Exception):
            report = await self.pc.getStats()
            for stat in report.values():
                if stat.type == "remote-inbound-rtp" and stat.roundTripTime is not None:
                    # The browser's receiver report on what we send it.
                    rtt = max(rtt or 0.0, stat.roundTripTime * 1000)
                    loss_out = max(loss_out or 0.0, (stat.fractionLost or 0) / 256)
                elif stat.type == "inbound-rtp" and stat.packetsReceived:
                    received += stat.packetsReceived
                    lost += max(0, stat.packetsLost or 0)
                    # aiortc reports jitter in RTP timestamp units (48 kHz for Opus).
                    jitter_in = max(jitter_in or 0.0, (stat.jitter or 0) * 1000 / 48000)
        loss_in = lost / (received + lost) if received + lost else None
        return {"role": str(self.role), "state": self.public_state, "rtt_ms": _round(rtt),
                "jitter_ms": _round(jitter_in), "loss": _round(loss_in, 4), "loss_out": _round(loss_out, 4),
                "packets_in": self.packets_in, "packets_lost": lost if received + lost else None,
                "browser": dict(self.browser)}

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for track in self.outs:
            track.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class Call:
    """One anchored call: its legs, its state, and the routes that follow from it."""

    def __init__(self, call_id: str, anchor: "MediaAnchor", *, recording: bool = False):
        self.id = call_id
        self.anchor = anchor
        self.legs: dict[Role, Leg] = {}
        self.state = CallState(recording=recording)
        self.started_at = time.time()
        self.ended = False
        self.recorder: Any = None  # something with write(slot, payload, rtp_timestamp)
        #: Recording with the customer's consent: None (not asked), "asked", "given", "refused".
        self.consent: str | None = None
        self._routes = who_hears(self.state)
        self._hold = TonePlayer(hold_tone(), self._hold_packet)
        self._ringback = TonePlayer(ringback_tone(),
                                    lambda payload, ts: self._route(Source.RINGBACK, payload, ts, "ringback"))
        #: The customer's leg when it is a phone (kept after the call ends: its result is told).
        self.phone: PhoneLeg | None = None
        #: An inbound call of a recorded queue: recorded from the agent's arrival.
        self.record_on_answer = False

    # -- routing ------------------------------------------------------------------------

    def _route(self, source: str, payload: bytes, rtp_timestamp: int, stream: object = None) -> None:
        for destination, slot in self._routes.get(source, ()):
            if destination == Source.RECORDER:
                if self.recorder is not None:
                    self.recorder.write(slot, payload, rtp_timestamp)
                continue
            leg = self.legs.get(destination)  # type: ignore[call-overload]
            if leg is not None:
                leg.outs[slot].push((source, stream), payload, rtp_timestamp)

    def _hold_packet(self, payload: bytes, rtp_timestamp: int) -> None:
        self._route(Source.HOLD, payload, rtp_timestamp, "hold")

    def update(self, **changes: Any) -> CallState:
        """Change the call's state (``muted``, ``held``, ``supervisor``, ``recording``); routes follow."""
        if self.ended:
            raise InvalidCallState("the call has ended")
        self.state = dataclasses.replace(self.state, **changes)
        self._routes = who_hears(self.state)
        if self.state.held:
            self._hold.start()
        else:
            self._hold.stop()
        if self.state.ringback:
            self._ringback.start()
        else:
            self._ringback.stop()
        self.anchor._changed(self)
        return self.state

    def answer_consent(self, given: bool) -> CallState:
        """The customer's answer to "may we record?": recording starts now, or never."""
        if self.consent is None:
            raise InvalidCallState("recording consent was not asked on this call")
        self.consent = "given" if given else "refused"
        if given and self.recorder is None and self.anchor.recorder is not None:
            self.recorder = self.anchor.recorder(self.id)
        return self.update(recording=given and self.recorder is not None)

    def dtmf(self, digits: str) -> None:
        """Send ``digits`` to the phone (RFC 4733); only on a phone call that has answered."""
        if self.phone is None or self.phone.closed:
            raise InvalidCallState("DTMF goes to a phone: this call has none")
        if self.phone.phone.state != PhoneState.CONNECTED:
            raise InvalidCallState(f"the phone has not answered (it is {self.phone.phone.state})")
        self.phone.send_dtmf(digits)

    def mute(self, role: Role, muted: bool) -> CallState:
        muted_set = set(self.state.muted)
        (muted_set.add if muted else muted_set.discard)(role)
        return self.update(muted=frozenset(muted_set))

    def _leg_changed(self, leg: Leg) -> None:
        if self.legs.get(leg.role) is not leg:
            return
        if leg.role == Role.AGENT and leg.state == "connected" and self.phone is not None \
                and self.phone.waiting is not None:
            self._agent_arrived()
        self.anchor._changed(self)

    def _agent_arrived(self) -> None:
        """An inbound caller's wait is over: the greeting / hold music stops, the agent is heard
        (and the recording starts now, not with the hold music)."""
        self.phone.stop_waiting()
        if self.record_on_answer and self.recorder is None and self.anchor.recorder is not None:
            self.recorder = self.anchor.recorder(self.id)
            self.state = dataclasses.replace(self.state, recording=True)
            self._routes = who_hears(self.state)

    def public(self) -> dict[str, Any]:
        """What browsers are told about the call (``voice_state``)."""
        return {
            "callback_id": self.id,
            "state": "ended" if self.ended else "held" if self.state.held else "active",
            "started_at": self.started_at,
            "muted": sorted(str(role) for role in self.state.muted),
            "held": self.state.held,
            "supervisor": str(self.state.supervisor) if self.state.supervisor else None,
            "recording": self.state.recording,
            "consent": self.consent,
            "legs": {str(role): leg.public_state for role, leg in self.legs.items()},
            "phone": self.phone.public() if self.phone is not None else None,
        }

    async def stats(self) -> list[dict[str, Any]]:
        return [await leg.stats() for leg in list(self.legs.values())]

    async def close(self) -> None:
        self.ended = True
        self._hold.stop()
        self._ringback.stop()
        if self.recorder is not None:
            self.recorder.close()
        legs, self.legs = list(self.legs.values()), {}
        await asyncio.gather(*(leg.close() for leg in legs), return_exceptions=True)


class MediaAnchor:
    """Every call anchored on this process.

    ``on_change(call)`` is called (synchronously; schedule your own I/O) when a
    call's state or one of its legs' connection state changes, and once when it ends.
    """

    def __init__(self, *, ice_servers: list[RTCIceServer] | None = None, max_calls: int = 100,
                 on_change: Callable[[Call], None] | None = None,
                 recorder: Callable[[str], Any] | None = None,
                 candidates: CandidatePolicy = CandidatePolicy(),
                 own_addresses: Callable[[], Iterable[str]] = lambda: get_host_addresses(True, True)):
        self.ice_servers = list(ice_servers or [])  # never None: None means aiortc's public STUN
        #: Where the anchor may send connectivity checks (signaling/media/candidates.py);
        #: ``own_addresses()`` lists this host's addresses, read at each offer.
        self.candidates = candidates
        self.own_addresses = own_addresses
        self.max_calls = max_calls
        self.on_change = on_change
        #: ``recorder(call_id)`` makes the recorder of a recorded call (``write``, ``close``).
        self.recorder = recorder
        self.calls: dict[str, Call] = {}
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> "MediaAnchor":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def filter_candidates(self, offer: str) -> str:
        """The offer without candidates the policy refuses; BadOffer when none is left."""
        kept, refused = filter_offer(offer, self.candidates, self.own_addresses())
        if refused:
            log.warning("voice offer: refused remote candidates %s", ", ".join(refused))
            if "a=candidate:" not in kept:
                raise BadOffer("none of the offer's ICE candidates is an address this server may "
                               "send to (loopback, link-local, its own, or a private network not allowed)")
        return kept

    def call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise NoSuchCall("no live voice call for that callback")
        return call

    async def offer(self, call_id: str, role: Role, sdp: str, *, owner: str | None,
                    mode: Mode | None = None, recording: bool = False, consent: bool = False,
                    consented: bool | None = None, reconnect: bool = False) -> str:
        """Answer ``role``'s offer for ``call_id``, creating the call if needed; returns the answer SDP.

        A call created with ``consent`` asks the customer, unless ``consented``
        carries the answer they already gave (to an anchor that died): then it
        records, or not, from the start and is never asked again.

        A new offer replaces ``role``'s leg when that leg's socket went away (a
        reload), when the leg is dead or stalled, or when it is a ``reconnect``
        from the same socket; the call goes on. Raises BadOffer (nothing else is
        disturbed), LegTaken when that role already has a live leg otherwise,
        AtCapacity for a new call beyond ``max_calls``.
        """
        _check_offer(sdp)
        async with self._lock:  # two offers for one call at once must not both create it
            call = self.calls.get(call_id)
            if call is None:
                if len(self.calls) >= self.max_calls:
                    raise AtCapacity(f"this server carries {self.max_calls} calls at most; try again shortly")
                asks = consent and not recording and self.recorder is not None
                records = self.recorder is not None and (recording or (asks and consented is True))
                call = Call(call_id, self, recording=records)
                if records:
                    call.recorder = self.recorder(call_id)  # appends: a moved call goes on in the same log
                if asks:
                    call.consent = consent_state(consented)
                self.calls[call_id] = call
                created = True
            else:
                created = False
            previous = call.legs.get(role)
            replaceable = previous is None or previous.owner is None or previous.stalled \
                or previous.state in ("failed", "closed") or (reconnect and previous.owner == owner)
            if not replaceable:
                raise LegTaken(f"the {role} of this call is already connected; hang up first")
            leg = Leg(call, role, owner=owner, ice_servers=self.ice_servers)
        try:
            answer = await leg.answer(sdp)
        except BaseException:
            await leg.close()
            if created and not call.legs:
                self.calls.pop(call_id, None)
            raise
        if previous is not None:
            await previous.close()
        call.legs[role] = leg
        if role == Role.SUPERVISOR:
            call.update(supervisor=mode or Mode.LISTEN)
        else:
            self._changed(call)
        return answer

    async def dial(self, call_id: str, number: str, *, trunk: Trunk, ring_timeout: float,
                   recording: bool = False) -> Call:
        """Call ``number`` on ``trunk`` as the customer's leg of ``call_id`` (created if needed).

        The agent's leg joins as usual (:meth:`offer`), before or after; it hears
        the phone from its first early media. When the phone call ends (hung up,
        busy, no answer, failed) the whole call ends: ``call.phone`` keeps its
        result. Raises AtCapacity for a new call beyond ``max_calls``,
        LegTaken when the call already has a customer, TrunkError from the trunk.
        """
        async with self._lock:
            call = self.calls.get(call_id)
            created = call is None
            if created:
                if len(self.calls) >= self.max_calls:
                    raise AtCapacity(f"this server carries {self.max_calls} calls at most; try again shortly")
                call = Call(call_id, self, recording=recording and self.recorder is not None)
                if call.state.recording:
                    call.recorder = self.recorder(call_id)
                self.calls[call_id] = call
            elif Role.CUSTOMER in call.legs:
                raise LegTaken("this call already has its customer")
            try:
                phone = await trunk.dial(number, ring_timeout=ring_timeout)
            except BaseException:
                if created:
                    self.calls.pop(call_id, None)
                raise
            leg = PhoneLeg(call, phone)
            phone.on_event = self._phone_event(leg)
            phone.on_audio = leg.on_audio
            call.phone = leg
            call.legs[Role.CUSTOMER] = leg  # type: ignore[assignment]
        self._changed(call)
        return call

    async def take_phone(self, call_id: str, phone: IncomingPhoneCall, *, waiting: Iterator[bytes] | None = None,
                         recording: bool = False) -> Call:
        """An inbound ``phone`` call as the customer's leg of a new call ``call_id``; answer the
        phone after this. It hears ``waiting`` (PCM frames: a greeting, hold music) until an
        agent's leg connects (:meth:`offer`), then the call, recorded from then on if
        ``recording``. When the phone hangs up the call ends, as for :meth:`dial`.
        Raises AtCapacity beyond ``max_calls``, LegTaken if ``call_id`` is live.
        """
        async with self._lock:
            if call_id in self.calls:
                raise LegTaken("this call already has its customer")
            if len(self.calls) >= self.max_calls:
                raise AtCapacity(f"this server carries {self.max_calls} calls at most; try again shortly")
            call = Call(call_id, self)
            call.record_on_answer = recording
            leg = PhoneLeg(call, phone)
            leg.waiting = waiting
            phone.on_event = self._phone_event(leg)
            phone.on_audio = leg.on_audio
            call.phone = leg
            call.legs[Role.CUSTOMER] = leg  # type: ignore[assignment]
            self.calls[call_id] = call
        self._changed(call)
        return call

    def _phone_event(self, leg: PhoneLeg):
        def on_event(phone, event) -> None:
            leg.on_event(phone, event)
            if event.state == PhoneState.ENDED and not leg.call.ended:
                # The phone is gone (or never answered): the agent's leg ends with it.
                asyncio.get_running_loop().create_task(self.end(leg.call.id))
        return on_event

    def check_stalls(self, now: float | None = None) -> None:
        """Mark connected legs that stopped sending ``reconnecting`` (call it every second or so)."""
        now = time.monotonic() if now is None else now
        for call in list(self.calls.values()):
            for leg in list(call.legs.values()):
                # A phone the far end holds (inactive) sends nothing: quiet, not lost.
                paused = getattr(leg, "paused", False)
                stalled = leg.state == "connected" and not paused and now - leg.last_packet > STALL_SECONDS
                if stalled and not leg.stalled:
                    leg.stalled = True
                    call._leg_changed(leg)

    def owner_gone(self, owner: str) -> None:
        """The socket ``owner`` closed: its legs may be replaced by a new offer (a reload)."""
        for call in self.calls.values():
            for leg in call.legs.values():
                if leg.owner == owner:
                    leg.owner = None

    async def leave(self, call_id: str, role: Role) -> None:
        """One participant (a supervisor) leaves; the call goes on."""
        call = self.call(call_id)
        leg = call.legs.pop(role, None)
        if role == Role.SUPERVISOR and not call.ended:
            call.update(supervisor=None)
        if leg is not None:
            await leg.close()

    async def end(self, call_id: str) -> Call | None:
        """End a call: every leg closes. Returns the call, or None if it wasn't live here."""
        call = self.calls.pop(call_id, None)
        if call is None:
            return None
        await call.close()
        self._changed(call)
        return call

    def _changed(self, call: Call) -> None:
        if self.on_change is not None:
            try:
                self.on_change(call)
            except Exception:
                log.exception("voice on_change failed")

    async def aclose(self) -> None:
        for call_id in list(self.calls):
            await self.end(call_id)
