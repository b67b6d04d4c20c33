"""What a customer is told of their live callback: its state, place in the queue, estimated wait.

The leader tracks each live callback from the database record and asks
:class:`CallbackStatuses` for a ``callback_status`` message whenever an event may
have changed what the customer sees; a message comes back only when it did change
(waits rounded to 15 s, so it does not flicker every second). ``queue_availability``
is what a customer is told before asking. Pure: the router is read, never fed, and
the caller publishes what comes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from desktop.routing import Router
from desktop.routing.events import CallbackState

__all__ = ["CallbackStatuses", "queue_availability", "WAIT_STEP"]

WAIT_STEP = 15  # s: waits told to customers are rounded to this, so they don't flicker every second
_QUEUED = str(CallbackState.QUEUED)


def _rounded(wait: float | None) -> float | None:
    return None if wait is None else round(wait / WAIT_STEP) * WAIT_STEP


def queue_availability(router: Router, now: float) -> list[dict[str, Any]]:
    """What a customer may know of each queue before asking: ``open`` (somebody with the skills
    is logged in and not away) and ``estimated_wait`` for a request made now, in seconds (the
    wall's "for a new request", rounded; None when nobody is there to answer)."""
    availability = []
    for config in router.queues():
        # Not queue_view: its longest wait walks the whole line, on every change of staffing.
        wait = router.estimated_wait(None, config.name, now)  # None iff nobody is staffed
        availability.append({"name": config.name, "open": wait is not None, "estimated_wait": _rounded(wait)})
    return availability

Update = tuple[str, dict[str, Any]]  # (visitor id, the callback_status message for their room)


class _Tracked:
    """What the leader remembers of a live callback to tell its customer."""

    __slots__ = ("id", "visitor_id", "queue", "channel", "phone", "created_at", "scheduled_at",
                 "last_status")

    def __init__(self, record):
        self.id = record.id
        self.visitor_id = record.visitor_id
        self.queue = record.queue
        self.channel = record.channel
        self.phone = record.phone
        self.created_at = record.created_at
        self.scheduled_at = record.scheduled_at
        self.last_status: tuple | None = None


class CallbackStatuses:
    """The live callbacks whose customers are kept told, and what each was told last.

    ``agent_names`` (agent id -> display name) is read when a message is made, so the
    caller may keep filling it in.
    """

    def __init__(self, router: Router, agent_names: dict[str, str]):
        self.router = router
        self.agent_names = agent_names
        self._tracked: dict[str, _Tracked] = {}
        self._by_visitor: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._tracked)

    def track(self, record) -> None:
        self._tracked[record.id] = _Tracked(record)
        if record.visitor_id:
            self._by_visitor[record.visitor_id] = record.id

    def forget(self, callback_id: str) -> None:
        """The callback ended: its customer is told nothing more of it."""
        tracked = self._tracked.pop(callback_id, None)
        if tracked and self._by_visitor.get(tracked.visitor_id) == callback_id:
            del self._by_visitor[tracked.visitor_id]

    def visitor_of(self, callback_id: str) -> str | None:
        """The visitor of a live callback the leader tracks (None: untracked or a phone-only one)."""
        tracked = self._tracked.get(callback_id)
        return tracked.visitor_id if tracked else None

    def moved(self, callback_id: str, queue: str) -> None:
        """The callback's queue was deleted and it waits in ``queue`` now."""
        tracked = self._tracked.get(callback_id)
        if tracked is not None:
            tracked.queue = queue

    def queue_of(self, callback_id: str) -> str | None:
        """The queue of a live callback the leader tracks."""
        tracked = self._tracked.get(callback_id)
        return tracked.queue if tracked else None

    def queues_of_agent(self, agent_id: str) -> list[str]:
        """The queues whose customers' places and waits this agent's state moves (the queues it
        can take); every queue for an agent the router does not know."""
        try:
            return self.router.queues_of_agent(agent_id)
        except LookupError:
            return [config.name for config in self.router.queues()]

    def callback_of(self, visitor_id: str) -> str | None:
        """The visitor's live callback, if the leader tracks one."""
        return self._by_visitor.get(visitor_id)

    def update(self, callback_id: str, now: float, *, final: str | None = None,
               agent_id: str | None = None, place: tuple[int, float | None] | None = None,
               again: bool = False, moved_from: str | None = None) -> Update | None:
        """The customer's new status, or None if the callback is not tracked or nothing changed.

        ``final`` is the state of a callback that just ended; ``place`` is (position,
        estimated wait) of a QUEUED callback when the caller computed it for the whole queue at
        once; ``again`` repeats the last status (the customer asked); ``moved_from`` names the
        deleted queue the callback was just moved out of (the widget says so).
        """
        tracked = self._tracked.get(callback_id)
        if tracked is None:
            return None
        if again:
            tracked.last_status = None
        if final is not None:
            state, position, wait = final, None, None
        elif place is not None:  # read off the queue's waiting line: queued, nobody's yet (no view to make)
            state, (position, wait) = _QUEUED, place
        else:
            try:
                view = self.router.callback(tracked.id)
            except LookupError:
                return None
            state = str(view.state)
            agent_id = agent_id or view.agent_id
            position = self.router.position(tracked.id)
            wait = self.router.estimated_wait(tracked.id, tracked.queue, now) if position else None
        rounded_wait = _rounded(wait)
        key = (state, position, rounded_wait, agent_id)
        if key == tracked.last_status:
            return None
        tracked.last_status = key
        moved = {"moved_from": moved_from} if moved_from else {}
        return tracked.visitor_id, {"type": "callback_status", "callback": {**moved,
            "id": tracked.id, "state": state, "queue": tracked.queue, "channel": tracked.channel,
            "phone": tracked.phone, "position": position,
            "estimated_wait": rounded_wait, "scheduled_at": tracked.scheduled_at,
            # In line with nobody staffed to answer: say so rather than "estimating…".
            "nobody_available": state == "queued" and position is not None and wait is None,
            "agent_name": self.agent_names.get(agent_id) if agent_id else None,
            "created_at": tracked.created_at,
        }}

    def queue_updates(self, queue: str, now: float) -> Iterator[Update]:
        """New statuses of the queue's waiting customers whose place or wait changed (lazily)."""
        for callback_id, position, wait in self.router.waiting_estimates(queue):
            update = self.update(callback_id, now, place=(position, wait))
            if update is not None:
                yield update
