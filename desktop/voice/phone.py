"""Phone callbacks that really dial: the trunk from the settings, each attempt, the retries.

Agent-first, as Amazon Connect's queued callbacks are: the agent accepts a
phone callback, their desk joins the call's media anchor as for a browser
call, and only then does the anchor dial the customer's number over the SIP
trunk (:meth:`PhoneCallbacks.dial`); the agent hears the ringing phone's early
media and, once it answers, the customer. Each attempt goes on the
customer's timeline as a ``phone_attempt`` event with its SIP result. A call
that was busy, not answered or failed is tried again after
``phone_retry_delay`` seconds as a new scheduled callback (a
``phone_retry`` event links it to the first), up to ``phone_max_attempts``
(both per queue in ``phone_retry_queues``).

A ``phone_dialled`` event is written as each attempt is dialled: if the
process carrying the call dies (``kill -9``: the phone call drops with it),
whichever process the agent's desk reconnects to finds it, and instead of
dialling the customer again at once it records the attempt as failed and
books the retry the rules allow (:class:`PhoneCallLost`).

A callback not dialled because this process carries ``OTODESK_SIP_MAX_CALLS`` phone
calls already is a ``refused`` attempt, retried like a busy one.

Calling hours (``desktop/routing/calling.py``) hold at every step: a retry is
booked for the first time after its delay when the phone may ring and the queue
is open, and a callback reaching an agent when the phone may not ring (it waited
in line past the evening's limit) is not dialled: it is booked again for the
next allowed time (:class:`OutsideCallingHours`; a ``phone_attempt`` with result
``not_dialled`` says why; it does not count as an attempt).

Without a trunk (``OTODESK_SIP_URI`` empty) nothing here runs: the desk says
"Call the customer now on <number>" and the agent dials by hand.
"""

from __future__ import annotations

import collections
import logging
import secrets
import time
from typing import Any

from desktop.repository.repository import Repository
from desktop.routing.calling import when_to_call
from desktop.routing.hours import Hours, HoursError, parse_hours
from desktop.settings import Settings
from signaling.media.anchor import Call, MediaAnchor
from signaling.media.errors import TrunkError
from signaling.media.sip import CallResult, Registration, Trunk, TrunkConfig, open_trunk

__all__ = ["PhoneCallbacks", "PhoneCallLost", "OutsideCallingHours", "trunk_config", "should_retry", "retry_policy", "PHONE_ATTEMPT",
           "PHONE_RETRY", "PHONE_DIALLED"]

log = logging.getLogger(__name__)

PHONE_ATTEMPT = "phone_attempt"  # data: number, result, status, reason, attempt, rang_s, talked_s
PHONE_RETRY = "phone_retry"      # on the retry's callback: data: first, attempt, after
PHONE_DIALLED = "phone_dialled"  # as an attempt is dialled: data: number, attempt
LOST = "the server carrying the call stopped"
NOT_DIALLED = "not_dialled"  # a phone_attempt's result: outside calling hours, booked again
RETRIED = (CallResult.BUSY, CallResult.NO_ANSWER, CallResult.FAILED, CallResult.REFUSED)
DIALLED_MEMORY = 10_000  # callback ids remembered as dialled (far more than one process's calls a day)


class PhoneCallLost(Exception):
    """This callback was dialled already, by a process that is gone: its call dropped with it."""


class OutsideCallingHours(Exception):
    """The phone may not ring now (its local time); ``at``: when it next may (None: not soon)."""

    def __init__(self, callback_id: str, at: float | None):
        super().__init__(callback_id)
        self.at = at


def trunk_config(settings: Settings) -> TrunkConfig | None:
    """The trunk the settings describe, or None without ``OTODESK_SIP_URI``; ValueError says what is wrong."""
    if not settings.sip_uri:
        return None
    return TrunkConfig(uri=settings.sip_uri, username=settings.sip_username, password=settings.sip_password,
                       caller_id=settings.sip_caller_id, codecs=settings.sip_codecs,
                       transport=settings.sip_transport, tls_ca_file=settings.sip_tls_ca_file,
                       tls_insecure_no_verify=settings.sip_tls_insecure_no_verify, srtp=settings.sip_srtp,
                       register_expires=settings.sip_register_expires, register_retry=settings.sip_register_retry,
                       local_host=settings.sip_local_host, local_port=settings.sip_local_port,
                       max_calls=settings.sip_max_calls)


def rtp_ports(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        ports = int(low), int(high)
    except ValueError:
        raise ValueError(f"OTODESK_SIP_RTP_PORTS must be low-high, not {text!r}") from None
    if not 1024 <= ports[0] < ports[1] <= 65535:
        raise ValueError(f"OTODESK_SIP_RTP_PORTS must be within 1024-65535, low < high, not {text!r}")
    return ports


def retry_policy(settings: Settings, queue: str) -> tuple[float, int]:
    """(seconds before the next attempt, attempts in all) for ``queue``: its entry in
    OTODESK_PHONE_RETRY_QUEUES (``queue:delay:attempts``), else the defaults. ValueError if malformed."""
    for entry in settings.phone_retry_queues:
        name, delay, attempts = (entry.split(":") + ["", ""])[:3]
        try:
            policy = float(delay), int(attempts)
        except ValueError:
            raise ValueError(f"OTODESK_PHONE_RETRY_QUEUES entries are queue:delay:attempts, not {entry!r}") from None
        if policy[0] < 0 or policy[1] < 1:
            raise ValueError(f"OTODESK_PHONE_RETRY_QUEUES: a delay >= 0 and at least 1 attempt, not {entry!r}")
        if name == queue:
            return policy
    return settings.phone_retry_delay, settings.phone_max_attempts


def should_retry(result: str | None, attempt: int, max_attempts: int) -> bool:
    """Whether an attempt that ended ``result`` is followed by another."""
    return result in RETRIED and attempt < max_attempts


class PhoneCallbacks:
    """The process's trunk and what it does for phone callbacks; ``start`` / ``aclose`` it."""

    def __init__(self, *, repo: Repository, settings: Settings, trunk: Trunk | None, clock=time.time):
        self.repo = repo
        self.settings = settings
        self.trunk = trunk
        self.clock = clock
        #: callback ids dialled on this process: an agent's reload or reconnect never redials.
        self._dialled: collections.OrderedDict[str, None] = collections.OrderedDict()

    @classmethod
    def create(cls, *, repo: Repository, settings: Settings) -> "PhoneCallbacks":
        config = trunk_config(settings)
        retry_policy(settings, "")  # malformed retry rules fail at start, not at a call's end
        trunk = open_trunk(config, rtp_ports=rtp_ports(settings.sip_rtp_ports)) if config else None
        return cls(repo=repo, settings=settings, trunk=trunk)

    @property
    def dials(self) -> bool:
        """True when phone callbacks are dialled here (a trunk is configured), not by hand."""
        return self.trunk is not None

    def public(self) -> dict[str, Any]:
        """The trunk's state for /healthz, the wall and the desk."""
        if self.trunk is None:
            return {"trunk": str(Registration.OFF), "error": ""}
        return {"trunk": str(self.trunk.registration), "error": self.trunk.registration_error}

    async def start(self) -> None:
        if self.trunk is not None:
            try:
                await self.trunk.start()
            except TrunkError as exc:
                log.error("SIP trunk not started: %s", exc.message)

    async def aclose(self) -> None:
        if self.trunk is not None:
            await self.trunk.aclose()

    async def dial(self, anchor: MediaAnchor, callback_id: str, meta: dict[str, Any]) -> Call | None:
        """Dial the callback's number as the customer's leg of its call, once per callback."""
        if self.trunk is None or callback_id in self._dialled or not meta.get("phone"):
            return None
        now = self.clock()
        when = await self.call_time(meta["phone"], meta.get("queue") or "", now, queue_open=False)
        if when is None or when > now:
            raise OutsideCallingHours(callback_id, await self.call_time(meta["phone"], meta.get("queue") or "", now))
        self._dialled[callback_id] = None
        while len(self._dialled) > DIALLED_MEMORY:
            self._dialled.popitem(last=False)
        meta["dialled_at"] = self.clock()
        meta["attempt"] = await self._attempt_number(callback_id, meta)
        if meta.get("customer_id"):
            dialled = await self.repo.last_contact_event(meta["customer_id"], kind=PHONE_DIALLED,
                                                         callback_id=callback_id)
            if dialled is not None:
                raise PhoneCallLost(callback_id)
            await self.repo.add_contact_event(
                customer_id=meta["customer_id"], kind=PHONE_DIALLED, channel="phone", at=meta["dialled_at"],
                callback_id=callback_id, agent_id=meta.get("agent_id"),
                data={"number": meta["phone"], "attempt": meta["attempt"]})
        return await anchor.dial(callback_id, meta["phone"], trunk=self.trunk,
                                 ring_timeout=self.settings.sip_ring_timeout)

    async def call_time(self, phone: str, queue: str, at: float, *, queue_open: bool = True) -> float | None:
        """The first time at or after ``at`` when ``phone`` may ring (and, with ``queue_open``,
        the queue is open); None when none comes within 60 days."""
        record = await self.repo.get_queue(queue) if queue else None
        window = record.calling_hours if record is not None and record.calling_hours is not None \
            else self.settings.calling_hours
        hours: Hours | None = None
        if queue_open and record is not None:
            try:
                hours = parse_hours(record.hours)
            except HoursError:  # logged where the queue is read for customers; always open here
                hours = None
        return when_to_call(phone, at, window=window, centre_zone=self.settings.time_zone, queue_hours=hours)[1]

    async def not_now(self, callback_id: str, meta: dict[str, Any], at: float | None) -> str | None:
        """A callback that reached an agent when its phone may not ring: on the timeline, and
        booked again for ``at`` (the same attempt: nothing was dialled). Never raises."""
        if not meta.get("customer_id"):
            return None
        attempt = await self._attempt_number(callback_id, meta)
        try:
            await self.repo.add_contact_event(
                customer_id=meta["customer_id"], kind=PHONE_ATTEMPT, channel="phone", at=self.clock(),
                callback_id=callback_id, agent_id=meta.get("agent_id"),
                data={"number": meta.get("phone"), "result": NOT_DIALLED, "status": 0, "attempt": attempt,
                      "reason": "outside calling hours in the number's local time", "rang_s": None,
                      "talked_s": None, "next_at": at})
            if at is not None:
                return await self._schedule_retry(callback_id, meta, attempt - 1, NOT_DIALLED, at=at)
        except Exception:
            log.exception("phone callback %s outside calling hours: not booked again", callback_id)
        return None

    async def _attempt_number(self, callback_id: str, meta: dict[str, Any]) -> int:
        if not meta.get("customer_id"):
            return 1
        retry = await self.repo.last_contact_event(meta["customer_id"], kind=PHONE_RETRY, callback_id=callback_id)
        if retry is None:
            return 1
        meta["first_callback_id"] = retry.data.get("first")
        return int(retry.data.get("attempt", 1))

    async def ended(self, call: Call, meta: dict[str, Any]) -> str | None:
        """The attempt on the timeline, and the next one scheduled if the rules say so: returns
        the retry's callback id (tell the router), or None. Never raises."""
        phone = call.phone.public() if call.phone is not None else None
        if phone is None:
            return None
        leg = call.phone.phone
        answered = getattr(leg, "answered_at", None)
        started = getattr(leg, "started_at", None)
        return await self._record(call.id, meta, {
            **phone, "rang_s": round((answered or time.monotonic()) - started, 1) if started else None,
            "talked_s": round(time.monotonic() - answered, 1) if answered else None})

    async def lost(self, callback_id: str, meta: dict[str, Any]) -> str | None:
        """A call that dropped with the process carrying it: a failed attempt, and its retry."""
        return await self._record(callback_id, meta, {
            "number": meta.get("phone"), "state": "ended", "result": str(CallResult.FAILED), "status": 0,
            "reason": LOST, "early_media": False, "rang_s": None, "talked_s": None})

    async def _record(self, callback_id: str, meta: dict[str, Any], data: dict[str, Any]) -> str | None:
        if not meta.get("customer_id"):
            return None
        attempt = int(meta.get("attempt", 1))
        try:
            await self.repo.add_contact_event(
                customer_id=meta["customer_id"], kind=PHONE_ATTEMPT, channel="phone",
                at=meta.get("dialled_at") or self.clock(), callback_id=callback_id,
                agent_id=meta.get("agent_id"), data={**data, "attempt": attempt})
            delay, attempts = retry_policy(self.settings, meta.get("queue") or "")
            if should_retry(data["result"], attempt, attempts):
                # Never at a time the phone may not ring: the first allowed one after the delay.
                at = await self.call_time(meta.get("phone") or "", meta.get("queue") or "", self.clock() + delay)
                if at is None:
                    log.warning("phone callback %s: no time to call again within 60 days", callback_id)
                    return None
                return await self._schedule_retry(callback_id, meta, attempt, data["result"], at=at)
        except Exception:
            log.exception("phone attempt of %s not recorded", callback_id)
        return None

    async def _schedule_retry(self, callback_id: str, meta: dict[str, Any], attempt: int, result: str, *,
                              at: float) -> str | None:
        """A new request for the same number at ``at``, attempt ``attempt + 1``."""
        original = await self.repo.get_callback(callback_id)
        if original is None:
            return None
        now = self.clock()
        retry_id = secrets.token_hex(8)
        retry = await self.repo.create_callback(
            id=retry_id, visitor_id=original.visitor_id, customer_id=original.customer_id, queue=original.queue,
            name=original.name, topic=original.topic, message=original.message, channel=original.channel,
            phone=original.phone, tier=original.tier, scheduled_at=at, now=now, consent=original.consent,
            command_id=f"phone-retry-{callback_id}")  # once, however often this runs
        first = meta.get("first_callback_id") or callback_id
        await self.repo.add_contact_event(
            customer_id=original.customer_id, kind=PHONE_RETRY, channel="phone", at=now, callback_id=retry.id,
            data={"first": first, "previous": callback_id, "attempt": attempt + 1, "after": result,
                  "at": at})
        return retry.id
