"""Voice on the hub's sockets: who may offer, control and join which call.

:class:`VoiceFeature` plugs into the customer, agent and supervisor handlers
(``desktop/sockets/`` features). It checks every message against the
callback in the repository (a customer only for their own connected
"browser" callback, an agent only for the contact they hold, a supervisor
only for a call already live), then drives the process's
:class:`~signaling.media.anchor.MediaAnchor`. Call state changes go out as
``voice_state`` events to the agent's room, the customer's room and the wall.

A call's peers all live on one process, the first to get an offer for it;
sockets on other processes reach it over the bus (``desktop/voice/bus.py``).
If that process dies, a process with a socket on the call claims it once the
dead one's lease runs out (``desktop/voice/adoption.py``), tells
both parties their legs are reconnecting, and anchors the call from the
browsers' next offers (their legs dropped with the process; they remake
them, ``reconnect``); the call's talk time counts from the answer. The
customer's answer to "may we record?" outlives the process: it is a
``recording_consent`` event on their timeline, read back when a call is
rebuilt, so they are not asked again and a consented recording goes on.

A call ends when either party hangs up (the contact goes to wrap-up, as the
agent's End does), and the anchor also drops any call whose callback is no
longer connected (checked every ``REAP_INTERVAL`` seconds), so an End button,
an abandoned page or a failover never leaves a peer behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from desktop.repository.repository import Repository
from desktop.routing import commands
from desktop.leader.client import RouterClient
from desktop.routing.events import TERMINAL_CALLBACK_STATES, CallbackState, Channel
from desktop.rooms import WALL_ROOM, agent_room, visitor_room
from desktop.settings import Settings
from desktop.voice.adoption import Adoption
from desktop.voice.in_order import InOrder
from desktop.voice.inbound import InboundCalls
from desktop.voice.bus import VoiceBus
from desktop.voice.phone import OutsideCallingHours, PhoneCallbacks, PhoneCallLost
from desktop.voice.quality import (
    BROWSER_STATS_MIN_INTERVAL, STATS_INTERVAL, LegFigures, QualityLog, merge_browser_report,
)
from desktop.voice import requests
from desktop.voice.records import CallRecords, queue_recording
from signaling import protocol
from signaling.bus import Bus
from signaling.hub import Session
from signaling.media.anchor import Call, MediaAnchor, consent_state, ice_servers_from_config
from signaling.media.candidates import CandidatePolicy
from signaling.media.errors import VoiceError
from signaling.media.hearing import Mode, Role
from signaling.media.recorder import PacketRecorder
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import OutTrunkState, OutVoiceProblem, OutVoiceQuality, OutVoiceState

__all__ = ["VoiceFeature", "customer_view"]

log = logging.getLogger(__name__)

REAP_INTERVAL = 5.0   # seconds between checks that anchored calls are still connected
STALL_INTERVAL = 1.0  # seconds between checks for legs that stopped sending (a drop)
ORPHAN_SWEEP = 300.0  # seconds between looks for recordings a dead process left unfinished
ELSEWHERE_EVENTS = 200  # a room's latest events read for the calls another process anchors

_ACTIONS = {
    "customer": {"mute", "unmute", "hangup", "consent", "refuse"},
    "agent": {"mute", "unmute", "hold", "resume", "hangup", "dtmf"},
    "supervisor": {"listen", "whisper", "barge", "leave"},
}


class VoiceFeature:
    def __init__(self, *, repo: Repository, bus: Bus, router: RouterClient, settings: Settings,
                 anchor: MediaAnchor, phones: PhoneCallbacks | None = None, clock=time.time):
        self.repo = repo
        self.bus = bus
        self.router = router
        self.settings = settings
        self.anchor = anchor
        self.clock = clock
        self.ice_servers = [dict(server) for server in settings.ice_servers]
        #: callback id -> who is on an anchored call (rooms to tell, names for the wall).
        self._meta: dict[str, dict[str, Any]] = {}
        self._published: dict[str, dict] = {}
        #: callback id -> when its call went on hold (the hold time goes to the reports on resume or end).
        self._held_since: dict[str, float] = {}
        self._quality = QualityLog()
        #: The legs anchored here, added up for /metrics.
        self.leg_figures = LegFigures()
        self._timeline = CallRecords(repo, clock=clock)
        self._pending: set[asyncio.Task] = set()
        #: Each call's voice_state events go out in the order its changes happened.
        self._in_order = InOrder()
        self._background: asyncio.Task | None = None
        #: The agents' sockets on this process: told when this process's trunk changes (it dials their calls).
        self._desks: set[Session] = set()
        #: What each request from another process does (desktop/voice/requests.py).
        self._remote_handlers = {requests.Offer: self._local_offer, requests.Control: self._remote_control,
                                 requests.OwnerGone: self._remote_owner_gone, requests.Stats: self._remote_stats}
        self.voice_bus = VoiceBus(bus, settings.process_id or "local", self._remote, on_lost=self._claim_lost)
        self._adoption = Adoption(voice_bus=self.voice_bus, anchored_here=lambda call_id: call_id in anchor.calls,
                                  adopt=self._adopt, publish=self._publish,
                                  forget=lambda call_id: self._meta.pop(call_id, None))
        anchor.on_change = self._changed
        #: Phone callbacks dialled over the SIP trunk (desktop/voice/phone.py), if one is configured.
        self.phones = phones or PhoneCallbacks(repo=repo, settings=settings, trunk=None)
        #: Calls phoning in on the trunk (desktop/voice/inbound.py).
        self.inbound = InboundCalls(repo=repo, router=router, anchor=anchor, settings=settings, meta=self._meta,
                                    claim=self._claim_inbound, spawn=self._spawn, clock=clock,
                                    call_time=lambda phone, queue, at: self.phones.call_time(
                                        phone, queue, at, queue_open=False))
        if self.phones.trunk is not None:
            self.phones.trunk.on_registration = lambda state: self._spawn(self._publish_trunk())
            self.phones.trunk.on_incoming = self.inbound.incoming

    @classmethod
    def create(cls, *, repo: Repository, bus: Bus, router: RouterClient, settings: Settings) -> "VoiceFeature":
        """A feature with its own anchor; close it with :meth:`aclose`."""
        recordings = Path(settings.var_dir) / "recordings"
        anchor = MediaAnchor(ice_servers=ice_servers_from_config(list(settings.ice_servers)),
                             max_calls=settings.voice_max_calls,
                             candidates=CandidatePolicy.from_setting(settings.voice_private_candidates),
                             recorder=lambda call_id: PacketRecorder(recordings / f"{call_id}.packets"))
        return cls(repo=repo, bus=bus, router=router, settings=settings, anchor=anchor,
                   phones=PhoneCallbacks.create(repo=repo, settings=settings))

    async def start(self) -> None:
        """Start the SIP trunk, if there is one (it registers in the background); render the
        prompts inbound callers hear (espeak-ng, once: cached on disk)."""
        await self.phones.start()
        if self.phones.trunk is not None and self.inbound.numbers and self.settings.sip_callback_offer > 0:
            self._spawn(self.inbound.choice.prepare())

    async def _claim_inbound(self, callback_id: str) -> bool:
        """An inbound call answered here: this process anchors it (agents elsewhere reach it over the bus)."""
        self._start_background()
        return await self.voice_bus.claim(callback_id)

    def _trunk_state(self) -> dict[str, Any]:
        return OutTrunkState(process=self.settings.process_id, **self.phones.public()).to_dict()

    async def _publish_trunk(self) -> None:
        """The trunk's registration changed: the wall hears of every process's; each desk of its
        own process's, the trunk that dials its calls (sent to each socket: no room holds one
        process's desks, and another process's desks have their own trunk)."""
        event = self._trunk_state()
        for session in list(self._desks):
            self._tell_trunk(session, event)
        with contextlib.suppress(Exception):
            await self.bus.publish(WALL_ROOM, event)

    @staticmethod
    def _tell_trunk(session: Session, event: dict[str, Any]) -> None:
        told = {"trunk": event["trunk"], "error": event["error"]}
        if session.data.get("trunk_told") != told:
            session.data["trunk_told"] = told
            session.send(event)

    # -- hooks ----------------------------------------------------------------------------

    async def welcome(self, session: Session) -> dict[str, Any]:
        calls = [self._public(call) for call in list(self.anchor.calls.values()) if self._on_call(session, call.id)]
        calls += [public for callback_id, public in list(self._adoption.orphans.items())
                  if callback_id not in self.anchor.calls and self._on_call(session, callback_id)]
        elsewhere = await self._calls_elsewhere(session, {call["callback_id"] for call in calls})
        session.data["voice_elsewhere"] = [call["callback_id"] for call in elsewhere]  # for opened()
        calls += elsewhere
        if session.role == "customer":
            calls = [customer_view(call, notice=self.settings.supervisor_notice) for call in calls]
        phone = self.phones.public()
        if session.role == "agent":
            session.data["trunk_told"] = phone  # opened() tells a change made since
        return {"voice": {"ice_servers": self.ice_servers, "calls": calls, "phone": phone}}

    async def _calls_elsewhere(self, session: Session, known: set[str]) -> list[dict[str, Any]]:
        """The calls this customer or agent is on that another process anchors, as their room last
        told of them: a page reloaded onto another process (no sticky sessions, or its own
        process stopping) still finds its call, and its browser offers its leg again."""
        room = {"customer": visitor_room, "agent": agent_room}.get(session.role)
        if room is None or not self.settings.redis_url:
            return []
        with contextlib.suppress(Exception):
            name = room(session.identity)
            recent = await self.bus.replay(name, max(0, await self.bus.last_seq(name) - ELSEWHERE_EVENTS)) or []
            latest = {event["call"]["callback_id"]: event["call"] for _seq, event in recent
                      if event.get("type") == "voice_state"}
            calls = []
            for callback_id, call in latest.items():
                if callback_id in known or call.get("state") == "ended":
                    continue
                callback = await self.repo.get_callback(callback_id)  # a dead anchor's call may be over
                if callback is not None and callback.state == CallbackState.CONNECTED:
                    calls.append(call)
            return calls
        return []

    async def opened(self, session: Session) -> None:
        """A party's socket opened here while their call is anchored on another process (a page
        reloaded, or its socket moved here from a process stopping or gone): watch that anchor
        as if this socket had offered its leg here, so this process adopts the call as soon as
        the anchor lets it go (its drain time over) or dies. Unwatched, a call whose sockets had
        all moved off a stopping anchor was left to itself at the end of the drain, until the
        browsers' legs gave up (~20 s of silence)."""
        if session.role == "agent":
            # Its welcome's trunk may have changed meanwhile; a resumed desk (no welcome) is told it now.
            self._desks.add(session)
            if self.phones.trunk is not None:
                self._tell_trunk(session, self._trunk_state())
        elsewhere = session.data.pop("voice_elsewhere", None)
        if elsewhere is None:  # resumed: no welcome was made, so ask now
            elsewhere = [call["callback_id"] for call in await self._calls_elsewhere(session, set())]
        for callback_id in elsewhere:
            if callback_id not in self.anchor.calls and callback_id not in self._adoption.orphans:
                self._adoption.leg_elsewhere(session.data.get("socket", ""), callback_id)

    def _on_call(self, session: Session, callback_id: str) -> bool:
        """A supervisor sees every call; an agent or a customer the ones they are on."""
        if session.role == "supervisor":
            return True
        meta = self._meta.get(callback_id, {})
        return {"agent": meta.get("agent_id"), "customer": meta.get("visitor_id")}.get(session.role) == session.identity

    async def closed(self, session: Session) -> None:
        self._desks.discard(session)
        # Its legs may now be taken over by a new offer (a tab reload).
        key = session.data.get("socket", "")
        self.anchor.owner_gone(key)
        for callback_id in self._adoption.socket_closed(key):
            with contextlib.suppress(Exception):
                await self.voice_bus.notify(callback_id, requests.OwnerGone(owner=key))

    # -- messages ---------------------------------------------------------------------

    async def on_voiceoffer(self, session: Session, message: protocol.VoiceOffer) -> dict[str, Any]:
        callback = await self._callback_of(session, message.callback_id)
        role = Role(session.role)
        owner = session.data.get("socket")
        request = requests.Offer(
            role=str(role), sdp=message.sdp, owner=owner,
            mode=message.mode if role == Role.SUPERVISOR else None, reconnect=message.reconnect,
            recording=await queue_recording(self.repo, self.settings.voice_recording, callback.queue),
            meta=await self._meta_of(callback),
        )
        if await self._anchored_here(callback.id):
            return self._told(session, await self._local_offer(callback.id, request))
        result = await self.voice_bus.request(callback.id, request)
        self._adoption.leg_elsewhere(owner, callback.id)
        return self._told(session, result)

    async def on_voicecontrol(self, session: Session, message: protocol.VoiceControl) -> dict[str, Any]:
        action = message.action
        if action not in _ACTIONS[session.role]:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"a {session.role} can't {action}")
        callback = await self._callback_of(session, message.callback_id, ended_ok=action == "hangup")
        role = Role(session.role)
        if action == "hangup":
            with contextlib.suppress(ProtocolError):  # no voice (any more) is fine: hang up anyway
                await self._control(callback.id, role, action)
            if callback.state == CallbackState.CONNECTED and callback.agent_id:
                # Hanging up ends the conversation: the agent goes to wrap-up.
                with contextlib.suppress(Exception):
                    await self.router.call(commands.End(agent_id=callback.agent_id, callback_id=callback.id))
            return {}
        if action == "dtmf" and not message.digits:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "dtmf needs digits (0-9, *, #, A-D)")
        return self._told(session, await self._control(callback.id, role, action, digits=message.digits))

    def _told(self, session: Session, reply: dict[str, Any]) -> dict[str, Any]:
        """A reply carrying the call, as this socket's party may see it."""
        if session.role != "customer" or not reply.get("call"):
            return reply
        return {**reply, "call": customer_view(reply["call"], notice=self.settings.supervisor_notice)}

    async def on_voicestats(self, session: Session, message: protocol.VoiceStats) -> None:
        """A browser's getStats for its leg: kept beside aiortc's, shown on the wall, stored with the call."""
        now = time.monotonic()
        if now - session.data.get("voice_stats_at", -1e9) < BROWSER_STATS_MIN_INTERVAL:
            raise ProtocolError(ErrorCode.RATE_LIMITED, "voice_stats at most once a second")
        session.data["voice_stats_at"] = now
        callback = await self._callback_of(session, message.callback_id)
        report = {k: getattr(message, k) for k in ("rtt_ms", "jitter_ms", "loss", "concealed_ms")}
        if callback.id in self.anchor.calls:
            self._browser_stats(callback.id, session.role, report)
        else:  # anchored elsewhere (or nowhere any more): best effort, no reply awaited
            await self.voice_bus.notify(callback.id, requests.Stats(role=session.role, report=report))

    async def on_voiceproblem(self, session: Session, message: protocol.VoiceProblem) -> None:
        """The customer's browser can't talk (no microphone, not allowed, in use): their agent is
        told once a call, so they can call the customer's phone or end, not wait on silence."""
        told = session.data.setdefault("voice_problems", set())
        if message.callback_id in told:
            return
        callback = await self._callback_of(session, message.callback_id)
        told.add(callback.id)
        log.info("browser call %s: the customer's browser can't talk (%s)", callback.id, message.problem)
        await self.bus.publish(agent_room(callback.agent_id), OutVoiceProblem(
            callback_id=callback.id, problem=message.problem, at=time.time()).to_dict())

    def _browser_stats(self, callback_id: str, role: str, report: dict[str, Any]) -> None:
        call = self.anchor.calls.get(callback_id)
        leg = call.legs.get(Role(role)) if call is not None else None
        if leg is not None:
            merge_browser_report(leg, report)
            self.leg_figures.browser_report(role, report)

    async def _anchored_here(self, callback_id: str) -> bool:
        """True when this process anchors the call: it has it, or it just claimed it."""
        return callback_id in self.anchor.calls or await self.voice_bus.claim(callback_id)

    async def _control(self, callback_id: str, role: Role, action: str, *, digits: str | None = None) -> dict[str, Any]:
        if await self._anchored_here(callback_id):
            return await self._local_control(callback_id, role, action, digits=digits)
        return await self.voice_bus.request(callback_id, requests.Control(role=str(role), action=action,
                                                                          digits=digits))

    # -- what the anchoring process does (for its own sockets, or asked over the bus) ----

    async def _local_offer(self, callback_id: str, request: requests.Offer) -> dict[str, Any]:
        role = Role(request.role)
        if role == Role.SUPERVISOR and callback_id not in self.anchor.calls:
            raise ProtocolError(ErrorCode.INVALID_STATE, "that call has no voice yet")
        meta = self._meta.setdefault(callback_id, request.meta)
        if role == Role.AGENT and callback_id in self.inbound.leaving:
            # A caller who chose a callback, not yet hung up: their old call ends first (it is
            # forgotten, meta and all), then the agent's leg starts the phone callback's call.
            log.info("phone callback %s: the agent's leg waits for the caller's old line to close", callback_id)
            await self.inbound.left(callback_id)
            for _ in range(20):  # its claim is let go as the old call ends (over the bus: a moment)
                if await self.voice_bus.claim(callback_id):
                    break
                await asyncio.sleep(0.05)
            else:
                raise ProtocolError(ErrorCode.INVALID_STATE, "this call is anchored elsewhere now; try again")
            meta = self._meta.setdefault(callback_id, {**request.meta, "channel": str(Channel.PHONE)})
        if role == Role.AGENT and request.meta.get("agent_id") and not meta.get("agent_id"):
            # An inbound call waited with no agent: the one who accepted it is on it now.
            meta.update({key: request.meta.get(key) for key in ("agent_id", "agent_name", "answered_at")})
        if role == Role.AGENT and meta.get("channel") == Channel.PHONE_INBOUND and callback_id not in self.anchor.calls:
            # The caller is gone (hung up as it was accepted, or the process carrying it died).
            with contextlib.suppress(Exception):
                await self.router.call(commands.End(agent_id=meta["agent_id"], callback_id=callback_id))
            raise ProtocolError(ErrorCode.INVALID_STATE, "the caller has hung up")
        self._start_background()
        consented = None
        if request.recording == "consent" and callback_id not in self.anchor.calls:
            # The call may be rebuilt here after its anchor died (a reconnect, or a reload that
            # reached this process first): the customer's answer, if any, stands. One indexed
            # read per call built.
            consented = await self._timeline.consent_answer(callback_id, request.meta.get("customer_id"))
        try:
            answer = await self.anchor.offer(
                callback_id, role, request.sdp, owner=request.owner,
                mode=Mode(request.mode) if request.mode else None,
                recording=request.recording == "on", consent=request.recording == "consent",
                consented=consented, reconnect=request.reconnect)
        except VoiceError as exc:
            raise ProtocolError(exc.code, exc.message) from None
        call = self.anchor.calls[callback_id]
        if role == Role.AGENT and self._meta[callback_id].get("channel") == Channel.PHONE:
            await self._dial(callback_id)  # agent-first: their leg is up, now the customer's phone
        self._adoption.rejoined(callback_id)
        answered_at = request.meta.get("answered_at")
        if answered_at:
            # Talk time counts from the answer, also for a call re-anchored after a process died.
            call.started_at = min(call.started_at, answered_at)
        return {"sdp": answer, "call": self._public(call)}

    async def _dial(self, callback_id: str) -> None:
        meta = self._meta[callback_id]
        try:
            await self.phones.dial(self.anchor, callback_id, meta)
        except VoiceError as exc:
            # The trunk can't place it (not started, a number it refuses): the call can't go on.
            log.warning("phone callback %s not dialled: %s", callback_id, exc.message)
            await self.anchor.end(callback_id)
        except PhoneCallLost:
            # Dialled by a process that died mid-call: not again at once; a failed attempt, the
            # retry the rules allow, and the agent to wrap-up.
            log.warning("phone callback %s: its call dropped with the process carrying it", callback_id)
            retry = await self.phones.lost(callback_id, dict(meta))
            await self.anchor.end(callback_id)
            await self._after_phone(callback_id, meta, retry)
        except OutsideCallingHours as exc:
            # It waited in line past the hours its phone may ring: not dialled, booked again.
            log.info("phone callback %s not dialled: outside calling hours", callback_id)
            retry = await self.phones.not_now(callback_id, dict(meta), exc.at)
            await self.anchor.end(callback_id)
            await self._after_phone(callback_id, meta, retry)

    async def _local_control(self, callback_id: str, role: Role, action: str, *,
                             digits: str | None = None) -> dict[str, Any]:
        try:
            if action == "hangup":
                await self.anchor.end(callback_id)
                return {}
            call = self.anchor.call(callback_id)
            if action in ("mute", "unmute"):
                call.mute(role, action == "mute")
            elif action in ("hold", "resume"):
                call.update(held=action == "hold")
            elif action == "dtmf":
                call.dtmf(digits or "")
            elif action == "leave":
                await self.anchor.leave(callback_id, Role.SUPERVISOR)
            elif action in ("consent", "refuse"):
                call.answer_consent(action == "consent")
                await self._timeline.consent(call, self._meta.get(call.id, {}), action == "consent")
            else:
                if Role.SUPERVISOR not in call.legs:
                    raise ProtocolError(ErrorCode.INVALID_STATE, "join the call first (voice_offer)")
                call.update(supervisor=Mode(action))
        except VoiceError as exc:
            raise ProtocolError(exc.code, exc.message) from None
        return {"call": self._public(call)}

    async def _remote(self, callback_id: str, request: requests.VoiceRequest) -> dict[str, Any]:
        """A request for a call anchored here, from another process (desktop/voice/bus.py)."""
        return await self._remote_handlers[type(request)](callback_id, request)

    async def _remote_control(self, callback_id: str, request: requests.Control) -> dict[str, Any]:
        return await self._local_control(callback_id, Role(request.role), request.action, digits=request.digits)

    async def _remote_owner_gone(self, callback_id: str, request: requests.OwnerGone) -> dict[str, Any]:
        self.anchor.owner_gone(request.owner)
        return {}

    async def _remote_stats(self, callback_id: str, request: requests.Stats) -> dict[str, Any]:
        self._browser_stats(callback_id, request.role, request.report)
        return {}

    async def _meta_of(self, callback) -> dict[str, Any]:
        meta = self._meta.get(callback.id)
        if meta is not None and callback.agent_id and not meta.get("agent_id"):
            # An inbound call's meta was made before anyone accepted it.
            agent = await self.repo.get_agent(callback.agent_id)
            meta.update(agent_id=callback.agent_id, agent_name=agent.display_name if agent else None,
                        answered_at=callback.answered_at)
        if meta is None:
            agent = await self.repo.get_agent(callback.agent_id) if callback.agent_id else None
            meta = {"customer_id": callback.customer_id, "agent_id": callback.agent_id,
                    "visitor_id": callback.visitor_id, "queue": callback.queue,
                    "customer_name": callback.name, "agent_name": agent.display_name if agent else None,
                    "answered_at": callback.answered_at, "channel": str(callback.channel),
                    "phone": callback.phone}
        return meta

    async def _callback_of(self, session: Session, callback_id: str, *, ended_ok: bool = False):
        callback = await self.repo.get_callback(callback_id)
        mine = callback is not None and (
            (session.role == "customer" and callback.visitor_id == session.identity)
            or (session.role == "agent" and callback.agent_id == session.identity)
            or session.role == "supervisor")
        if not mine:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such call of yours")
        dialled = session.role != "customer" and (
            callback.channel == Channel.PHONE and self.phones.dials or callback.channel == Channel.PHONE_INBOUND)
        if callback.channel != Channel.BROWSER and not dialled:
            raise ProtocolError(ErrorCode.INVALID_STATE, "this callback is to a phone, not in the browser")
        if callback.state != CallbackState.CONNECTED and not ended_ok:
            raise ProtocolError(ErrorCode.INVALID_STATE, f"the call is not connected (it is {callback.state})")
        return callback

    # -- events out ------------------------------------------------------------------------

    def _public(self, call: Call) -> dict[str, Any]:
        meta = self._meta.get(call.id, {})
        return {**call.public(), "customer_name": meta.get("customer_name"),
                "agent_name": meta.get("agent_name"), "queue": meta.get("queue")}

    def _changed(self, call: Call) -> None:
        self._count_hold(call)
        public = self._public(call)
        if self._published.get(call.id) == public:
            return
        self._published[call.id] = public
        if call.ended:
            self._published.pop(call.id, None)
            # A caller who chose a callback: their contact goes on as a new call (agent-first).
            self.voice_bus.release(call.id, hold=call.id not in self.inbound.leaving)
            meta = dict(self._meta.get(call.id, {}))
            self._spawn(self._timeline.call_ended(call, meta, self._quality.pop(call.id)))
            if call.recorder is not None:
                self._spawn(self._timeline.finish_recording(call, meta))
            if call.phone is not None and call.phone.inbound:
                self._spawn(self.inbound.ended(call, meta))
            elif call.phone is not None:
                self._spawn(self._phone_ended(call, meta))
        self._keep(self._in_order.run(call.id, self._publish(call.id, public)))

    async def _phone_ended(self, call: Call, meta: dict[str, Any]) -> None:
        """The attempt on the timeline; the agent to wrap-up (the phone hung up, or never answered);
        the next attempt queued at its time when the rules say so."""
        await self._after_phone(call.id, meta, await self.phones.ended(call, meta))

    async def _after_phone(self, callback_id: str, meta: dict[str, Any], retry: str | None) -> None:
        if meta.get("agent_id"):
            try:
                await self.router.call(commands.End(agent_id=meta["agent_id"], callback_id=callback_id))
            except ProtocolError as exc:  # already ended by the agent's own hang-up
                log.info("phone callback %s: end: %s", callback_id, exc.message)
            except Exception:
                log.exception("phone callback %s: the agent not sent to wrap-up", callback_id)
        if retry is not None:
            try:
                await self.router.notify(commands.CallbackAdded(callback_id=retry))
            except Exception:  # it is in the database: the router finds it when it next rebuilds
                log.exception("phone retry %s not announced to the router", retry)

    def _count_hold(self, call: Call) -> None:
        held = call.state.held and not call.ended
        if held and call.id not in self._held_since:
            self._held_since[call.id] = self.clock()
        elif not held and call.id in self._held_since:
            seconds = self.clock() - self._held_since.pop(call.id)
            self._spawn(self._add_hold(call.id, seconds))

    async def _add_hold(self, callback_id: str, seconds: float) -> None:
        try:
            await self.repo.add_hold_time(callback_id, seconds)
        except Exception:
            log.exception("hold time of %s not stored", callback_id)

    def _spawn(self, coroutine) -> None:
        self._keep(asyncio.get_running_loop().create_task(coroutine))

    def _keep(self, task: asyncio.Task) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, call_id: str, public: dict[str, Any]) -> None:
        meta = self._meta.get(call_id, {})
        agent_id, visitor_id = meta.get("agent_id"), meta.get("visitor_id")
        if public["state"] == "ended":
            self._meta.pop(call_id, None)
            self.inbound.released(call_id)
        event = OutVoiceState(call=public).to_dict()
        try:
            if agent_id:
                await self.bus.publish(agent_room(agent_id), event)
            if visitor_id:
                told = customer_view(public, notice=self.settings.supervisor_notice)
                await self.bus.publish(visitor_room(visitor_id), OutVoiceState(call=told).to_dict())
            await self.bus.publish(WALL_ROOM, event)
        except Exception:
            log.exception("voice_state for %s not published", call_id)

    async def _claim_lost(self, callback_id: str) -> None:
        """Another process took this call's claim while it was anchored here (this one stalled
        past the lease): it ends here, cleanly, rather than live on two anchors (desktop/voice/bus.py)."""
        await self.anchor.end(callback_id)

    # -- calls whose anchoring process died ------------------------------------------------

    async def _adopt(self, callback_id: str) -> dict[str, Any] | None:
        """This process now anchors a call whose anchor died: what both parties are told until
        their offers rebuild it; None (the claim released) if the call is over."""
        callback = await self.repo.get_callback(callback_id)
        if callback is None or callback.state != CallbackState.CONNECTED:
            self.voice_bus.release(callback_id)
            return None
        log.warning("voice call %s: its anchoring process is gone; anchored here from now on", callback_id)
        meta = self._meta[callback_id] = await self._meta_of(callback)
        how = await queue_recording(self.repo, self.settings.voice_recording, callback.queue)
        consented = await self._timeline.consent_answer(callback_id, callback.customer_id) if how == "consent" else None
        public = {"callback_id": callback_id, "state": "active", "started_at": callback.answered_at,
                  "muted": [], "held": False, "supervisor": None,
                  # As the rebuilt call will be; a customer yet to answer is asked once it is (an
                  # answer now would find no call).
                  "recording": how == "on" or consented is True,
                  "consent": None if consented is None else consent_state(consented),
                  "legs": {"customer": "reconnecting", "agent": "reconnecting"},
                  "customer_name": meta.get("customer_name"), "agent_name": meta.get("agent_name"),
                  "queue": meta.get("queue")}
        return public

    # -- background: reaping ended calls, quality to the wall -------------------------------

    def _start_background(self) -> None:
        if self._background is None or self._background.done():
            self._background = asyncio.get_running_loop().create_task(self._watch(), name="voice-watch")

    async def _watch(self) -> None:
        next_reap = next_report = time.monotonic() + STATS_INTERVAL
        while self.anchor.calls:
            await asyncio.sleep(STALL_INTERVAL)
            try:
                self.anchor.check_stalls()
                if time.monotonic() >= next_reap:
                    next_reap = time.monotonic() + REAP_INTERVAL
                    await self._reap()
                if time.monotonic() >= next_report:
                    next_report = time.monotonic() + STATS_INTERVAL
                    await self._report_quality()
            except Exception:
                log.exception("voice watch failed")

    async def _reap(self) -> None:
        for call_id, call in list(self.anchor.calls.items()):
            callback = await self.repo.get_callback(call_id)
            if call.phone is not None and call.phone.inbound and (
                    callback is None or callback.state not in TERMINAL_CALLBACK_STATES):
                continue  # a caller waiting in the queue (or being put there)
            if callback is None or callback.state != CallbackState.CONNECTED:
                await self.anchor.end(call_id)

    async def _report_quality(self) -> None:
        calls = {}
        for call in list(self.anchor.calls.values()):
            calls[call.id] = legs = []
            for leg in list(call.legs.values()):
                legs.append(await leg.stats())
                self.leg_figures.sample(leg, legs[-1])
        for call_id, legs in calls.items():
            self._quality.keep(call_id, legs)
        if calls:
            # With each call's state too: a wall on another process learns of calls it missed.
            states = {call.id: self._public(call) for call in list(self.anchor.calls.values())}
            await self.bus.publish(WALL_ROOM, OutVoiceQuality(at=self.clock(), calls=calls,
                                                              states=states).to_dict())

    async def finish_orphan_recordings(self) -> None:
        """Now and every ``ORPHAN_SWEEP`` seconds: recordings a dead process left unfinished
        (see :meth:`CallRecords.finish_orphans`). Run it as a task; cancel it to stop."""
        recordings = Path(self.settings.var_dir) / "recordings"
        while True:
            try:
                if recordings.is_dir():
                    await self._timeline.finish_orphans(recordings, anchored=lambda call_id: call_id in self.anchor.calls)
            except Exception:
                log.exception("orphaned recordings not finished")
            await asyncio.sleep(ORPHAN_SWEEP)

    async def drain(self, seconds: float) -> int:
        """Wait, at most ``seconds``, for the calls this process anchors to end; how many are left.

        A stopping process's sockets have moved to another process by now, and reach these
        calls over the bus as any other process's do: the calls go on undisturbed. Those still
        on at the deadline are released by :meth:`aclose` and taken over at once elsewhere."""
        deadline = time.monotonic() + seconds
        # A request being answered counts too: a hang-up ends the call (the anchor forgets it at
        # once) before its reply is sent, and closing the bus then would lose that reply.
        while (self.anchor.calls or self.voice_bus.answering) and time.monotonic() < deadline:
            await asyncio.sleep(0.05 if self.voice_bus.answering else 0.2)
        return len(self.anchor.calls)

    async def aclose(self) -> None:
        await self.voice_bus.aclose()
        if self._background is not None:
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background
        await self._adoption.aclose()
        if self.settings.redis_url:
            # The calls still anchored here (a stop whose drain time ran out) are let go, not
            # ended: their claims went with the voice bus, and another process takes each over
            # as it would a dead anchor's. Ended here, each was told to its parties as over
            # (the desk dropped its voice), its end recorded, and its claim held ENDED_HOLD
            # seconds more, so no process could take it over.
            self.anchor.on_change = None
        await self.anchor.aclose()
        await self.phones.aclose()
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task


# -- what the customer is told ---------------------------------------------------------

def customer_view(public: dict[str, Any], *, notice: str) -> dict[str, Any]:
    """The call as its customer is told of it: a supervisor only as the site's policy says
    (``supervisor_notice``), never their leg; the frames of a silent listen say nothing."""
    mode = public.get("supervisor")
    told = mode if mode == "barge" or (mode and notice == "all") else None
    legs = {role: state for role, state in (public.get("legs") or {}).items() if role in ("customer", "agent")}
    return {**public, "supervisor": told, "legs": legs}
