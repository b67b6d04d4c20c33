"""The agent's feedback on suggestions (``suggestion_feedback``), on agent sockets.

Each outcome (shown, presented, accepted, declined) goes into the interaction
history (:mod:`desktop.repository.interactions`), once per contact, action and
version, and then onto the customer's timeline as ``suggestion_<outcome>``. Only
the agent holding the offer or the contact may say it; the action must be in
the published version it names (its product is taken from there, never from the
browser, for attribution).
"""

from __future__ import annotations

import time
from typing import Any

from desktop.repository.repository import Repository
from desktop.routing.events import CallbackState
from desktop.rules.actions import Action
from signaling import protocol
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["SuggestionFeedbackFeature", "TIMELINE_KINDS"]

TIMELINE_KINDS = ("suggestion_shown", "suggestion_presented", "suggestion_accepted", "suggestion_declined")
#: Published versions never change: their actions are kept once read (a few at a time).
VERSIONS_KEPT = 8


class SuggestionFeedbackFeature:
    """An agent-socket feature (``desktop.sockets.base.RoleHandler.features``)."""

    def __init__(self, repo: Repository, *, clock=time.time):
        self.repo = repo
        self.clock = clock
        self._versions: dict[int, dict[str, Action]] = {}

    async def on_suggestionfeedback(self, session: Session, message: protocol.SuggestionFeedback) -> dict[str, Any]:
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or not await self._handles(session.identity, callback):
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such contact of yours")
        action = (await self._actions(message.version)).get(message.action_id)
        if action is None:
            raise ProtocolError(ErrorCode.NOT_FOUND,
                                f"no action {message.action_id!r} in published version {message.version}")
        customer = await self.repo.resolve_customer(callback.customer_id)
        customer_id = customer.id if customer is not None else callback.customer_id
        now = self.clock()
        reason = message.reason.strip() if message.outcome == "declined" else ""
        recorded = await self.repo.record_interaction(
            customer_id=customer_id, callback_id=callback.id, agent_id=session.identity,
            action_id=action.id, version=message.version, outcome=message.outcome, at=now,
            queue=callback.queue, tier=customer.tier if customer is not None else callback.tier,
            product=action.product_sku or None, reason=reason or None)
        if recorded:
            data: dict[str, Any] = {"action_id": action.id, "version": message.version, "title": action.title,
                                    "kind": str(action.kind)}
            if reason:
                data["reason"] = reason
            if action.product_sku:
                data["product"] = action.product_sku
            await self.repo.add_contact_event(
                customer_id=customer_id, kind=f"suggestion_{message.outcome}", channel="desk", at=now,
                callback_id=callback.id, agent_id=session.identity, data=data)
        return {"recorded": recorded}

    async def _handles(self, agent_id: str, callback) -> bool:
        """Whether ``agent_id`` rings for, talks with or wraps up ``callback``."""
        if callback.agent_id == agent_id and callback.state in (
                CallbackState.CONNECTED, CallbackState.COMPLETED):
            return True
        if callback.state == CallbackState.OFFERED:
            offer = await self.repo.open_offer_for_callback(callback.id)
            return offer is not None and offer.agent_id == agent_id
        return False

    async def _actions(self, version: int) -> dict[str, Action]:
        if version not in self._versions:
            try:
                published = await self.repo.rule_version(version)
            except LookupError:  # never published
                return {}
            if len(self._versions) >= VERSIONS_KEPT:
                self._versions.pop(next(iter(self._versions)))
            self._versions[version] = {a.id: a for a in published.actions}
        return self._versions[version]
