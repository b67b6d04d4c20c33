"""What each routing event tells whom, once the leader has written it to the database.

Offers, contacts and agent states go to the agent's room; a customer's callback
status (:mod:`desktop.routing.status`) to the visitor's room. The contact card is
read afresh for the offer, the connection and the wrap-up: the customer keeps
moving (pages, cart) while the offer rings, and a card kept from the offer would
take the agent back in time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from desktop.cobrowse.feature import contact_ended as cobrowse_contact_ended
from desktop.routing.status import CallbackStatuses, Update
from desktop.contacts.card import contact_card
from desktop.repository.repository import Repository
from desktop.rooms import agent_room, visitor_room
from desktop.routing.events import (
    AgentStateChanged, CallbackConnected, CallbackEnded, CallbackQueued, CallbackScheduled,
    CallbackState, OfferEnded, OfferMade, QueueChanged,
)
from signaling.bus import Bus

__all__ = ["Announcer"]


class Announcer:
    """Publishes routing events to the rooms of the browsers concerned.

    ``queue_titles`` (queue name -> title) names every queue; the caller may keep filling it in.
    ``wrapup_timeout`` (seconds) is told to the agent with the wrap-up card, as its end.
    """

    def __init__(self, *, repo: Repository, bus: Bus, statuses: CallbackStatuses,
                 queue_titles: Mapping[str, str], wrapup_timeout: float, clock=time.time,
                 wrapup_timeouts: Mapping[str, float] | None = None):
        self.repo = repo
        self.wrapup_timeout = wrapup_timeout
        #: Queue name -> its own wrap-up seconds (read when told; the caller keeps it filled in).
        self.wrapup_timeouts = wrapup_timeouts if wrapup_timeouts is not None else {}
        self.bus = bus
        self.statuses = statuses
        self.queue_titles = queue_titles
        self.clock = clock

    async def announce(self, event) -> Iterable[str]:
        """Tell the rooms concerned; return the queues whose waiting customers' places may have changed."""
        match event:
            case OfferMade():
                card = await contact_card(self.repo, event.callback_id, state="offered")
                if card is not None:
                    await self.bus.publish(agent_room(event.agent_id), {"type": "offer", "offer": {
                        **card, "offer_id": event.offer_id, "offered_at": event.at,
                        "expires_at": event.expires_at}})
                await self.status_now(event.callback_id)
            case OfferEnded():
                await self.bus.publish(agent_room(event.agent_id), {
                    "type": "offer_ended", "offer_id": event.offer_id,
                    "callback_id": event.callback_id, "outcome": str(event.outcome)})
            case CallbackConnected():
                card = await contact_card(self.repo, event.callback_id, state="connected")
                await self.bus.publish(agent_room(event.agent_id), {"type": "contact", "contact": card})
                await self.status_now(event.callback_id, agent_id=event.agent_id)
            case CallbackEnded():
                if event.state == CallbackState.COMPLETED and event.agent_id:
                    card = await contact_card(self.repo, event.callback_id, state="wrap_up", offer={
                        "wrap_up_ends_at": event.at + self.wrapup_timeouts.get(
                            self.statuses.queue_of(event.callback_id) or "", self.wrapup_timeout)})
                    await self.bus.publish(agent_room(event.agent_id), {"type": "contact", "contact": card})
                await self._end_cobrowse(event.callback_id)
                await self.status_now(event.callback_id, final=str(event.state), agent_id=event.agent_id)
                self.statuses.forget(event.callback_id)
            case AgentStateChanged():
                await self.bus.publish(agent_room(event.agent_id), {
                    "type": "agent_state",
                    "state": {"state": str(event.state), "reason": event.reason, "since": event.at}})
                return list(self.queue_titles)  # estimated waits depend on staffing
            case CallbackQueued():
                await self.status_now(event.callback_id)
                return (event.queue,)
            case CallbackScheduled():
                await self.status_now(event.callback_id)
            case QueueChanged():
                return (event.queue,)
        return ()

    async def _end_cobrowse(self, callback_id: str) -> None:
        """Co-browse access ends with the contact (End, the customer hanging up, a cancel)."""
        visitor_id = self.statuses.visitor_of(callback_id)
        if visitor_id is None:
            record = await self.repo.get_callback(callback_id)
            visitor_id = record.visitor_id if record is not None else None
        if visitor_id:
            await cobrowse_contact_ended(self.bus, visitor_id=visitor_id, callback_id=callback_id)

    async def status_now(self, callback_id: str, *, final: str | None = None,
                         agent_id: str | None = None, again: bool = False) -> None:
        """Tell the customer where their callback stands, if that changed (``again``: even if not)."""
        await self.tell_customer(self.statuses.update(callback_id, self.clock(), final=final,
                                                      agent_id=agent_id, again=again))

    async def tell_customer(self, update: Update | None) -> None:
        if update is not None:
            visitor_id, message = update
            await self.bus.publish(visitor_room(visitor_id), message)
