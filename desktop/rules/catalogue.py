"""The matcher: a published catalogue compiled once, matched against a snapshot in memory.

``Catalogue.compile(actions, version=...)`` parses every condition (raising
:class:`~desktop.rules.conditions.ConditionError` for the first bad one) and indexes the
actions by their guards. ``catalogue.match(snapshot, history, now=...)`` runs the funnel —
disabled, queue, validity, eligibility, applicability, suitability, contact policy — then
arbitrates the survivors by priority × value × lever (ties: the more specific action, then
the catalogue's order) and keeps the best ``limit``. Every action that is not suggested is in
``Decision.excluded`` with its stage and a reason a planner can read.

Pure: no I/O, no wall clock (``now`` is passed in). The only clock read is the time budget's
(``clock``, a monotonic counter), which decides whether to fall back to the caller's last
result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import msgspec

from desktop.rules.actions import (
    Action, CatalogueSettings, Impression, Kind, Outcome, Push, Stage,
)
from desktop.rules.conditions import Condition, ConditionError, Fact, _preference, compile_condition, snapshot_facts
from desktop.rules.script import render_script, script_errors
from desktop.rules.snapshot import FIELD_TYPES, Snapshot, snapshot_context

__all__ = ["Catalogue", "CompiledAction", "Decision", "Suggestion", "Exclusion", "DAY"]

DAY = 86400.0
_CONDITION_STAGES = (Stage.ELIGIBILITY, Stage.APPLICABILITY, Stage.SUITABILITY)
#: Read the budget's clock every this many evaluated actions (a read costs ~50 ns, an action ~20 µs).
_CLOCK_EVERY = 8


class Suggestion(msgspec.Struct, kw_only=True, frozen=True):
    action_id: str
    kind: Kind
    title: str
    script: str
    product_sku: str
    product_name: str
    push: Push | None
    value: float
    score: float
    version: int


class Exclusion(msgspec.Struct, kw_only=True, frozen=True):
    action_id: str
    title: str
    stage: Stage
    reason: str


class Decision(msgspec.Struct, kw_only=True):
    suggestions: list[Suggestion]
    excluded: list[Exclusion]
    errors: int = 0
    timed_out: bool = False
    version: int = 0


class CompiledAction:
    """An action with its conditions compiled and its ranking figures worked out once."""

    __slots__ = ("action", "conditions", "score", "specificity", "order", "guard", "guard_stage",
                 "guard_exclusion", "queues")

    def __init__(self, action: Action, order: int):
        self.action, self.order = action, order
        self.conditions: tuple[Condition, ...] = tuple(
            compile_condition(getattr(action, stage.value), field=stage.value, action_id=action.id)
            for stage in _CONDITION_STAGES)
        problems = script_errors(action.script)
        if problems:
            position, message = problems[0]
            raise ConditionError(message, text=action.script, position=position, field="script",
                                 action_id=action.id)
        self.score = action.priority * action.value * action.lever
        self.specificity = sum(c.clauses for c in self.conditions) + (1 if action.queues else 0)
        self.queues = frozenset(action.queues)
        # The guard: the most selective fact any stage requires, so the index skips the action
        # for customers without it. When it sits in the first stage with a condition, skipping
        # it names that very stage; otherwise an explained match evaluates it in full, so the
        # stage it names is always the one a full evaluation names.
        self.guard: Fact | None = None
        self.guard_exclusion: Exclusion | None = None
        first_stage = next((stage for stage, c in zip(_CONDITION_STAGES, self.conditions) if not c.always), None)
        choices = [(_preference(fact[0]), n, fact, stage, condition)
                   for n, (stage, condition) in enumerate(zip(_CONDITION_STAGES, self.conditions))
                   for fact in condition.guards]
        if choices:
            _, _, self.guard, stage, condition = min(choices, key=lambda choice: choice[:2])
            if stage == first_stage:
                field, value = self.guard
                needs = (f"{field} is false" if value is True else
                         f"{field} is not {value!r}" if FIELD_TYPES[field] == FIELD_TYPES["tier"] else
                         f"{value!r} is not in {field}")
                self.guard_exclusion = Exclusion(action_id=action.id, title=action.title, stage=stage,
                                                 reason=f"{needs} ({condition.text})")

    def rank_key(self) -> tuple:
        return (-self.score, -self.specificity, self.order)


class Catalogue:
    """An immutable, compiled catalogue; safe to share between tasks."""

    def __init__(self, compiled: Sequence[CompiledAction], *, version: int, settings: CatalogueSettings,
                 index: bool = True):
        self.version, self.settings = version, settings
        self.actions: tuple[CompiledAction, ...] = tuple(compiled)
        self._by_fact: dict[Fact, list[CompiledAction]] = {}
        self._unguarded: list[CompiledAction] = []
        for item in self.actions:
            if item.guard is None or not index:
                self._unguarded.append(item)
            else:
                self._by_fact.setdefault(item.guard, []).append(item)
        self._fact_fields = frozenset(field for item in self.actions for c in item.conditions for field in c.fields) \
            | {field for field, _ in self._by_fact}

    def __len__(self) -> int:
        return len(self.actions)

    @classmethod
    def compile(cls, actions: Iterable[Action], *, version: int = 0,
                settings: CatalogueSettings | None = None, index: bool = True) -> Catalogue:
        """Compile every action (raises ConditionError, naming the action, for a bad one).

        ``index=False`` evaluates every action at every match (the bench's yardstick)."""
        seen: set[str] = set()
        compiled = []
        for order, action in enumerate(actions):
            if action.id in seen:
                raise ValueError(f"two actions have the id {action.id!r}")
            seen.add(action.id)
            compiled.append(CompiledAction(action, order))
        return cls(compiled, version=version, settings=settings or CatalogueSettings(), index=index)

    @classmethod
    def empty(cls) -> Catalogue:
        return cls((), version=0, settings=CatalogueSettings())

    def match(self, snapshot: Snapshot, history: Iterable[Impression] = (), *, now: float,
              queue: str | None = None, contact_id: str | None = None, limit: int = 3,
              budget: float | None = 0.05, fallback: Decision | None = None, explain: bool = True,
              clock: Callable[[], float] = time.perf_counter) -> Decision:
        """Rank the actions for this snapshot.

        ``history``: the customer's past impressions (for the contact policies; the current
        contact's own never count). ``queue``: the contact's queue, or None not to filter by
        queue. ``budget``: seconds of matching before giving up and returning ``fallback``
        (marked ``timed_out``; an empty decision when None). ``explain=False`` leaves out the
        exclusions of the actions skipped by the index (the desk does not show them).
        """
        started = clock()
        context = snapshot_context(snapshot)
        facts = snapshot_facts(context, self._fact_fields)
        candidates: list[CompiledAction] = list(self._unguarded)
        for fact in facts:
            candidates.extend(self._by_fact.get(fact, ()))
        excluded: list[Exclusion] = []
        if explain:
            candidate_ids = {id(item) for item in candidates}
            for item in self.actions:
                if id(item) not in candidate_ids:
                    early = _early_exclusion(item, queue, now) or item.guard_exclusion
                    if early is None:  # its guard is in a later stage: evaluate it for the true reason
                        candidates.append(item)
                    else:
                        excluded.append(early)
        candidates.sort(key=lambda item: item.order)
        history_by_action = _history_by_action(history, contact_id)
        survivors: list[CompiledAction] = []
        errors = 0
        by_text: dict[str, bool] = {}  # actions sharing a condition evaluate it once
        for count, item in enumerate(candidates):
            if budget is not None and count % _CLOCK_EVERY == 0 and clock() - started > budget:
                timed = fallback if fallback is not None else Decision(suggestions=[], excluded=[])
                return Decision(suggestions=list(timed.suggestions), excluded=list(timed.excluded),
                                errors=errors, timed_out=True, version=timed.version or self.version)
            early = _early_exclusion(item, queue, now)
            if early is not None:
                excluded.append(early)
                continue
            failed: Exclusion | None = None
            for stage, condition in zip(_CONDITION_STAGES, item.conditions):
                if condition.rule is None:
                    continue
                result = by_text.get(condition.text)
                if result is None:
                    try:
                        result = condition.matches(context, facts)
                    except Exception as error:  # a rule that raises is skipped, never the offer
                        errors += 1
                        failed = Exclusion(action_id=item.action.id, title=item.action.title, stage=Stage.ERROR,
                                           reason=f"{stage.value} condition raised: {_short(error)}")
                        break
                    by_text[condition.text] = result
                if not result:
                    failed = Exclusion(action_id=item.action.id, title=item.action.title, stage=stage,
                                       reason=f"{stage.value} condition is false: {condition.text}")
                    break
            if failed is None:
                failed = _policy_exclusion(item.action, history_by_action.get(item.action.id, ()), now)
            if failed is not None:
                excluded.append(failed)
                continue
            survivors.append(item)
        survivors.sort(key=CompiledAction.rank_key)
        keep = max(0, min(limit, self.settings.max_per_contact))
        suggestions = [self._suggestion(item, context) for item in survivors[:keep]]
        for place, item in enumerate(survivors[keep:], start=keep + 1):
            excluded.append(Exclusion(action_id=item.action.id, title=item.action.title, stage=Stage.ARBITRATION,
                                      reason=f"ranked {place} (score {item.score:g}); "
                                             f"at most {keep} suggestions a contact"))
        return Decision(suggestions=suggestions, excluded=excluded, errors=errors, version=self.version)

    def _suggestion(self, item: CompiledAction, context: dict) -> Suggestion:
        action = item.action
        return Suggestion(action_id=action.id, kind=action.kind, title=action.title,
                          script=render_script(action.script, context, product=action.product_name),
                          product_sku=action.product_sku, product_name=action.product_name,
                          push=action.push, value=action.value, score=item.score, version=self.version)


def _early_exclusion(item: CompiledAction, queue: str | None, now: float) -> Exclusion | None:
    action = item.action
    if not action.enabled:
        return Exclusion(action_id=action.id, title=action.title, stage=Stage.DISABLED, reason="switched off")
    if queue is not None and item.queues and queue not in item.queues:
        return Exclusion(action_id=action.id, title=action.title, stage=Stage.QUEUE,
                         reason=f"for queues {', '.join(sorted(item.queues))}, not {queue or 'none'}")
    if action.valid_from is not None and now < action.valid_from:
        return Exclusion(action_id=action.id, title=action.title, stage=Stage.VALIDITY, reason="not valid yet")
    if action.valid_until is not None and now >= action.valid_until:
        return Exclusion(action_id=action.id, title=action.title, stage=Stage.VALIDITY, reason="expired")
    return None


def _history_by_action(history: Iterable[Impression], contact_id: str | None) -> dict[str, list[Impression]]:
    grouped: dict[str, list[Impression]] = {}
    for impression in history:
        if contact_id is not None and impression.contact_id == contact_id:
            continue
        grouped.setdefault(impression.action_id, []).append(impression)
    return grouped


def _policy_exclusion(action: Action, impressions: Sequence[Impression], now: float) -> Exclusion | None:
    if not impressions:
        return None
    policy = action.policy
    if policy.refusal_days is not None:
        since = now - policy.refusal_days * DAY
        declined = [i.at for i in impressions if i.outcome == Outcome.DECLINED and i.at > since]
        if declined:
            ago = (now - max(declined)) / DAY
            return Exclusion(action_id=action.id, title=action.title, stage=Stage.CONTACT_POLICY,
                             reason=f"declined {ago:.0f} days ago; not again for {policy.refusal_days:g} days")
    if policy.max_impressions is not None:
        since = now - policy.window_days * DAY
        shown = len({i.contact_id for i in impressions if i.at > since})
        if shown >= policy.max_impressions:
            return Exclusion(action_id=action.id, title=action.title, stage=Stage.CONTACT_POLICY,
                             reason=f"shown {shown} times in {policy.window_days:g} days "
                                    f"(at most {policy.max_impressions})")
    return None


def _short(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text[:200]
