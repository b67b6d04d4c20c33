"""The supervisor's socket: the wall."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from desktop.routing import commands
from desktop.rooms import WALL_KEEP, WALL_ROOM
from desktop.sockets.base import RoleHandler
from signaling import protocol
from signaling.hub import Session, Unauthorized
from signaling.protocol.outbound import SupervisorWelcome

__all__ = ["SupervisorHandler"]


class SupervisorHandler(RoleHandler):
    role = "supervisor"
    welcome_fields = SupervisorWelcome

    async def authenticate(self, websocket: WebSocket, hello: protocol.Hello) -> Session:
        agent = (await self._staff_from_cookie(websocket)).agent
        if agent.role not in ("supervisor", "admin"):
            raise Unauthorized("the wall is for supervisors")
        return Session(role=self.role, room=WALL_ROOM, identity=agent.id,
                       data={"socket": self.presence.key()})

    async def _welcome(self, session: Session) -> dict[str, Any]:
        last = await self.bus.last_seq(WALL_ROOM)
        # The wall room also carries voice events: the newest "wall" among the last few.
        latest = await self.bus.replay(WALL_ROOM, max(0, last - WALL_KEEP)) if last else None
        walls = [event for _seq, event in latest or () if event.get("type", "wall") == "wall"]
        if walls:
            wall = dict(walls[-1])
            wall.pop("type", None)
            return wall
        await self.router.notify(commands.Wall())
        return {"at": self.clock(), "queues": [], "agents": [], "history": {}}
