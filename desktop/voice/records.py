"""A voice call's record: on the customer's timeline, and the recording played in the desk.

When a call ends, :class:`CallRecords` puts a ``voice_call`` event on the customer's
timeline (its length, each leg's last quality) and, if it was recorded, mixes the
packets into ``var/recordings/<callback_id>.ogg`` and adds a ``call_recording`` event.
The customer's answer to "may we record?" is a ``recording_consent`` event: an audit
of consent, and what a process that takes a call over reads back so the customer is
not asked again. A failed write is logged, never raised: the call itself goes on.

The recordings are served to staff by :mod:`desktop.voice.http`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from desktop.repository.repository import Repository
from desktop.routing.events import CallbackState
from desktop.voice.http import recording_url
from signaling.media.anchor import Call
from signaling.media.recorder import mix_to_ogg

__all__ = ["CallRecords", "RECORDING_CONSENT", "queue_recording", "recording_mode", "talked_seconds"]

log = logging.getLogger(__name__)

ABANDONED_MIX_AGE = 3600.0  # seconds: a mix takes a few per hour of call; older, its process died
ORPHAN_AGE = 120.0  # seconds a packet log lies untouched before it is taken for a dead process's
#: The timeline kind of the customer's answer to "may we record?" (``data: {"given": bool}``).
RECORDING_CONSENT = "recording_consent"


def recording_mode(rules: Iterable[str], queue: str, *, policy: str | None = None) -> str | None:
    """"on", "consent" (asked of the customer first) or None for a queue's calls: the queue's
    own ``policy`` set in the admin console ("off", "consent", "on") when it has one, else
    OTODESK_VOICE_RECORDING's rules (``queue[:consent]``, ``*`` for every queue; the first match wins)."""
    if policy is not None:
        return None if policy == "off" else policy
    for entry in rules:
        name, _, how = entry.partition(":")
        if name in ("*", queue):
            return "consent" if how.strip() == "consent" else "on"
    return None


async def queue_recording(repo: Repository, rules: Iterable[str], queue: str) -> str | None:
    """:func:`recording_mode` with the queue's policy as stored now: read when each call is set
    up, so a change in the admin console counts from the next call on every process."""
    record = await repo.get_queue(queue)
    return recording_mode(rules, queue, policy=record.recording if record is not None else None)


def talked_seconds(call: Call, now: float) -> float:
    """How long the call talked: a browser call from its start; a phone we dialled from its answer
    (it rang before that, and may never have answered: busy, no answer, 0 s; the ringing is on the
    ``phone_attempt`` entry); a caller who phoned in from the agent's arrival (the greeting and hold
    music before are not talk; one who hung up waiting talked 0 s)."""
    phone = call.phone
    if phone is None:
        return round(now - call.started_at, 1)
    # Both in time.monotonic(), as the SIP leg and the phone leg keep them.
    since = phone.talking_since if phone.inbound else getattr(phone.phone, "answered_at", None)
    return round(time.monotonic() - since, 1) if since is not None else 0.0


class CallRecords:
    """Writes a call's events to the customer's timeline. ``meta`` is who was on the call
    (``customer_id``, ``visitor_id``, ``agent_id``); without a customer nothing is written."""

    def __init__(self, repo: Repository, *, clock=time.time):
        self.repo = repo
        self.clock = clock

    async def call_ended(self, call: Call, meta: dict[str, Any], quality: dict[str, dict]) -> None:
        """The call on the customer's timeline: its length and each leg's last quality."""
        if not meta.get("customer_id"):
            return
        try:
            await self.repo.add_contact_event(
                customer_id=meta["customer_id"], kind="voice_call", channel="voice", at=call.started_at,
                visitor_id=meta.get("visitor_id"), callback_id=call.id, agent_id=meta.get("agent_id"),
                data={"seconds": talked_seconds(call, self.clock()), "quality": quality,
                      "recorded": call.recorder is not None})
        except Exception:
            log.exception("voice call %s not recorded on the timeline", call.id)

    async def consent(self, call: Call, meta: dict[str, Any], given: bool) -> None:
        """The customer's answer on their timeline: an audit of consent, and what a process that
        takes the call over reads (:meth:`consent_answer`) so they are not asked again."""
        if not meta.get("customer_id"):
            return
        try:
            await self.repo.add_contact_event(
                customer_id=meta["customer_id"], kind=RECORDING_CONSENT, channel="voice", at=self.clock(),
                visitor_id=meta.get("visitor_id"), callback_id=call.id, agent_id=meta.get("agent_id"),
                data={"given": given})
        except Exception:
            log.exception("recording consent for %s not recorded on the timeline", call.id)

    async def consent_answer(self, callback_id: str, customer_id: str | None) -> bool | None:
        """The customer's last answer to "may we record?" on this call, None if they gave none
        (or it can't be read: then they are asked again rather than recorded unasked)."""
        if not customer_id:
            return None
        try:
            event = await self.repo.last_contact_event(customer_id, kind=RECORDING_CONSENT, callback_id=callback_id)
        except Exception:
            log.exception("recording consent for %s not read", callback_id)
            return None
        return None if event is None else bool(event.data.get("given"))

    async def finish_orphans(self, recordings: Path, *, anchored: Callable[[str], bool]) -> int:
        """Mix the packet logs a dead process left behind; returns how many were finished.

        A process killed mid-call leaves ``<callback_id>.packets``. If a surviving or
        restarted process takes the call over, it appends to that log and mixes it at the
        end; if nobody does (the customer hung up meanwhile), the call is over without an
        anchor and this puts its recording on the timeline, so a crash loses no recording.
        A log is an orphan when its call is not anchored here, its callback is no longer
        connected, and it was untouched for ``ORPHAN_AGE`` seconds. Processes sharing
        ``var/`` race for it by renaming it (atomic): one wins, the others skip it.
        """
        finished = 0
        # A ``.mixing`` log this old is one whose mixing process died too.
        logs = [(p, ORPHAN_AGE) for p in recordings.glob("*.packets")]
        logs += [(p, ABANDONED_MIX_AGE) for p in recordings.glob("*.mixing")]
        for packets, age in sorted(logs):
            callback_id = _callback_of(packets)
            try:
                if anchored(callback_id) or self.clock() - packets.stat().st_mtime < age:
                    continue
                callback = await self.repo.get_callback(callback_id)
                if callback is not None and callback.state == CallbackState.CONNECTED:
                    continue  # its call may still be taken over
                taken = _claim(packets)
            except FileNotFoundError:
                continue  # another process took it (or it was mixed) meanwhile
            if callback is None:  # erased (or never stored): nobody's recording to keep
                taken.unlink(missing_ok=True)
                continue
            log.warning("recording of %s: its process died; finishing it here", callback_id)
            await self._mix(callback_id, taken, {"customer_id": callback.customer_id,
                                                 "visitor_id": callback.visitor_id, "agent_id": callback.agent_id},
                            at=callback.answered_at or callback.created_at)
            finished += 1
        return finished

    async def finish_recording(self, call: Call, meta: dict[str, Any]) -> None:
        """Mix the call's packets into ``var/recordings/<callback_id>.ogg``; put it on the timeline."""
        try:
            taken = _claim(call.recorder.path)  # so no sweep takes it while it is mixed
        except FileNotFoundError:
            log.warning("recording of %s: its packet log is gone (erased, or taken by a sweep)", call.id)
            return
        await self._mix(call.id, taken, meta, at=call.started_at)

    async def _mix(self, callback_id: str, packets: Path, meta: dict[str, Any], *, at: float) -> None:
        target = packets.parent / f"{callback_id}.ogg"
        try:
            seconds = await asyncio.to_thread(mix_to_ogg, packets, target)
            if meta.get("customer_id"):
                await self.repo.add_contact_event(
                    customer_id=meta["customer_id"], kind="call_recording", channel="voice",
                    at=at, visitor_id=meta.get("visitor_id"), callback_id=callback_id,
                    agent_id=meta.get("agent_id"),
                    data={"url": recording_url(callback_id), "seconds": round(seconds, 1),
                          "format": "audio/ogg; codecs=opus"})
        except Exception:
            log.exception("recording of %s not finished", callback_id)


def _claim(packets: Path) -> Path:
    """Rename a packet log (or an abandoned ``.mixing``) to ``<callback_id>.<token>.mixing``:
    atomic, so one process alone mixes it. Its time is set to now: an old ``.mixing`` is an
    abandoned one. Raises FileNotFoundError when another process took it first."""
    taken = packets.with_name(f"{_callback_of(packets)}.{secrets.token_hex(4)}.mixing")
    packets.rename(taken)
    os.utime(taken)
    return taken


def _callback_of(log_path: Path) -> str:
    return log_path.name.split(".", 1)[0]
