"""The first outcome of each command, remembered so a retry is answered instead of applied again.

Desks, widgets and the Python client resend an unanswered command with the same id after
a reconnect, perhaps to another process. The command may have taken effect with its ``ack``
lost on the way (a process killed, a socket closed): applied again, an ``accept`` would be
``not_found`` (the offer has ended) and the client would strand a connected call.

So the outcome of a command is kept under its sender's role, identity and command id,
by whoever applies it, and a retry gets the same ``ack`` or the same ``error``:

- routing commands (accept, decline, end, wrap_up, set_state, cancel): by the leader, on
  the bus (shared by every process) for ``OUTCOME_TTL`` seconds, before it replies, so
  even a process killed before the ``ack`` leaves it behind. Their outcomes carry ids
  and states, never a customer's data, so nothing of an erased customer stays in Redis;
- the rest (their acks may name a customer or a document): by the socket handler, in
  this process's memory (:class:`RecentOutcomes`); call_me is also idempotent in the
  database.

Errors that say "nothing happened, try again" (``not_ready``, ``internal``) are not kept.
"""

from __future__ import annotations

import collections
from typing import Any

from signaling.bus import Bus
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["CommandOutcomes", "RecentOutcomes", "OUTCOME_TTL", "command_key", "failed", "succeeded",
           "answer"]

#: Seconds an outcome is kept: well beyond a client's reconnect and retry.
OUTCOME_TTL = 15 * 60.0
#: Errors after which a retry must really be tried again.
RETRYABLE = frozenset({ErrorCode.NOT_READY, ErrorCode.INTERNAL})


def command_key(role: str, identity: str, command_id: str) -> str:
    return f"outcome:{role}:{identity}:{command_id}"


def succeeded(result: dict[str, Any] | None) -> dict[str, Any]:
    return {"ok": True, "result": result or {}}


def failed(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "message": message}


def answer(outcome: dict[str, Any]) -> dict[str, Any]:
    """The ``ack`` fields of a kept outcome; raises its ProtocolError if it failed."""
    if outcome.get("ok"):
        return outcome.get("result") or {}
    raise ProtocolError(outcome.get("code") or ErrorCode.INTERNAL, outcome.get("message") or "")


def _kept(outcome: dict[str, Any]) -> bool:
    return outcome.get("ok") or outcome.get("code") not in RETRYABLE


class RecentOutcomes:
    """This process's memory of the latest ``size`` outcomes (oldest forgotten first)."""

    def __init__(self, size: int = 5000):
        self.size = size
        self._outcomes: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()

    def recall(self, key: str | None) -> dict[str, Any] | None:
        return self._outcomes.get(key) if key else None

    def keep(self, key: str | None, outcome: dict[str, Any]) -> dict[str, Any]:
        if key and _kept(outcome):
            outcome = self._outcomes.setdefault(key, outcome)
            while len(self._outcomes) > self.size:
                self._outcomes.popitem(last=False)
        return outcome


class CommandOutcomes:
    """The bus's memory of outcomes, shared by every process; only for outcomes without
    personal data (the bus is not swept by erasure)."""

    def __init__(self, bus: Bus, *, ttl: float = OUTCOME_TTL):
        self.bus = bus
        self.ttl = ttl

    async def recall(self, key: str | None) -> dict[str, Any] | None:
        return await self.bus.recall(key) if key else None

    async def keep(self, key: str | None, outcome: dict[str, Any]) -> dict[str, Any]:
        """Keep ``outcome`` unless one was kept first (returned then) or it says "retry"."""
        if not key or not _kept(outcome):
            return outcome
        return await self.bus.remember(key, outcome, ttl=self.ttl)
