"""What goes into the router and the read-only views that come out of it.

All are frozen dataclasses: a view is a snapshot, taken when asked for, and
never changes afterwards. Times are seconds since the epoch (float).
"""

from __future__ import annotations

import dataclasses

from .events import AgentState, CallbackState, Channel

__all__ = ["QueueConfig", "CallbackRequest", "AgentView", "CallbackView", "QueueView"]


@dataclasses.dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue; an agent can take its callbacks iff the agent's skills ⊇ ``skills``."""

    name: str
    skills: frozenset[str] = frozenset()
    service_level_target: float = 20.0  # seconds; for reporting, not used for routing
    #: Seconds an agent has to accept this queue's offers / of wrap-up after its contacts;
    #: None: the router's own ``offer_timeout`` / ``wrapup_timeout``.
    offer_timeout: float | None = None
    wrapup_timeout: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackRequest:
    """A customer's request to be called back.

    ``text`` (topic and message) is scanned for urgent words. ``scheduled_at``
    None or not after ``now`` queues the callback at once; a later time
    schedules it.
    """

    id: str
    queue: str
    tier: str = "standard"  # a key of the router's tier_bonus: standard|silver|gold|platinum
    text: str = ""
    channel: Channel = Channel.BROWSER
    created_at: float = 0.0
    scheduled_at: float | None = None
    #: The customer said an earlier contact did not solve it ("not solved"): it goes ahead.
    follow_up: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class AgentView:
    id: str
    state: AgentState
    reason: str             # why the agent is AWAY/OFFLINE; "" otherwise
    since: float            # when the agent entered ``state``
    skills: frozenset[str]
    offer_id: str | None    # the pending offer while RESERVED
    callback_id: str | None  # the connected callback while BUSY


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackView:
    id: str
    queue: str
    state: CallbackState
    priority: float              # static bonus: tier bonus (+ urgency bonus)
    enqueued_at: float | None    # None while SCHEDULED
    agent_id: str | None         # the offered or connected agent
    offer_id: str | None         # the pending offer while OFFERED
    channel: Channel
    scheduled_at: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    waiting: int                   # QUEUED callbacks (not offered ones)
    longest_wait: float            # seconds the oldest QUEUED callback has waited; 0.0 if none
    estimated_wait: float | None   # seconds, for a callback added now; None if nobody is staffed
    agents_staffed: int            # logged in, not AWAY, with the skills
    agents_available: int          # AVAILABLE, with the skills
