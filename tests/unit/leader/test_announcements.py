"""What the leader's announcer says an event changed (``desktop.leader.announcements``)."""

from __future__ import annotations

from desktop.leader.announcements import Announcer
from desktop.routing import CallbackRequest, QueueConfig, Router
from desktop.routing.events import AgentState, AgentStateChanged
from desktop.routing.status import CallbackStatuses, queue_availability


class Bus:
    def __init__(self):
        self.published = []

    async def publish(self, room, message, **options):
        self.published.append((room, message))


async def test_an_agents_change_of_state_marks_only_the_queues_it_can_take():
    # Each marked queue has every waiting customer's status recomputed (at 10,000 waiting,
    # ~0.15 s a second on the leader while calls went on); a queue the agent can't take keeps
    # its staffing and so its waits.
    router = Router([QueueConfig("sales", frozenset({"sales"})), QueueConfig("any"),
                     QueueConfig("french", frozenset({"fr"}))])
    statuses = CallbackStatuses(router, {})
    bus = Bus()
    announcer = Announcer(repo=None, bus=bus, statuses=statuses, wrapup_timeout=60.0,
                          queue_titles={"sales": "Sales", "any": "Anyone", "french": "French"})
    router.agent_login("a1", ["sales"], 1.0)
    marked = await announcer.announce(AgentStateChanged("a1", AgentState.AVAILABLE, "", 2.0))
    assert sorted(marked) == ["any", "sales"]
    assert [room for room, _ in bus.published] == ["agent:a1"]
    # An agent the router does not know (never the case for its own events): every queue.
    assert sorted(statuses.queues_of_agent("nobody")) == ["any", "french", "sales"]


def test_queue_availability_says_open_and_the_wait_without_reading_the_whole_line():
    router = Router([QueueConfig("sales", frozenset({"sales"})), QueueConfig("french", frozenset({"fr"}))])
    router.agent_login("a1", ["sales"], 1.0)
    router.set_available("a1", 1.0)
    for i in range(3):
        router.add_callback(CallbackRequest(id=f"c{i}", queue="french"), 2.0 + i)
    assert queue_availability(router, 10.0) == [
        {"name": "sales", "open": True, "estimated_wait": 0.0},
        {"name": "french", "open": False, "estimated_wait": None}]
