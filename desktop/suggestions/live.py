"""Suggestions for a contact, now: the live catalogue matched against the customer's snapshot.

:meth:`Suggester.suggest` is what the connected card (and a reloaded desk) calls.
It must never break the card: reading the snapshot and the history and matching
all run within ``budget`` seconds; a failure or an overrun gives the last
suggestions this process made for the contact (or none) and is counted in
:attr:`Suggester.counts`. The matcher itself (:meth:`Catalogue.match`) has its
own budget and falls back the same way.

:meth:`Suggester.follow` is for an offer, which rings without waiting: the match
runs in a task of its own after it and publishes ``suggestions`` to the agent's
room. :meth:`Suggester.refresh` does the same for changes during the offer and
the call (a page, the cart, the site's context), one match at a time per
contact (changes that arrive meanwhile make one more match, not one each).
Nothing waits for these, so they get ``background_budget`` (1 s): a loaded
database delays the suggestions instead of losing them.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from desktop.contacts.card import contact_card
from desktop.contacts.snapshot import ORDERS_READ, SnapshotReader
from desktop.repository.interactions import InteractionRecord
from desktop.repository.repository import Repository
from desktop.rooms import agent_room
from desktop.rules.actions import Impression, Outcome
from desktop.rules.catalogue import Catalogue, Decision, Suggestion
from signaling.bus import Bus
from signaling.protocol.outbound import OutSuggestions

__all__ = ["Suggester", "suggestion_json", "impressions_of", "LIMIT"]

log = logging.getLogger(__name__)

#: Suggestions on a card.
LIMIT = 3
#: Contacts whose last decision is kept for the fallback.
KEEP_LAST = 2000
#: The furthest an interaction went, for the contact policies (a refusal outranks all).
_RANK = {"shown": 0, "presented": 1, "accepted": 2, "declined": 3}


class _LiveRules(Protocol):
    def current(self) -> Catalogue: ...


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    """A suggestion as the desk shows it (docs/protocol.md, ``suggestions``)."""
    push = suggestion.push
    return {
        "action_id": suggestion.action_id, "version": suggestion.version, "kind": str(suggestion.kind),
        "title": suggestion.title, "script": suggestion.script,
        "product_sku": suggestion.product_sku or None, "product_name": suggestion.product_name or None,
        "push": {"kind": str(push.kind), "target": push.target, "label": push.label} if push else None,
        "value": suggestion.value,
    }


def impressions_of(rows: Iterable[InteractionRecord]) -> list[Impression]:
    """The history the matcher reads: one impression per contact and action, its furthest outcome."""
    best: dict[tuple[str, str], InteractionRecord] = {}
    newest: dict[tuple[str, str], float] = {}
    for row in rows:
        key = (row.callback_id, row.action_id)
        newest[key] = max(newest.get(key, row.at), row.at)
        if key not in best or _RANK.get(row.outcome, 0) > _RANK.get(best[key].outcome, 0):
            best[key] = row
    return [Impression(action_id=row.action_id, contact_id=row.callback_id, at=newest[key],
                       outcome=Outcome(row.outcome)) for key, row in best.items()]


class Suggester:
    """Matches the live catalogue for contacts; one per process.

    ``rules``: the process's live catalogue holder (``current()``); ``budget``: seconds the
    whole of a suggestion may take (snapshot, history, match); ``history_days``: how far
    back the contact policies look; ``zone``: the contact centre's time zone.
    """

    def __init__(self, *, repo: Repository, bus: Bus, rules: _LiveRules, zone: str = "UTC",
                 budget: float = 0.25, match_budget: float = 0.05, background_budget: float = 1.0,
                 history_days: float = 365.0,
                 clock: Callable[[], float] = time.time):
        self.repo = repo
        self.bus = bus
        self.rules = rules
        self.budget = budget
        self.match_budget = match_budget
        self.background_budget = background_budget
        self.history_days = history_days
        self.clock = clock
        self.reader = SnapshotReader(repo, zone=zone, clock=clock)
        self.counts: collections.Counter[str] = collections.Counter()
        self._last: collections.OrderedDict[str, Decision] = collections.OrderedDict()
        self._running: dict[str, asyncio.Task] = {}
        self._again: set[str] = set()
        self._agents: dict[str, str] = {}  # callback id -> the agent its running match tells

    async def suggest(self, card: Mapping[str, Any], *, background: bool = False) -> list[dict[str, Any]]:
        """The top suggestions for ``card`` (a contact card), best first; never raises.

        ``background``: nothing waits for the answer (it follows the offer, or a change), so
        it gets ``background_budget`` instead of ``budget`` (and ten times the matcher's)."""
        callback_id = card.get("callback_id") or ""
        if not len(self.rules.current()):
            return []  # nothing published: no reads, the offer goes out as it would without rules
        budget = self.background_budget if background else self.budget
        try:
            # Not asyncio.wait_for: on Python 3.11 it drops a cancel landing as the match ends, and
            # this runs in the router's task, which a stop cancels once (tests/integration/
            # test_router_stop.py).
            async with asyncio.timeout(budget):
                decision = await self._decide(card, background)
        except TimeoutError:
            self.counts["fallback_over_budget"] += 1
            log.warning("suggestions for %s took over %.0f ms: the last ones stand", callback_id, budget * 1000)
            decision = self._last.get(callback_id)
        except Exception:
            self.counts["fallback_error"] += 1
            log.exception("suggestions for %s failed: the last ones stand", callback_id)
            decision = self._last.get(callback_id)
        else:
            self.counts["matched"] += 1
            if decision.timed_out:
                self.counts["fallback_match_over_budget"] += 1
            if decision.errors:
                self.counts["rule_errors"] += decision.errors
            self._keep(callback_id, decision)
        return [suggestion_json(s) for s in decision.suggestions] if decision is not None else []

    async def _decide(self, card: Mapping[str, Any], background: bool = False) -> Decision:
        now = self.clock()
        callback_id = card.get("callback_id") or None
        customer_id = (card.get("customer") or {}).get("id")
        orders, score, rows = [], None, []
        if customer_id:  # orders, scores and history in one read
            orders, score, rows = await self.repo.suggestion_inputs(
                customer_id, since=now - self.history_days * 86400, orders=ORDERS_READ)
        snapshot = await self.reader.snapshot(card, now=now, orders=orders, score=score)
        catalogue = self.rules.current()
        return catalogue.match(snapshot, impressions_of(rows), now=now,
                               queue=(card.get("callback") or {}).get("queue") or None,
                               contact_id=callback_id, limit=LIMIT,
                               budget=self.match_budget * (10 if background else 1),
                               fallback=self._last.get(callback_id or ""), explain=False)

    def _keep(self, callback_id: str, decision: Decision) -> None:
        if not callback_id:
            return
        self._last[callback_id] = decision
        self._last.move_to_end(callback_id)
        while len(self._last) > KEEP_LAST:
            self._last.popitem(last=False)

    # -- during the offer and the call -------------------------------------------------

    def known(self, callback_id: str) -> list[dict[str, Any]]:
        """The last suggestions this process made for the contact (none yet: ``[]``); no I/O."""
        decision = self._last.get(callback_id)
        return [suggestion_json(s) for s in decision.suggestions] if decision is not None else []

    def follow(self, agent_id: str, card: Mapping[str, Any]) -> None:
        """Match for ``card`` (just sent to the agent) and tell the agent (``suggestions``), in the
        background: how the offer rings without waiting for the rules' reads and match."""
        if not len(self.rules.current()) and not self.known(card.get("callback_id") or ""):
            return  # nothing published, nothing shown: nothing to say
        self.refresh(agent_id, card.get("callback_id") or "", state=card.get("state") or "offered", card=card)

    def refresh(self, agent_id: str, callback_id: str, *, state: str,
                card: Mapping[str, Any] | None = None) -> None:
        """Match again for the contact and tell the agent (``suggestions``), in the background.

        ``card``: the contact card as it is now, if the caller has it (else it is read)."""
        if not callback_id:
            return
        self._agents[callback_id] = agent_id  # a re-offer goes to another agent: tell the newest
        if callback_id in self._running:
            self._again.add(callback_id)  # one more match once this one ends
            return
        task = asyncio.create_task(self._refresh(agent_id, callback_id, state, card), name=f"suggest:{callback_id}")
        self._running[callback_id] = task

    async def _refresh(self, agent_id: str, callback_id: str, state: str,
                       card: Mapping[str, Any] | None = None) -> None:
        try:
            while True:
                self._again.discard(callback_id)
                if card is None:
                    card = await contact_card(self.repo, callback_id, state=state)
                if card is None:
                    return
                suggestions = await self.suggest(card, background=True)
                await self.bus.publish(agent_room(self._agents.get(callback_id, agent_id)), OutSuggestions(
                    callback_id=callback_id, suggestions=suggestions).to_dict())
                if callback_id not in self._again:
                    return
                card = None  # something changed meanwhile: read it afresh
        except Exception:
            self.counts["fallback_error"] += 1
            log.exception("suggestions for %s could not be refreshed", callback_id)
        finally:
            self._running.pop(callback_id, None)
            self._agents.pop(callback_id, None)

    async def settle(self) -> None:
        """Wait for the refreshes under way (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    def forget(self, callback_id: str) -> None:
        """The contact ended: its fallback is no use any more."""
        self._last.pop(callback_id, None)

