"""The bus rooms the desktop publishes to, by name, so every process agrees on them."""

from __future__ import annotations

__all__ = ["agent_room", "visitor_room", "WALL_ROOM", "WALL_KEEP", "SYSTEM_ROOM", "QUEUES_ROOM", "RULES_ROOM"]

WALL_ROOM = "wall"
#: Walls kept for replay: each is a whole snapshot (177 KB with 1,000 agents), so a joiner
#: needs only the newest; the few more cover the voice events that share the room.
WALL_KEEP = 20
SYSTEM_ROOM = "system"  # who leads the router, for processes to re-announce their sockets
#: Whether each queue can answer now (desktop/routing/status.py ``queue_availability``): the
#: newest event is what the widget is told before a customer asks (its welcome, ``queues``).
QUEUES_ROOM = "queues"
#: A published rules version (``{"type": "rules_published", "version": n}``): every process
#: loads it from the repository and compiles it (desktop/leader/live_rules.py).
RULES_ROOM = "rules"


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def visitor_room(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"
