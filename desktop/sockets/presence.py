"""The sockets of this process, so a new leader can be told who is connected."""

from __future__ import annotations

import itertools

from desktop.routing import commands
from desktop.leader.client import RouterClient
from signaling.hub import Session

__all__ = ["Presence"]


class Presence:
    """The sockets of this process, so they can be re-announced to a new leader."""

    def __init__(self, router: RouterClient, process_id: str):
        self.router = router
        self.process_id = process_id
        self._keys = itertools.count(1)
        self.sessions: dict[str, Session] = {}

    def key(self) -> str:
        return f"{self.process_id}:{next(self._keys)}"

    async def announce(self, session: Session, present: bool) -> None:
        key = session.data["socket"]
        if present:
            self.sessions[key] = session
        else:
            self.sessions.pop(key, None)
        if session.role == "customer":
            await self.router.notify(commands.CustomerPresence(visitor_id=session.identity,
                                                               socket=key, present=present))
        elif session.role == "agent":
            await self.router.notify(commands.AgentPresence(agent_id=session.identity,
                                                            socket=key, present=present))

    async def reannounce(self) -> None:
        """A new leader knows nobody's sockets: tell it ours."""
        for session in list(self.sessions.values()):
            await self.announce(session, True)
