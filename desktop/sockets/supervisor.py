"""The supervisor's socket: the wall, one whole wall then deltas (signaling/protocol/wall_delta.py);
the room's minutely whole walls reach a socket as deltas when it follows (desktop/sockets/wall_relay.py)."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from desktop.auth.agents import SUPERVISOR_ROLES
from desktop.rooms import WALL_KEEP, WALL_ROOM
from desktop.routing import commands
from desktop.sockets.base import RoleHandler
from desktop.sockets.wall_relay import WallRelay
from signaling import protocol
from signaling.hub import Session
from signaling.protocol import wall_delta
from signaling.protocol.outbound import SupervisorWelcome

__all__ = ["SupervisorHandler"]


class SupervisorHandler(RoleHandler):
    role = "supervisor"
    welcome_fields = SupervisorWelcome

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relay = WallRelay()

    def outgoing(self, session: Session, seq: int, event: dict[str, Any]) -> dict[str, Any]:
        sent, session.data["wall_shown"] = self.relay.outgoing(session.data.get("wall_shown"), seq, event)
        return sent

    async def authenticate(self, websocket: WebSocket, hello: protocol.Hello) -> Session:
        agent = (await self._staff_from_cookie(websocket, roles=SUPERVISOR_ROLES,
                                               not_allowed="the wall is for supervisors")).agent
        return Session(role=self.role, room=WALL_ROOM, identity=agent.id,
                       data={"socket": self.presence.key()})

    async def _welcome(self, session: Session) -> dict[str, Any]:
        """The newest whole wall in the room's replay with the deltas after it applied. None
        there, or a delta that does not follow: the leader is asked for a whole one (the socket
        gets it as a ``wall`` event; a welcome without ``term`` shows nothing until then)."""
        last = await self.bus.last_seq(WALL_ROOM)
        events = await self.bus.replay(WALL_ROOM, max(0, last - WALL_KEEP)) if last else None
        view, complete = wall_delta.latest(events or ())
        if not complete:
            await self.router.notify(commands.Wall())
        if view.wall is None:
            return {"at": self.clock(), "queues": [], "agents": [], "history": {}, "term": None, "wall_seq": None}
        self.relay.seed(view, last)
        session.data["wall_shown"] = (view.term, view.wall_seq)
        return {**view.wall, "term": view.term, "wall_seq": view.wall_seq}

    async def on_wallresync(self, session: Session, message: protocol.WallResync) -> None:
        """The page met a delta that does not follow its wall: a whole one comes as a ``wall``."""
        session.data["wall_shown"] = None  # whatever this process thought, it needs the whole one
        await self.router.notify(commands.Wall())
