"""What every role's socket handler shares: features, once-only commands, the welcome.

Each handler authenticates a ``hello``, builds its ``welcome`` and applies
commands. Anything that changes routing goes to the leader through the
:class:`RouterClient`; what a customer tells us about themselves is written to
the repository on whichever process holds their socket.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import msgspec
from starlette.websockets import WebSocket

from desktop.auth.agents import STAFF_ROLES
from desktop.auth.staff import NotAllowed, NotSignedIn, StaffSession, require_staff
from desktop.auth.tokens import Signer
from desktop.leader.client import RouterClient
from desktop.leader.outcomes import (
    RecentOutcomes,
    answer,
    command_key,
    failed,
    succeeded,
)
from desktop.repository.repository import Repository
from desktop.settings import Settings
from desktop.sockets.presence import Presence
from desktop.suggestions.live import Suggester
from signaling import protocol
from signaling.bus import Bus
from signaling.hub import Session, Unauthorized
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["RoleHandler", "outcome_key", "new_id"]


class RoleHandler:
    #: The role's part of ``welcome`` (a struct of ``signaling.protocol.outbound``).
    welcome_fields: type[msgspec.Struct]

    def __init__(self, *, repo: Repository, bus: Bus, router: RouterClient, signer: Signer,
                 settings: Settings, presence: Presence, clock=time.time,
                 features: tuple[Any, ...] = (), suggester: Suggester | None = None):
        self.repo = repo
        self.bus = bus
        self.router = router
        self.signer = signer
        self.settings = settings
        self.presence = presence
        self.clock = clock
        self.outcomes = RecentOutcomes()
        #: Capabilities added to this role's sockets (co-browse, voice...). A feature
        #: may define ``on_<message class name lowercased>(session, message)`` methods
        #: and ``welcome(session) -> dict``, ``opened(session)``, ``closed(session)`` hooks.
        self.features = features
        #: The business rules' suggestions for a contact's card (none without one).
        self.suggester = suggester

    async def queues(self) -> list[dict[str, str]]:
        return [{"name": q.name, "title": q.title} for q in await self.repo.list_queues()]

    async def handle(self, session: Session, message: Any) -> dict[str, Any] | None:
        """Apply a command once: a retry (same id) gets the first outcome; routing commands
        pass the key on to the leader, who answers a retry on any process (desktop/leader/outcomes.py)."""
        key = outcome_key(session, message)
        previous = self.outcomes.recall(key)
        if previous is not None:
            return answer(previous)
        name = f"on_{type(message).__name__.lower()}"
        method = getattr(self, name, None)
        for feature in self.features:
            method = method or getattr(feature, name, None)
        if method is None:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"{session.role}s can't send this message")
        try:
            extra = await method(session, message) or {}
        except ProtocolError as exc:
            self.outcomes.keep(key, failed(exc.code, exc.message))
            raise
        return answer(self.outcomes.keep(key, succeeded(extra)))

    async def opened(self, session: Session, hello: protocol.Hello) -> None:
        await self.presence.announce(session, True)
        for feature in self.features:
            if hasattr(feature, "opened"):
                await feature.opened(session)

    async def closed(self, session: Session) -> None:
        try:
            for feature in self.features:
                if hasattr(feature, "closed"):
                    await feature.closed(session)
        finally:
            await self.presence.announce(session, False)

    async def welcome(self, session: Session) -> msgspec.Struct:
        """The role's welcome with every feature's part, checked against ``welcome_fields``
        (a field missing, unknown or of the wrong type raises ``msgspec.ValidationError``)."""
        state = await self._welcome(session)
        for feature in self.features:
            if hasattr(feature, "welcome"):
                state.update(await feature.welcome(session))
        return msgspec.convert(state, self.welcome_fields)

    async def _staff_from_cookie(self, websocket: WebSocket, *, roles: Collection[str] = STAFF_ROLES,
                                 not_allowed: str = "") -> StaffSession:
        """The socket's live staff session of one of ``roles``; Unauthorized (``not_allowed``
        for another role) otherwise."""
        try:
            return await require_staff(websocket, roles=roles)
        except NotSignedIn:
            raise Unauthorized("log in first") from None
        except NotAllowed:
            raise Unauthorized(not_allowed) from None


def outcome_key(session: Session, message: Any) -> str | None:
    """The key of a command's outcome (None for a message without an id)."""
    command_id = getattr(message, "id", None)
    return command_key(session.role, session.identity, command_id) if command_id else None


def new_id() -> str:
    import uuid
    return uuid.uuid4().hex
