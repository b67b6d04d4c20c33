"""The sockets' side of "after the contact": a feature of the customer's and the agent's sockets.

- Agent: after a wrap-up with a summary (:meth:`AfterCallFeature.wrapped_up`, called by the
  agent's handler once the leader stored it), the customer's widget is sent ``after_call``
  and, for a customer with an e-mail address, the summary is mailed (once per contact,
  whichever process gets there first; in the background, with retries).
- Customer: ``welcome.after_call`` (the newest contact wrapped up with a summary within
  ``after_call_window`` and not reopened), ``rate`` (1-5, a later answer replaces it) and
  ``not_solved`` (once per contact: a new request, ahead in line, that follows it up).

Errors: ``not_found`` (no such contact of this customer's: another browser's token finds
nothing), ``invalid_state`` (not wrapped up yet, too long ago, reopened already),
``already_waiting`` (a request is open: cancel it first); a rating out of 1-5 never gets here
(``bad_message`` from the protocol).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from desktop.aftercall.mail import Mailer
from desktop.aftercall.words import summary_mail
from desktop.repository.errors import NumberWaiting
from desktop.rooms import visitor_room
from desktop.routing import commands
from desktop.routing.events import CallbackState
from signaling import protocol
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import AfterCall, OutAfterCall

__all__ = ["AfterCallFeature"]

log = logging.getLogger(__name__)


class AfterCallFeature:
    def __init__(self, *, repo, bus, router, settings, mailer: Mailer, clock=time.time) -> None:
        self.repo = repo
        self.bus = bus
        self.router = router
        self.settings = settings
        self.mailer = mailer
        self.clock = clock

    # -- the agent's side -------------------------------------------------------------------

    async def wrapped_up(self, callback_id: str) -> None:
        """The contact was wrapped up (stored by the leader): tell the customer what was done."""
        callback = await self.repo.get_callback(callback_id)
        if callback is None or not callback.summary:
            return
        view = await self._view(callback)
        if callback.visitor_id:
            await self.bus.publish(visitor_room(callback.visitor_id), OutAfterCall(after_call=view).to_dict())
        await self._mail(callback, view)

    async def _mail(self, callback, view: AfterCall) -> None:
        if not self.mailer.enabled:
            return
        customer = await self.repo.resolve_customer(callback.customer_id)
        if customer is None or not customer.email:
            return
        # Claimed in the database: a retried wrap-up, or another process, sends nothing twice.
        if not await self.repo.claim_summary_mail(callback.id, now=self.clock()):
            return
        message = summary_mail(
            to=customer.email, sender=self.mailer.config.sender, locale=callback.locale,
            name=customer.name or callback.name, agent=view.agent_name, summary=callback.summary,
            at=view.at, time_zone=self.settings.time_zone)
        self.mailer.send_later(message)

    # -- the customer's side ----------------------------------------------------------------

    async def welcome(self, session: Session) -> dict[str, Any]:
        if session.role != "customer":
            return {}
        since = self.clock() - self.settings.after_call_window
        callback = await self.repo.after_call_for_visitor(session.identity, since=since)
        return {"after_call": await self._view(callback) if callback is not None else None}

    async def on_rate(self, session: Session, message: protocol.Rate) -> dict[str, Any]:
        callback = await self._contact_of(session, message.callback_id)
        await self.repo.rate_contact(callback.id, message.rating, now=self.clock())
        return {}

    async def on_notsolved(self, session: Session, message: protocol.NotSolved) -> dict[str, Any]:
        callback = await self._contact_of(session, message.callback_id)
        if callback.reopened_at is not None:
            raise ProtocolError(ErrorCode.INVALID_STATE, "you have already said this was not solved; "
                                "the new request follows it up", detail={"reason": "reopened"})
        waiting = await self.repo.active_callback_for_visitor(session.identity)
        if waiting is not None:
            raise ProtocolError(ErrorCode.ALREADY_WAITING, "you already have a callback request open; "
                                "it is the one we follow up with", detail={"reason": "waiting"})
        values = dict(
            id=uuid.uuid4().hex, customer_id=callback.customer_id, visitor_id=session.identity,
            queue=callback.queue, name=callback.name, topic=callback.topic, message=callback.message,
            channel=str(callback.channel), phone=callback.phone, tier=callback.tier,
            command_id=message.id, locale=callback.locale,
        )
        try:
            created = await self.repo.reopen_contact(callback.id, values, now=self.clock())
        except NumberWaiting as exc:  # someone asked for a call to this number meanwhile: it is the one we make
            existing = exc.existing
            raise ProtocolError(ErrorCode.PHONE_WAITING, "this number already has a callback request; "
                                "we will call it once, no need to ask again", detail={
                                    "state": str(existing.state) if existing else "queued",
                                    "scheduled_at": existing.scheduled_at if existing else None}) from None
        if created is None:  # another tab or process got there first
            raise ProtocolError(ErrorCode.INVALID_STATE, "you have already said this was not solved; "
                                "the new request follows it up", detail={"reason": "reopened"})
        # Committed above; only now may the router hear of it.
        await self.router.notify(commands.CallbackAdded(callback_id=created.id))
        return {"callback_id": created.id}

    async def _contact_of(self, session: Session, callback_id: str):
        """The customer's own wrapped-up contact (this browser's, or their record's) within the window."""
        callback = await self.repo.get_callback(callback_id)
        mine = callback is not None and (
            callback.visitor_id == session.identity or callback.customer_id == session.data.get("customer_id"))
        if not mine:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such contact of yours")
        if callback.state != CallbackState.COMPLETED or callback.wrapped_up_at is None:
            raise ProtocolError(ErrorCode.INVALID_STATE, "this contact is not finished yet",
                                detail={"reason": "not_finished"})
        if callback.wrapped_up_at < self.clock() - self.settings.after_call_window:
            raise ProtocolError(ErrorCode.INVALID_STATE, "this contact is too long ago to rate or reopen; "
                                "please ask for a new call", detail={"reason": "too_old"})
        return callback

    async def _view(self, callback) -> AfterCall:
        agent = await self.repo.get_agent(callback.agent_id) if callback.agent_id else None
        return AfterCall(callback_id=callback.id, queue=callback.queue, summary=callback.summary or "",
                         agent_name=agent.display_name if agent else None,
                         at=callback.wrapped_up_at or callback.ended_at or callback.created_at,
                         rating=callback.rating)
