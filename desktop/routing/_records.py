"""The router's private, mutable bookkeeping records.

Plain ``__slots__`` classes that point at each other (a callback at its
queue, an offer at its agent) so the routing path follows references instead
of looking ids up. Only ``_core`` and ``router`` change them; the outside
world sees the frozen views of ``models``.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from .events import AgentState, CallbackState
from .models import AgentView, CallbackRequest, CallbackView, QueueConfig
from .priority import WaitingLine

__all__ = ["Skillset", "QueueState", "AgentRecord", "CallbackRecord", "OfferRecord"]

HANDLE_TIMES_KEPT = 20  # the estimate uses the mean of this many recent contacts


class Skillset:
    """The agents that have exactly these skills.

    ``available`` holds the AVAILABLE ones in the order they became available,
    so its first item is the longest idle. It is an ``OrderedDict`` because a
    plain dict degrades when its oldest keys are deleted over and over (the
    holes stay in front of the first live key until the next resize).
    """

    __slots__ = ("skills", "available", "staffed", "queues")

    def __init__(self, skills: frozenset[str]) -> None:
        self.skills = skills
        self.available: OrderedDict[str, AgentRecord] = OrderedDict()
        self.staffed = 0                   # agents in a staffed state (see router._STAFFED)
        self.queues: list[QueueState] = []  # queues these skills can take


class QueueState:
    __slots__ = ("config", "name", "skills", "line", "skillsets", "declined", "handle_times")

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.name = config.name
        self.skills = config.skills
        self.line = WaitingLine()
        self.skillsets: list[Skillset] = []  # skillsets that can take this queue
        # live callbacks of this queue that some agent declined or missed: the
        # only ones an agent can be excluded from, so most lookups skip the check
        self.declined: dict[str, CallbackRecord] = {}
        self.handle_times: deque[float] = deque(maxlen=HANDLE_TIMES_KEPT)


class AgentRecord:
    __slots__ = ("id", "skillset", "state", "reason", "since", "idle_seq", "offer", "callback", "state_seq")

    def __init__(self, agent_id: str, skillset: Skillset) -> None:
        self.id = agent_id
        self.skillset = skillset
        self.state = AgentState.OFFLINE
        self.reason = ""
        self.since = 0.0
        self.idle_seq = 0       # global order of becoming AVAILABLE: smaller = idle longer
        self.offer: OfferRecord | None = None
        self.callback: CallbackRecord | None = None
        self.state_seq = 0      # bumped on every state change; stale timers compare it

    def view(self) -> AgentView:
        return AgentView(
            id=self.id, state=self.state, reason=self.reason, since=self.since,
            skills=self.skillset.skills,
            offer_id=self.offer.id if self.offer is not None else None,
            callback_id=self.callback.id if self.callback is not None else None,
        )


class CallbackRecord:
    __slots__ = (
        "id", "request", "queue", "state", "bonus", "key", "seq", "enqueued_at", "agent", "offer",
        "entry", "declined", "left_at", "left_token", "connected_at",
    )

    def __init__(self, request: CallbackRequest, queue: QueueState, state: CallbackState,
                 bonus: float, seq: int) -> None:
        self.id = request.id
        self.request = request
        self.queue = queue
        self.state = state
        self.bonus = bonus
        self.key = 0.0                    # enqueued_at - bonus, set when queued
        self.seq = seq                    # arrival order, breaks ties of key
        self.enqueued_at: float | None = None
        self.agent: AgentRecord | None = None   # offered to or connected with
        self.offer: OfferRecord | None = None
        self.entry: tuple[float, int, CallbackRecord] | None = None  # set while in the waiting line
        self.declined: set[str] | None = None   # agents that declined or missed it
        self.left_at: float | None = None       # when the customer's page went away
        self.left_token = 0                     # bumped on leave/return; stale timers compare it
        self.connected_at: float | None = None

    def view(self) -> CallbackView:
        return CallbackView(
            id=self.id, queue=self.queue.name, state=self.state, priority=self.bonus,
            enqueued_at=self.enqueued_at,
            agent_id=self.agent.id if self.agent is not None else None,
            offer_id=self.offer.id if self.offer is not None else None,
            channel=self.request.channel, scheduled_at=self.request.scheduled_at,
        )


class OfferRecord:
    __slots__ = ("id", "callback", "agent", "expires_at")

    def __init__(self, offer_id: str, callback: CallbackRecord, agent: AgentRecord, expires_at: float) -> None:
        self.id = offer_id
        self.callback = callback
        self.agent = agent
        self.expires_at = expires_at
