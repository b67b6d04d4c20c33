"""What each routing event tells whom, once the leader has written it to the database.

Offers, contacts and agent states go to the agent's room; a customer's callback
status (:mod:`desktop.routing.status`) to the visitor's room. The contact card is
read afresh for the offer, the connection and the wrap-up: the customer keeps
moving (pages, cart) while the offer rings, and a card kept from the offer would
take the agent back in time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from desktop.routing.status import CallbackStatuses, Update
from desktop.contacts.card import contact_card
from desktop.repository.repository import Repository
from desktop.rooms import agent_room, visitor_room
from desktop.suggestions.live import Suggester
from desktop.routing.events import (
    AgentStateChanged, CallbackConnected, CallbackEnded, CallbackQueued, CallbackScheduled,
    CallbackState, OfferEnded, OfferMade, QueueChanged,
)
from signaling.bus import Bus
from signaling.protocol.outbound import (
    AgentStatus, OutAgentState, OutCallbackStatus, OutContact, OutOffer, OutOfferEnded, checked,
)

__all__ = ["Announcer", "ContactEndedHook"]

#: Told ``(visitor_id=..., callback_id=...)`` when a contact with a visitor ends, after the
#: event is written: how a feature the leader must not import (co-browse) ends with the contact.
ContactEndedHook = Callable[..., Awaitable[None]]


class Announcer:
    """Publishes routing events to the rooms of the browsers concerned.

    ``queue_titles`` (queue name -> title) names every queue; the caller may keep filling it in.
    ``wrapup_timeout`` (seconds) is told to the agent with the wrap-up card, as its end.
    ``on_contact_ended`` are awaited in order for each ended callback that had a visitor.
    ``suggester`` gives the business rules' suggestions: on the connected card, and right
    after each offer (which rings without waiting for them) as a ``suggestions`` message;
    none without one. It never raises and keeps to its time budget.
    """

    def __init__(self, *, repo: Repository, bus: Bus, statuses: CallbackStatuses,
                 queue_titles: Mapping[str, str], wrapup_timeout: float, clock=time.time,
                 on_contact_ended: Sequence[ContactEndedHook] = (), suggester: Suggester | None = None,
                 wrapup_timeouts: Mapping[str, float] | None = None,
                 dispositions: Mapping[str, Sequence[str]] | None = None):
        self.repo = repo
        self.on_contact_ended = tuple(on_contact_ended)
        self.suggester = suggester
        self.wrapup_timeout = wrapup_timeout
        #: Queue name -> its own wrap-up seconds (read when told; the caller keeps it filled in).
        self.wrapup_timeouts = wrapup_timeouts if wrapup_timeouts is not None else {}
        #: Queue name -> its wrap-up outcomes, kept up to date by the caller (the cards' own
        #: query otherwise: one of an offer's six).
        self.dispositions = dispositions
        self.bus = bus
        self.statuses = statuses
        self.queue_titles = queue_titles
        self.clock = clock

    async def announce(self, event) -> Iterable[str]:
        """Tell the rooms concerned; return the queues whose waiting customers' places may have changed."""
        match event:
            case OfferMade():
                card = await contact_card(self.repo, event.callback_id, state="offered",
                                          dispositions=self.dispositions)
                if card is not None:
                    # The offer rings at once, with what this process last suggested for the
                    # contact (a re-offer) or nothing; the rules' reads and match follow in the
                    # background as a ``suggestions`` message: rules never slow an offer.
                    card["suggestions"] = self.suggester.known(event.callback_id) if self.suggester else []
                    await self.bus.publish(agent_room(event.agent_id), OutOffer(offer={
                        **card, "offer_id": event.offer_id, "offered_at": event.at,
                        "expires_at": event.expires_at}).to_dict())
                    if self.suggester is not None:
                        self.suggester.follow(event.agent_id, card)
                await self.status_now(event.callback_id)
            case OfferEnded():
                await self.bus.publish(agent_room(event.agent_id), OutOfferEnded(
                    offer_id=event.offer_id, callback_id=event.callback_id,
                    outcome=str(event.outcome)).to_dict())
            case CallbackConnected():
                card = await contact_card(self.repo, event.callback_id, state="connected",
                                          dispositions=self.dispositions)
                if card is not None:
                    card["suggestions"] = await self._suggestions(card)
                await self.bus.publish(agent_room(event.agent_id), OutContact(contact=card).to_dict())
                await self.status_now(event.callback_id, agent_id=event.agent_id)
            case CallbackEnded():
                if event.state == CallbackState.COMPLETED and event.agent_id:
                    card = await contact_card(self.repo, event.callback_id, state="wrap_up",
                                              dispositions=self.dispositions, offer={
                        "wrap_up_ends_at": event.at + self.wrapup_timeouts.get(
                            self.statuses.queue_of(event.callback_id) or "", self.wrapup_timeout),
                        # Ended by the leader, not a hang-up the desk saw (a caller's line dropped).
                        **({"ended_reason": event.reason} if event.reason else {})})
                    await self.bus.publish(agent_room(event.agent_id), OutContact(contact=card).to_dict())
                await self._contact_ended(event.callback_id)
                if self.suggester is not None:
                    self.suggester.forget(event.callback_id)
                await self.status_now(event.callback_id, final=str(event.state), agent_id=event.agent_id)
                self.statuses.forget(event.callback_id)
            case AgentStateChanged():
                await self.bus.publish(agent_room(event.agent_id), OutAgentState(state=AgentStatus(
                    state=str(event.state), reason=event.reason, since=event.at)).to_dict())
                # Estimated waits depend on staffing: of the queues this agent can take, not the
                # others (whose lines may be long: every waiting customer's status is recomputed).
                return self.statuses.queues_of_agent(event.agent_id)
            case CallbackQueued():
                await self.status_now(event.callback_id)
                return (event.queue,)
            case CallbackScheduled():
                await self.status_now(event.callback_id)
            case QueueChanged():
                return (event.queue,)
        return ()

    async def _suggestions(self, card) -> list:
        return await self.suggester.suggest(card) if self.suggester is not None else []

    async def _contact_ended(self, callback_id: str) -> None:
        """Tell the hooks the contact ended (End, the customer hanging up, a cancel): co-browse
        access ends with it."""
        if not self.on_contact_ended:
            return
        visitor_id = self.statuses.visitor_of(callback_id)
        if visitor_id is None:
            record = await self.repo.get_callback(callback_id)
            visitor_id = record.visitor_id if record is not None else None
        if visitor_id:
            for hook in self.on_contact_ended:
                await hook(visitor_id=visitor_id, callback_id=callback_id)

    async def status_now(self, callback_id: str, *, final: str | None = None,
                         agent_id: str | None = None, again: bool = False) -> None:
        """Tell the customer where their callback stands, if that changed (``again``: even if not)."""
        await self.tell_customer(self.statuses.update(callback_id, self.clock(), final=final,
                                                      agent_id=agent_id, again=again))

    async def tell_customer(self, update: Update | None) -> None:
        if update is not None:
            visitor_id, message = update  # built by the pure core, which can't import the protocol
            await self.bus.publish(visitor_room(visitor_id), checked(OutCallbackStatus, message))
