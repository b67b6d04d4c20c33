"""Staff members as the rest of the desk sees them: the roles, who takes calls, and what
browsers are shown of one (never the password hash)."""

from __future__ import annotations

from typing import Any

from desktop.repository.records import ROLES

__all__ = ["STAFF_ROLES", "SUPERVISOR_ROLES", "agent_public", "takes_calls"]

#: Every staff role: the desk and the customer pages are theirs.
STAFF_ROLES = ROLES
#: Who may watch the wall and any co-browse.
SUPERVISOR_ROLES = ("supervisor", "admin")


def agent_public(agent) -> dict[str, Any]:
    return {"id": agent.id, "username": agent.username, "display_name": agent.display_name,
            "role": agent.role, "skills": list(agent.skills)}


def takes_calls(agent) -> bool:
    """Agents do; a supervisor or admin only with skills (a queue to serve)."""
    return agent.role == "agent" or bool(agent.skills)
