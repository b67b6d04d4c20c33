"""The first outcome of each command, remembered so a retry is answered instead of applied again.

Desks, widgets and the Python client resend an unanswered command with the same id after
a reconnect, perhaps to another process. The command may have taken effect with its ``ack``
lost on the way (a process killed, a socket closed): applied again, an ``accept`` would be
``not_found`` (the offer has ended) and the client would strand a connected call.

So the outcome of a command is kept on the bus (shared by every process) for
``OUTCOME_TTL`` seconds under its sender's role, identity and command id, by whoever
applies it: the leader for routing commands (before it replies, so even a process killed
before the ``ack`` leaves it behind) and the socket handler for the rest. A retry gets
the same ``ack`` or the same ``error``. Errors that say "nothing happened, try again"
(``not_ready``, ``internal``) are not kept.
"""

from __future__ import annotations

from typing import Any

from signaling.bus import Bus
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["CommandOutcomes", "KEPT_COMMANDS", "OUTCOME_TTL", "command_key", "failed", "succeeded", "answer"]

#: Seconds an outcome is kept: well beyond a client's reconnect and retry.
OUTCOME_TTL = 15 * 60.0
#: The commands whose effect a retry must not repeat: routing's. Their answers carry ids,
#: never a customer's data, so nothing personal stays on the bus after an erasure; reads
#: and streams (co-browse events, documents, voice) are answered afresh and cost no round trip.
KEPT_COMMANDS = frozenset({"call_me", "cancel", "set_state", "accept", "decline", "end", "wrap_up"})
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


class CommandOutcomes:
    def __init__(self, bus: Bus, *, ttl: float = OUTCOME_TTL):
        self.bus = bus
        self.ttl = ttl

    async def recall(self, key: str | None) -> dict[str, Any] | None:
        return await self.bus.recall(key) if key else None

    async def keep(self, key: str | None, outcome: dict[str, Any]) -> dict[str, Any]:
        """Keep ``outcome`` unless one was kept first (returned then) or it says "retry"."""
        if not key or (not outcome.get("ok") and outcome.get("code") in RETRYABLE):
            return outcome
        return await self.bus.remember(key, outcome, ttl=self.ttl)
