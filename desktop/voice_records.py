"""A voice call's record: on the customer's timeline, and the recording played in the desk.

When a call ends, :class:`CallRecords` puts a ``voice_call`` event on the customer's
timeline (its length, each leg's last quality) and, if it was recorded, mixes the
packets into ``var/recordings/<callback_id>.ogg`` and adds a ``call_recording`` event.
The customer's answer to "may we record?" is a ``recording_consent`` event: an audit
of consent, and what a process that takes a call over reads back so the customer is
not asked again. A failed write is logged, never raised: the call itself goes on.

:data:`routes` serves recordings to staff signed in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from desktop.repository.repository import Repository
from signaling.voice.anchor import Call
from signaling.voice.recorder import mix_to_ogg

__all__ = ["CallRecords", "RECORDING_CONSENT", "recording_mode", "recording_url", "routes"]

log = logging.getLogger(__name__)

#: The timeline kind of the customer's answer to "may we record?" (``data: {"given": bool}``).
RECORDING_CONSENT = "recording_consent"


def recording_mode(rules: Iterable[str], queue: str) -> str | None:
    """"on", "consent" (asked of the customer first) or None for a queue's calls, from
    OTODESK_VOICE_RECORDING's rules (``queue[:consent]``, ``*`` for every queue; the first match wins)."""
    for entry in rules:
        name, _, how = entry.partition(":")
        if name in ("*", queue):
            return "consent" if how.strip() == "consent" else "on"
    return None


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
                data={"seconds": round(self.clock() - call.started_at, 1), "quality": quality,
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

    async def finish_recording(self, call: Call, meta: dict[str, Any]) -> None:
        """Mix the call's packets into ``var/recordings/<callback_id>.ogg``; put it on the timeline."""
        packets = call.recorder.path
        target = packets.with_suffix(".ogg")
        try:
            seconds = await asyncio.to_thread(mix_to_ogg, packets, target)
            if meta.get("customer_id"):
                await self.repo.add_contact_event(
                    customer_id=meta["customer_id"], kind="call_recording", channel="voice",
                    at=call.started_at, visitor_id=meta.get("visitor_id"), callback_id=call.id,
                    agent_id=meta.get("agent_id"),
                    data={"url": recording_url(call.id), "seconds": round(seconds, 1),
                          "format": "audio/ogg; codecs=opus"})
        except Exception:
            log.exception("recording of %s not finished", call.id)


# -- recordings, played in the desk --------------------------------------------------------

def recording_url(callback_id: str) -> str:
    return f"/voice/recordings/{callback_id}.ogg"


async def recording(request: Request) -> Response:
    """A call's recording, for staff signed in (agents, supervisors)."""
    from desktop.web.auth import SESSION_COOKIE

    data = request.app.state.signer.read_session(request.cookies.get(SESSION_COOKIE))
    if not data or await request.app.state.repo.get_agent(data["agent"]) is None:
        return PlainTextResponse("log in first", status_code=401)
    callback_id = request.path_params["callback_id"]
    if not callback_id.isalnum():
        return PlainTextResponse("no such recording", status_code=404)
    path = Path(request.app.state.settings.var_dir) / "recordings" / f"{callback_id}.ogg"
    if not path.is_file():  # never made, or deleted by retention or erasure
        return PlainTextResponse("this recording is not kept (any more)", status_code=404)
    return FileResponse(path, media_type="audio/ogg")


routes = [Route("/voice/recordings/{callback_id}.ogg", recording)]
