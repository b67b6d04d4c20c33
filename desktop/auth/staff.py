"""Staff sign-in: live sessions, sign-in throttling and the headers of staff pages.

A desk session is a signed cookie *and* a row in the repository (``staff_sessions``):
the signature proves we issued the cookie, the row that it was not signed out. Every
desk page, REST call and staff socket asks :func:`staff_session`, so ``POST /logout``
ends the session in every process at once; the desk sockets it had open are closed too
(a ``session_ended`` event in the agent's room, see ``signaling.hub``).

The one check every staff endpoint makes: :func:`require_staff` (a live session, one of
``roles``, and the CSRF header when asked), or the :func:`staff_only` decorator around it;
refusals are :class:`NotSignedIn`, :class:`NotAllowed` and :class:`BadCsrf` (each a
:class:`StaffRefused`, also a ``PermissionError``), which the caller turns into its own answer.

Failed sign-ins are throttled per account and per client address on the bus's shared
budgets (``Bus.take``): past the limit, sign-in is refused without checking the password
and the answer says when to try again. A successful sign-in gives its slot back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import functools
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Collection

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.auth.agents import STAFF_ROLES
from desktop.repository.records import AgentRecord
from desktop.rooms import agent_room
from desktop.auth.tokens import SESSION_COOKIE
from signaling.protocol.outbound import BusSessionEnded
from signaling.limits import describe_wait

__all__ = ["StaffSession", "staff_session", "current_agent", "require_staff", "staff_only", "StaffRefused",
           "NotSignedIn", "NotAllowed", "BadCsrf", "sign_in", "sign_out", "LoginRefused", "LoginThrottle",
           "StaffHeaders", "STAFF_CSP", "retry_after_header"]


@dataclasses.dataclass(frozen=True, slots=True)
class StaffSession:
    agent: AgentRecord
    session_id: str

    @property
    def tag(self) -> str:
        """Names the session on the bus (the id itself is a secret half of the cookie)."""
        return hashlib.sha256(self.session_id.encode()).hexdigest()


async def staff_session(conn: HTTPConnection) -> StaffSession | None:
    """The signed-in staff member of this request or socket, or None (also when signed out)."""
    state = conn.app.state
    data = state.signer.read_session(conn.cookies.get(SESSION_COOKIE))
    if not data or not isinstance(data.get("sid"), str):
        return None
    agent_id = await state.repo.staff_session_agent(data["sid"], now=time.time())
    if agent_id is None or agent_id != data["agent"]:
        return None
    agent = await state.repo.get_agent(agent_id)
    if agent is None or agent.disabled_at is not None:  # disabled: every session ends at once
        return None
    return StaffSession(agent, data["sid"])


async def current_agent(conn: HTTPConnection) -> AgentRecord | None:
    """The signed-in staff member's record (a live session), or None."""
    session = await staff_session(conn)
    return session.agent if session else None


class StaffRefused(PermissionError):
    """A staff endpoint refused the request; the subclass says why."""


class NotSignedIn(StaffRefused):
    """No live staff session (never signed in, signed out, or expired)."""


class NotAllowed(StaffRefused):
    """Signed in, but the role may not do this."""

    def __init__(self, message: str, session: StaffSession):
        super().__init__(message)
        self.session = session


class BadCsrf(StaffRefused):
    """A request that changes something came without the session's CSRF token."""


async def require_staff(conn: HTTPConnection, *, roles: Collection[str] = STAFF_ROLES,
                        csrf: bool = False) -> StaffSession:
    """The live staff session of this request or socket, whose role is one of ``roles``.

    ``csrf``: also require the session's token in the ``X-CSRF-Token`` header (for requests
    that change something). Raises NotSignedIn, NotAllowed or BadCsrf, in that order.
    """
    session = await staff_session(conn)
    if session is None:
        raise NotSignedIn("log in first")
    if session.agent.role not in roles:
        raise NotAllowed(f"this is for {' and '.join(roles)} roles, not {session.agent.role}", session)
    if csrf and not conn.app.state.signer.check_csrf(session.session_id, conn.headers.get("x-csrf-token")):
        raise BadCsrf("missing or wrong X-CSRF-Token")
    return session


StaffHandler = Callable[[Request, StaffSession], Awaitable[Response]]


def staff_only(*, roles: Collection[str] = STAFF_ROLES, csrf: bool = False,
               refused: Callable[[Request, StaffRefused], Response]) -> Callable[[StaffHandler], Callable]:
    """Decorate ``handler(request, session)`` into a Starlette endpoint that runs it only for
    :func:`require_staff` (``roles``, ``csrf``); ``refused(request, error)`` answers the others."""

    def decorate(handler: StaffHandler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                session = await require_staff(request, roles=roles, csrf=csrf)
            except StaffRefused as refusal:
                return refused(request, refusal)
            return await handler(request, session)

        return endpoint

    return decorate


async def sign_in(conn: HTTPConnection, agent_id: str) -> str:
    """Open a session for the agent; returns the cookie value."""
    state = conn.app.state
    session_id = secrets.token_urlsafe(16)
    await state.repo.open_staff_session(session_id, agent_id, now=time.time(),
                                        max_age=state.settings.session_max_age)
    return state.signer.session_token(agent_id, session_id)


async def sign_out(conn: HTTPConnection, session: StaffSession) -> None:
    """Revoke the session, then close its desk sockets in every process."""
    state = conn.app.state
    await state.repo.revoke_staff_session(session.session_id, now=time.time())
    await state.bus.publish(agent_room(session.agent.id), BusSessionEnded(tag=session.tag).to_dict())


class LoginRefused(Exception):
    """Too many failed sign-ins; ``retry_after`` seconds until one is checked again."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class LoginThrottle:
    """Budgets of failed sign-ins per account and per address, shared by every process."""

    def __init__(self, bus, settings):
        self.bus = bus
        self.settings = settings

    def _keys(self, username: str, address: str) -> list[tuple[str, int, str]]:
        # A digest: the bus (Redis) never holds usernames.
        account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return [(f"login:account:{account}", self.settings.login_failures_per_account,
                 "for this account"),
                (f"login:address:{address}", self.settings.login_failures_per_address,
                 "from this address")]

    async def attempt(self, username: str, address: str) -> "LoginAttempt":
        """Reserve a failure slot on each budget; raise LoginRefused when one is spent.

        Call ``succeeded()`` on the result when the password was right."""
        member = secrets.token_hex(8)
        taken: list[str] = []
        for key, limit, where in self._keys(username, address):
            wait = await self.bus.take(key, limit=limit, window=self.settings.login_window,
                                       member=member)
            if wait > 0:
                for done in taken:
                    await self.bus.give_back(done, member)
                raise LoginRefused(f"Too many failed sign-ins {where}; try again "
                                   f"{describe_wait(wait)}.", wait)
            taken.append(key)
        return LoginAttempt(self.bus, taken, member)


@dataclasses.dataclass(slots=True)
class LoginAttempt:
    bus: object
    keys: list[str]
    member: str

    async def succeeded(self) -> None:
        """A right password is no failure: its slots are given back."""
        for key in self.keys:
            await self.bus.give_back(key, self.member)


#: Staff pages run only our own scripts and can't be framed (clickjacking Accept, End,
#: Erase). Styles, images and fonts may come from anywhere and styles may be inline:
#: the co-browse mirror shows the customer's page (its stylesheets inlined by rrweb)
#: inside the desk's own document.
STAFF_CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'", "connect-src 'self'",
    "style-src 'self' 'unsafe-inline' http: https:", "img-src 'self' data: blob: http: https:",
    "font-src 'self' data: http: https:", "media-src 'self' blob:", "worker-src 'self' blob:",
    "frame-src 'self' blob:",
])
_STAFF_PREFIXES = ("/login", "/logout", "/profile/", "/desk", "/supervisor", "/admin", "/cobrowse/", "/voice/recordings/",
                   "/api/v1/", "/api/openapi.json", "/api/documents")
_HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", STAFF_CSP.encode()),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


class StaffHeaders:
    """ASGI middleware: anti-framing, a CSP and no-sniff on every staff response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_STAFF_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
