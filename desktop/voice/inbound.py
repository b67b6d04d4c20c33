"""Inbound phone calls: a call on the SIP trunk joins the queue its number maps to, the caller on the line.

``OTODESK_SIP_INBOUND`` maps the numbers callers dial (the INVITE's
Request-URI, E.164) to queues. A call to a mapped number is answered at once
(200 OK and media) and becomes the customer leg of a call on this process's
media anchor, where the caller hears a greeting and hold music
(:mod:`signaling.media.waiting`) while a callback of channel ``phone_inbound``
waits in the queue like any other: offered, accepted, and the agent's desk
joins the call as it does a phone callback (the anchor bridges G.711 and Opus;
the greeting stops as the agent's leg connects). The caller's number is looked
up in the contact repository (:mod:`desktop.repository.callers`): the offer
card shows who it is and their timeline, or an unknown caller, and an
``inbound_call`` event (``number``, ``line``, ``queue``, ``caller``: how the number
matched) joins their timeline.

A caller who hangs up while waiting abandons the callback (``Abandon``: the
offer is withdrawn from the agent); after the answer their hang-up ends the
contact as the agent's would. Refused: a number not mapped (404), a queue that
doesn't exist (480), a process at its calls (503: the trunk's
``OTODESK_SIP_MAX_CALLS``, then the anchor's ``OTODESK_VOICE_MAX_CALLS``).

A call to a queue that is closed (its business hours, in the centre's zone) is
answered too, hears the closed announcement (:func:`signaling.media.waiting.closed`,
tones: no speech) and is hung up (BYE): it is never queued, but kept, for the
caller's timeline (``called_while_closed``, with the next opening time) and the
reports (a callback ``closed``: :meth:`Callers.closed_call`). A caller already
waiting when the queue closes keeps waiting (as in Amazon Connect): hours are
read as a call arrives, never for those in line.

Each process's heartbeat lists the inbound calls it carries (:meth:`InboundCalls.lines`):
the leader abandons a waiting caller whose process went silent, for their line
went with it (``desktop/routing/reachability.py``).

This process anchors the call (it claims it on the bus as it answers), so an
agent whose desk is on another process reaches it over the bus as for any call.

While waiting, the caller is offered a callback (``OTODESK_SIP_CALLBACK_OFFER``:
:mod:`desktop.voice.callback_choice`): pressing 1 (RFC 4733) after the offer began is their
consent; the leader turns their callback into a phone callback to their number where it
stands in line (:class:`~desktop.routing.commands.CallBackInstead`), they hear a
confirmation and we hang up (BYE): not an abandonment. A number withheld, invalid, of a
refused kind or country, or outside its calling hours now is refused with a short cue (they
keep waiting; a caller whose number can't be called back is never offered the choice); a
callback already being offered to an agent keeps its caller on the line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from desktop.customers.phones import caller_number
from desktop.leader.client import RouterClient
from desktop.repository.repository import Repository
from desktop.routing import commands
from desktop.routing.events import HUNG_UP, TERMINAL_CALLBACK_STATES, CallbackState, Channel
from desktop.voice.callback_choice import REFUSED, CallbackChoice, Sounds, callable_number, language_of
from desktop.routing.hours import HoursError, parse_hours, zone
from desktop.settings import Settings
from desktop.voice.records import recording_mode
from signaling.media.anchor import Call, MediaAnchor
from signaling.media.errors import AtCapacity
from signaling.media.sip import IncomingPhoneCall
from signaling.media.waiting import WaitingAudio, announce, closed, seconds_of
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["InboundCalls", "inbound_numbers", "INBOUND_CALL", "CHOICE_KEY"]

log = logging.getLogger(__name__)

INBOUND_CALL = "inbound_call"  # on the caller's timeline: data: number, line, queue, caller
CHOICE_KEY = "1"  # the key a waiting caller presses to be called back
LEAVE_WAIT = 5.0  # seconds an agent's offer waits for a caller who chose a callback to be hung up


@dataclasses.dataclass(eq=False, slots=True)
class _Waiting:
    """A caller on the line, for their keys: what they hear, whether and where we may call back."""

    audio: WaitingAudio
    sounds: Sounds | None  # None until espeak-ng has rendered them (the call is answered before)
    line: str
    queue: str
    number: str | None     # the E.164 number to call back, None if it can't be
    why_not: str           # why it can't be (callback_choice.WITHHELD / REFUSED), "" if it can
    answered_at: float
    busy: bool = False     # a key press being dealt with: the next waits its turn (ignored)


def inbound_numbers(settings: Settings) -> dict[str, str]:
    """OTODESK_SIP_INBOUND as {E.164 number: queue}; ValueError names a number that isn't one."""
    numbers = {}
    for number, queue in settings.sip_inbound:
        e164 = caller_number(number, default_region=settings.default_region)
        if e164 is None:
            raise ValueError(f"OTODESK_SIP_INBOUND: {number!r} is not a phone number (number=queue, ...)")
        numbers[e164] = queue
    return numbers


class InboundCalls:
    """What the trunk's ``on_incoming`` does. ``meta`` is the voice feature's (who is on each call);
    ``claim(callback_id)`` makes this process the call's anchor on the bus; ``spawn`` runs a task."""

    def __init__(self, *, repo: Repository, router: RouterClient, anchor: MediaAnchor, settings: Settings,
                 meta: dict[str, dict[str, Any]], claim: Callable[[str], Awaitable[bool]],
                 spawn: Callable[[Any], None], clock=time.time,
                 call_time: Callable[[str, str, float], Awaitable[float | None]] | None = None):
        self.repo = repo
        self.router = router
        self.anchor = anchor
        self.settings = settings
        self.meta = meta
        self.claim = claim
        self.spawn = spawn
        self.clock = clock
        self.numbers = inbound_numbers(settings)
        #: (phone, queue, now) -> when that phone may next ring (calling hours), None: not soon.
        self.call_time = call_time
        self.choice = CallbackChoice(Path(settings.var_dir) / "prompts")
        #: callback id -> a caller waiting here (their keys, what they hear).
        self.waiting: dict[str, _Waiting] = {}
        #: callback id -> set once the line of a caller who chose a callback is closed and forgotten.
        self.leaving: dict[str, asyncio.Event] = {}

    def lines(self) -> list[str]:
        """The inbound calls this process carries (callback ids), for its heartbeat to the leader."""
        return [call.id for call in list(self.anchor.calls.values())
                if call.phone is not None and call.phone.inbound and not call.ended and call.id not in self.leaving]

    def incoming(self, phone: IncomingPhoneCall) -> None:
        """A call reached the trunk: refuse it now, or take it (answered in a task)."""
        line = caller_number(phone.called, default_region=self.settings.default_region)
        queue = self.numbers.get(line or "")
        if queue is None:
            log.info("inbound call to %r refused: not a number of ours (OTODESK_SIP_INBOUND)", phone.called)
            phone.reject(404, "Not Found")
            return
        if len(self.anchor.calls) >= self.anchor.max_calls:
            log.warning("inbound call to %s refused: %d calls anchored here already", line, self.anchor.max_calls)
            phone.reject(503, "Service Unavailable")
            return
        self.spawn(self._take(phone, line, queue))

    async def _take(self, phone: IncomingPhoneCall, line: str, queue: str) -> None:
        callback_id = secrets.token_hex(8)
        call: Call | None = None
        try:
            record = await self.repo.get_queue(queue)
            if record is None:
                log.error("inbound call to %s refused: OTODESK_SIP_INBOUND names queue %r, which doesn't exist",
                          line, queue)
                phone.reject(480, "Temporarily Unavailable")
                return
            closed_now, opens = self._closed_now(record)
            if closed_now:
                await self._closed(phone, line, queue, opens)
                return
            waiting = await self._waiting(phone, line, queue, record)
            call = await self.anchor.take_phone(
                callback_id, phone, waiting=waiting.audio,
                # A caller on the line can't be asked: only "on" records an inbound call.
                recording=recording_mode(self.settings.voice_recording, queue, policy=record.recording) == "on")
            phone.on_dtmf = lambda digit: self.spawn(self.pressed(callback_id, digit))
            self.waiting[callback_id] = waiting
            await phone.answer()
            waiting.answered_at = self.clock()
            await self._queue(call, phone, line, queue)
        except AtCapacity as exc:
            log.warning("inbound call to %s refused: %s", line, exc.message)
            phone.reject(503, "Service Unavailable")
        except Exception:
            log.exception("inbound call to %s failed", line)
            phone.reject(500, "Server Internal Error")
            if call is not None:
                await self.anchor.end(callback_id)

    async def _waiting(self, phone: IncomingPhoneCall, line: str, queue: str, record) -> _Waiting:
        """What the caller will hear, in the queue's language: the offer of a callback only if
        it is on and their number may be called back. Never waits for espeak-ng: a caller
        phoning while the prompts render (a process just started) is answered at once and
        offered the callback once they are ready."""
        language = language_of(record.languages)
        sounds = self.choice.ready(language)
        number, why_not = callable_number(caller_number(phone.caller, default_region=self.settings.default_region),
                                          default_region=self.settings.default_region,
                                          countries=self.settings.callable_countries)
        every = self.settings.sip_callback_offer
        offered = every > 0 and number is not None
        waiting = _Waiting(audio=WaitingAudio(sounds.offer if sounds and offered else None, every=every),
                           sounds=sounds, line=line, queue=queue, number=number, why_not=why_not,
                           answered_at=self.clock())
        if sounds is None:
            self.spawn(self._when_rendered(waiting, language, offered))
        return waiting

    async def _when_rendered(self, waiting: _Waiting, language: str, offered: bool) -> None:
        waiting.sounds = await self.choice.sounds(language)
        if offered:
            waiting.audio.offer(waiting.sounds.offer)

    async def pressed(self, callback_id: str, digit: str) -> None:
        """A key the waiting caller pressed: 1 after the offer began is their choice of a
        callback. Never raises."""
        waiting = self.waiting.get(callback_id)
        meta = self.meta.get(callback_id) or {}
        if (digit != CHOICE_KEY or waiting is None or waiting.busy or waiting.sounds is None
                or self.settings.sip_callback_offer <= 0):
            return  # (no sounds yet: nothing was offered, nor can a refusal be said)
        waiting.busy = True
        try:
            if waiting.number is None:
                log.info("inbound call %s: 1 pressed; a callback refused (%s number)", callback_id, waiting.why_not)
                waiting.audio.interject(waiting.sounds.refusal(waiting.why_not))
                return
            if not waiting.audio.prompted or not meta.get("announced") or meta.get("agent_id"):
                return  # not offered yet (no consent to read in it), or an agent has it now
            now = self.clock()
            if self.call_time is not None:
                when = await self.call_time(waiting.number, waiting.queue, now)
                if when is None or when > now + 60:
                    log.info("inbound call %s: a callback refused: %s may not ring now (calling hours)",
                             callback_id, waiting.number)
                    waiting.audio.stop_offering()
                    waiting.audio.interject(waiting.sounds.refusal(REFUSED))
                    return
            await self._call_back_instead(callback_id, waiting, meta, now)
        except Exception:
            log.exception("inbound call %s: the caller's key not dealt with", callback_id)
        finally:
            waiting.busy = False

    async def _call_back_instead(self, callback_id: str, waiting: _Waiting, meta: dict[str, Any], now: float) -> None:
        sounds = waiting.sounds
        consent = {"at": now, "address": waiting.number, "page": waiting.line, "text": sounds.text("offer"),
                   "locale": sounds.language, "via": "inbound_call"}
        data = {"number": waiting.number, "line": waiting.line, "queue": waiting.queue,
                "waited_s": round(now - waiting.answered_at, 1), "spoken": sounds.spoken}
        try:
            await self.router.call(commands.CallBackInstead(callback_id=callback_id, phone=waiting.number,
                                                            consent=consent, data=data))
        except ProtocolError as exc:
            if exc.code in (ErrorCode.INVALID_STATE, ErrorCode.NOT_FOUND):
                log.info("inbound call %s: a callback not taken: %s", callback_id, exc.message)
                return  # being offered to an agent (or gone): they stay on the line
            log.info("inbound call %s: a callback refused: %s", callback_id, exc.message)
            waiting.audio.stop_offering()
            waiting.audio.interject(sounds.refusal(REFUSED))
            return
        # Its line is no longer the router's to watch; an agent's offer for it waits for our BYE.
        self.leaving[callback_id] = asyncio.Event()
        meta["channel"] = str(Channel.PHONE)
        meta["phone"] = waiting.number
        log.info("inbound call %s: the caller chose a callback to %s after %.0f s; hanging up",
                 callback_id, waiting.number, data["waited_s"])
        waiting.audio.stop_offering()
        waiting.audio.interject(sounds.yes)
        await asyncio.sleep(seconds_of(sounds.yes) + 0.1)
        await self.anchor.end(callback_id)

    def released(self, callback_id: str) -> None:
        """The call of ``callback_id`` ended here and was forgotten (its meta too)."""
        self.waiting.pop(callback_id, None)
        event = self.leaving.pop(callback_id, None)
        if event is not None:
            event.set()

    async def left(self, callback_id: str) -> None:
        """Return once the line of a caller who chose a callback is closed (at once if none is
        closing): an agent's leg for the callback must not join the old call. Cuts its
        confirmation short; raises ProtocolError if it won't close in ``LEAVE_WAIT`` seconds."""
        event = self.leaving.get(callback_id)
        if event is None:
            return
        await self.anchor.end(callback_id)
        try:
            async with asyncio.timeout(LEAVE_WAIT):
                await event.wait()
        except asyncio.TimeoutError:
            raise ProtocolError(ErrorCode.INVALID_STATE, "the caller's line is still closing; try again") from None

    def _closed_now(self, record) -> tuple[bool, float | None]:
        """(whether ``record``, a queue, is closed now, when it next opens: None if no opening is
        planned). Hours that no longer parse count as always open, as for the widget."""
        try:
            hours = parse_hours(record.hours)
        except HoursError:
            log.warning("queue %s has hours that do not parse; treated as always open", record.name)
            return False, None
        tz, now = zone(self.settings.time_zone), self.clock()
        return (False, None) if hours.is_open(now, tz) else (True, hours.next_open(now, tz))

    async def _closed(self, phone: IncomingPhoneCall, line: str, queue: str, opens: float | None) -> None:
        """Answer, play the closed announcement and hang up; the call is kept for the timeline
        and the reports, never queued."""
        await phone.answer()
        playing = asyncio.get_running_loop().create_task(announce(phone, closed()), name="closed-announcement")
        number = caller_number(phone.caller, default_region=self.settings.default_region)
        now = self.clock()
        try:
            caller = await self.repo.caller(number, now=now)
            await self.repo.closed_call(id=secrets.token_hex(8), customer_id=caller.customer.id, queue=queue,
                                        phone=number, line=line, caller=caller.match,
                                        tier=caller.customer.tier or "standard", opens=opens, now=now)
            log.info("inbound call from %s to %s: queue %s is closed (opens %s); told and hung up",
                     number or "a withheld number", line, queue, opens)
        finally:
            await playing

    async def _queue(self, call: Call, phone: IncomingPhoneCall, line: str, queue: str) -> None:
        """Who is calling, the callback in the queue, this process the call's anchor."""
        number = caller_number(phone.caller, default_region=self.settings.default_region)
        now = self.clock()
        caller = await self.repo.caller(number, now=now)
        customer = caller.customer
        meta = self.meta[call.id] = {
            "customer_id": customer.id, "agent_id": None, "visitor_id": None, "queue": queue,
            "customer_name": customer.name or number or "Unknown caller", "agent_name": None,
            "answered_at": None, "channel": str(Channel.PHONE_INBOUND), "phone": number}
        await self.repo.create_callback(
            id=call.id, visitor_id=None, customer_id=customer.id, queue=queue, name=customer.name or "",
            topic="", message="", channel=Channel.PHONE_INBOUND, phone=number, tier=customer.tier or "standard",
            scheduled_at=None, now=now)
        await self.repo.add_contact_event(
            customer_id=customer.id, kind=INBOUND_CALL, channel="phone", at=now, callback_id=call.id,
            data={"number": number, "line": line, "queue": queue, "caller": caller.match})
        await self.claim(call.id)
        log.info("inbound call from %s to %s: queue %s, callback %s (%s caller)", number or "a withheld number",
                 line, queue, call.id, caller.match)
        await self.router.notify(commands.CallbackAdded(callback_id=call.id))
        meta["announced"] = True
        if call.ended:  # the caller hung up while we set up; their end saw no callback to abandon
            await self.ended(call, meta)

    async def ended(self, call: Call, meta: dict[str, Any]) -> None:
        """The phone hung up (or we did): a caller still waiting abandoned; one talking to an agent
        ended the contact (the agent to wrap-up). Never raises."""
        if not meta.get("announced"):
            return  # not in the queue yet: _queue looks once it is
        try:
            callback = await self.repo.get_callback(call.id)
            if callback is None or callback.state in TERMINAL_CALLBACK_STATES:
                return
            if callback.channel == Channel.PHONE:
                return  # they chose to be called back: hung up by us, their place kept
            if callback.state != CallbackState.CONNECTED:
                try:
                    await self.router.call(commands.Abandon(callback_id=call.id, reason=HUNG_UP))
                    return
                except ProtocolError:  # accepted in the same moment: it is the agent's contact now
                    callback = await self.repo.get_callback(call.id)
            if callback is not None and callback.state == CallbackState.CONNECTED and callback.agent_id:
                await self.router.call(commands.End(agent_id=callback.agent_id, callback_id=call.id))
        except ProtocolError as exc:
            log.info("inbound call %s: %s", call.id, exc.message)
        except Exception:
            log.exception("inbound call %s: its end not told to the router", call.id)
