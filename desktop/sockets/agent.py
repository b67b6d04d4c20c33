"""The agent's socket: state, offers, accept, end and wrap-up, all through the leader."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from desktop.auth.agents import agent_public, takes_calls
from desktop.contacts.card import DEFAULT_DISPOSITIONS, contact_card, dispositions_of
from desktop.routing import commands
from desktop.rooms import agent_room
from desktop.routing.events import AgentState, CallbackState
from desktop.sockets.base import RoleHandler, outcome_key
from signaling import protocol
from signaling.hub import Session, Unauthorized
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import AgentWelcome

__all__ = ["AgentHandler", "DISPOSITIONS"]

#: The outcomes of a queue without its own list (each contact card carries its queue's).
DISPOSITIONS = DEFAULT_DISPOSITIONS


class AgentHandler(RoleHandler):
    role = "agent"
    welcome_fields = AgentWelcome

    async def authenticate(self, websocket: WebSocket, hello: protocol.Hello) -> Session:
        staff = await self._staff_from_cookie(websocket)
        agent = staff.agent
        if not takes_calls(agent):
            raise Unauthorized("the desk is for agents: a supervisor without skills has the wall")
        # Signing out publishes session_ended with this tag to the agent's room: the hub closes it.
        return Session(role=self.role, room=agent_room(agent.id), identity=agent.id,
                       data={"socket": self.presence.key()}, tag=staff.tag)

    async def _welcome(self, session: Session) -> dict[str, Any]:
        agent = await self.repo.get_agent(session.identity)
        offer = contact = None
        pending = await self.repo.open_offer_for_agent(agent.id)
        if pending is not None:
            offer = await contact_card(self.repo, pending.callback_id, state="offered", offer={
                "offer_id": pending.id, "offered_at": pending.offered_at, "expires_at": pending.expires_at})
        current = await self.repo.current_contact_for_agent(agent.id)
        if current is not None:
            in_wrap_up = current.state != CallbackState.CONNECTED
            ends = {"wrap_up_ends_at": (agent.state_since or self.clock()) + self.settings.wrapup_timeout}
            contact = await contact_card(self.repo, current.id, state="wrap_up" if in_wrap_up else "connected",
                                         offer=ends if in_wrap_up else None)
        if self.suggester is not None:  # as the offer and the connected card had them
            for card in (offer, contact if contact and contact["state"] == "connected" else None):
                if card is not None:
                    card["suggestions"] = await self.suggester.suggest(card)
        state = agent.state if agent.state != AgentState.OFFLINE else AgentState.AWAY
        return {
            "agent": agent_public(agent),
            "state": {"state": str(state), "reason": agent.state_reason or "", "since": agent.state_since},
            "offer": offer, "contact": contact, "dispositions": list(DISPOSITIONS),
            "queues": await self.queues(),
        }

    async def on_setstate(self, session: Session, message: protocol.SetState) -> None:
        await self.router.call(commands.SetState(agent_id=session.identity, state=message.state,
                                                 reason=message.reason, command_key=outcome_key(session, message)))

    async def on_accept(self, session: Session, message: protocol.Accept) -> None:
        await self.router.call(commands.Accept(agent_id=session.identity, offer_id=message.offer_id,
                                               command_key=outcome_key(session, message)))

    async def on_decline(self, session: Session, message: protocol.Decline) -> None:
        await self.router.call(commands.Decline(agent_id=session.identity, offer_id=message.offer_id,
                                                command_key=outcome_key(session, message)))

    async def on_end(self, session: Session, message: protocol.End) -> None:
        await self.router.call(commands.End(agent_id=session.identity, callback_id=message.callback_id,
                                            command_key=outcome_key(session, message)))

    async def on_wrapup(self, session: Session, message: protocol.WrapUp) -> None:
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or callback.agent_id != session.identity:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such contact of yours")
        # Only a wrap-up whose time ran out may be saved without an outcome.
        outcomes = await dispositions_of(self.repo, callback.queue)
        if message.disposition not in outcomes and not (message.timed_out and not message.disposition):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"choose an outcome: one of {', '.join(outcomes)}")
        if callback.state == CallbackState.CONNECTED:
            raise ProtocolError(ErrorCode.INVALID_STATE, "end the call before wrapping it up")
        await self.router.call(commands.WrapUp(agent_id=session.identity, callback_id=callback.id,
                                               disposition=message.disposition, note=message.note,
                                               timed_out=message.timed_out, summary=message.summary.strip(),
                                               command_key=outcome_key(session, message)))
        # Stored by the leader: the features tell whoever else should know (the customer: aftercall).
        for feature in self.features:
            if hasattr(feature, "wrapped_up"):
                await feature.wrapped_up(callback.id)
