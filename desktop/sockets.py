"""The hub's room handlers: what customers, agents and supervisors may do.

Each handler authenticates a ``hello``, builds its ``welcome`` and applies
commands. Anything that changes routing goes to the leader through the
:class:`RouterClient`; what a customer tells us about themselves is written to
the repository here, on whichever process holds their socket.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import Any

from starlette.websockets import WebSocket

from desktop.cards import agent_public, contact_card, takes_calls
from desktop.identity import identify, verify_user_hash
from desktop.outcomes import KEPT_COMMANDS, CommandOutcomes, answer, command_key, failed, succeeded
from desktop.phones import PhoneRejected, normalize_phone
from desktop.repository.repository import Repository
from desktop.router_client import RouterClient
from desktop.routing.events import AgentState, CallbackState
from desktop.rooms import WALL_KEEP, WALL_ROOM, agent_room, visitor_room
from desktop.settings import Settings
from desktop.web.auth import Signer
from desktop.web.client import client_address
from desktop.web.staff import StaffSession, staff_session
from signaling import protocol
from signaling.bus import Bus
from signaling.hub import Session, Unauthorized
from signaling.limits import describe_wait
from signaling.protocol import ErrorCode, ProtocolError

__all__ = ["CustomerHandler", "AgentHandler", "SupervisorHandler", "DISPOSITIONS", "Presence"]

DISPOSITIONS = ("Resolved", "Sale made", "Follow-up needed", "Callback scheduled",
                "Not interested", "Wrong number", "No answer", "Escalated")
MAX_CONTEXT_KEYS = 50
MAX_SCHEDULE_AHEAD = 30 * 24 * 3600  # seconds: a callback can be booked up to a month out
PAGE_VIEW_BACKDATE = 3600  # seconds: how old a page noted before the socket was up may be


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
            await self.router.notify("customer_presence", visitor_id=session.identity,
                                     socket=key, present=present)
        elif session.role == "agent":
            await self.router.notify("agent_presence", agent_id=session.identity,
                                     socket=key, present=present)

    async def reannounce(self) -> None:
        """A new leader knows nobody's sockets: tell it ours."""
        for session in list(self.sessions.values()):
            await self.announce(session, True)


class _Base:
    def __init__(self, *, repo: Repository, bus: Bus, router: RouterClient, signer: Signer,
                 settings: Settings, presence: Presence, clock=time.time,
                 features: tuple[Any, ...] = ()):
        self.repo = repo
        self.bus = bus
        self.router = router
        self.signer = signer
        self.settings = settings
        self.presence = presence
        self.clock = clock
        self.outcomes = CommandOutcomes(bus)
        #: Capabilities added to this role's sockets (co-browse, voice...). A feature
        #: may define ``on_<message class name lowercased>(session, message)`` methods
        #: and ``welcome(session) -> dict``, ``opened(session)``, ``closed(session)`` hooks.
        self.features = features

    async def queues(self) -> list[dict[str, str]]:
        return [{"name": q.name, "title": q.title} for q in await self.repo.list_queues()]

    async def handle(self, session: Session, message: Any) -> dict[str, Any] | None:
        """Apply a command once: a retry (same id, any process) gets the first outcome
        (desktop/outcomes.py); routing commands pass the key on to the leader."""
        key = _key(session, message)
        previous = await self.outcomes.recall(key)
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
            await self.outcomes.keep(key, failed(exc.code, exc.message))
            raise
        return answer(await self.outcomes.keep(key, succeeded(extra)))

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

    async def welcome(self, session: Session) -> dict[str, Any]:
        state = await self._welcome(session)
        for feature in self.features:
            if hasattr(feature, "welcome"):
                state.update(await feature.welcome(session))
        return state

    async def _staff_from_cookie(self, websocket: WebSocket) -> StaffSession:
        session = await staff_session(websocket)
        if session is None:
            raise Unauthorized("log in first")
        return session


class CustomerHandler(_Base):
    role = "customer"

    @property
    def max_sockets(self) -> int:
        """Tabs of one browser share a visitor; a hundred sockets are a script (per process)."""
        return self.settings.sockets_per_visitor

    async def _may_store(self, session: Session) -> float:
        """Spend one of the visitor's stored events (page views, identify, context) per
        minute, across processes; 0.0 when allowed, else seconds until one frees."""
        return await self.bus.take(f"visitor-events:{session.identity}", window=60.0,
                                   limit=self.settings.visitor_events_per_minute, now=self.clock())

    async def _check_store(self, session: Session) -> None:
        wait = await self._may_store(session)
        if wait > 0:
            raise ProtocolError(ErrorCode.RATE_LIMITED, "too many page events; this one was not "
                                f"stored (try again {describe_wait(wait)})", retry_after=wait)

    async def authenticate(self, websocket: WebSocket, hello: protocol.Hello) -> Session:
        visitor_id = self.signer.read_visitor(hello.token)
        if visitor_id is None or await self.repo.visitor_revoked(visitor_id):
            raise Unauthorized("visitor token missing, invalid or signed out; get one from POST /api/visitor")
        visitor = await self.repo.touch_visitor(visitor_id, self.clock())
        return Session(role=self.role, room=visitor_room(visitor_id), identity=visitor_id,
                       data={"socket": self.presence.key(), "customer_id": visitor.customer_id,
                             "address": client_address(websocket)})

    async def handle(self, session: Session, message: Any) -> dict[str, Any] | None:
        # Signed out (the site's sign-out in another tab, its server) or erased while this
        # socket was open: it ends here, nothing more is added to the person's record.
        if await self.repo.visitor_revoked(session.identity):
            raise Unauthorized("this browser was signed out; get a new visitor token from POST /api/visitor")
        return await super().handle(session, message)

    async def opened(self, session: Session, hello: protocol.Hello) -> None:
        # Over budget, the hello's page is not stored: the socket still opens.
        if hello.url and not await self._may_store(session):
            await self._page_view(session, hello.url[:2048], (hello.title or "")[:200])
        await super().opened(session, hello)

    async def _welcome(self, session: Session) -> dict[str, Any]:
        callback = await self.repo.active_callback_for_visitor(session.identity)
        status = None
        if callback is not None:
            status = {"id": callback.id, "state": callback.state, "queue": callback.queue,
                      "channel": callback.channel, "phone": callback.phone, "position": None,
                      "estimated_wait": None, "scheduled_at": callback.scheduled_at,
                      "agent_name": None, "created_at": callback.created_at}
            # The leader knows the position; it publishes a fresh status to the room.
            await self.router.notify("status", callback_id=callback.id)
        return {"visitor_id": session.identity, "callback": status, "queues": await self.queues()}

    async def on_pageview(self, session: Session, message: protocol.PageView) -> None:
        await self._check_store(session)
        await self._page_view(session, message.url, message.title, at=message.at)

    async def _page_view(self, session: Session, url: str, title: str, *, at: float | None = None) -> None:
        now = self.clock()
        if at is not None and now - PAGE_VIEW_BACKDATE <= at <= now:
            await self.repo.record_page_view(session.identity, url=url, title=title, now=at, current=False)
            return  # an earlier page: not the one the customer is on now
        await self.repo.record_page_view(session.identity, url=url, title=title, now=now)
        callback = await self.repo.active_callback_for_visitor(session.identity)
        agent_id = await self._handling_agent(callback) if callback is not None else None
        if agent_id is not None:
            await self.bus.publish(agent_room(agent_id), {
                "type": "customer_page", "callback_id": callback.id,
                "url": url, "title": title, "at": now})

    async def _handling_agent(self, callback) -> str | None:
        """The agent holding an offer for, or connected to, this callback."""
        if callback.state == CallbackState.CONNECTED:
            return callback.agent_id
        if callback.state == CallbackState.OFFERED:
            offer = await self.repo.open_offer_for_callback(callback.id)
            return offer.agent_id if offer else None
        return None

    async def on_identify(self, session: Session, message: protocol.Identify) -> dict[str, Any]:
        await self._check_store(session)
        phone = None
        if message.phone:
            try:
                phone = normalize_phone(message.phone, default_region=self.settings.default_region)
            except PhoneRejected as exc:
                raise ProtocolError(exc.code, str(exc)) from None
        if message.user_id is not None and not verify_user_hash(
                self.settings.identity_secret, message.user_id, message.user_hash):
            # Only the site's HMAC links records; a bare user id is refused, not stored.
            raise ProtocolError(ErrorCode.IDENTITY_UNVERIFIED,
                                "user_hash is not the HMAC-SHA256 of user_id with this site's "
                                "identity secret; nothing was linked")
        outcome = await identify(self.repo, visitor_id=session.identity,
                                 customer_id=session.data["customer_id"], user_id=message.user_id,
                                 user_key=message.user_hash, name=message.name, email=message.email,
                                 phone=phone, now=self.clock())
        session.data["customer_id"] = outcome.customer_id
        ack: dict[str, Any] = {"customer_id": outcome.customer_id, "verified": outcome.verified}
        if outcome.erased:
            ack["erased"] = True
        if outcome.verified:  # the short-lived key to "My data" (the visitor token is not enough)
            ack["me_token"] = self.signer.me_token(session.identity, outcome.customer_id)
            ack["corrected"] = outcome.corrected
        return ack

    async def on_setcontext(self, session: Session, message: protocol.SetContext) -> None:
        if len(message.context) > MAX_CONTEXT_KEYS:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"context has more than {MAX_CONTEXT_KEYS} keys")
        await self._check_store(session)
        await self.repo.set_visitor_context(session.identity, message.context, self.clock())

    async def on_callme(self, session: Session, message: protocol.CallMe) -> dict[str, Any]:
        now = self.clock()
        queues = {q.name: q for q in await self.repo.list_queues()}
        if message.queue not in queues:
            raise ProtocolError(ErrorCode.UNKNOWN_QUEUE, f"no queue named {message.queue!r}; "
                                f"choose one of {', '.join(sorted(queues))}")
        if not message.name.strip():
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "please tell us your name")
        phone = None
        if message.channel == "phone":
            try:
                phone = normalize_phone(message.phone or "", default_region=self.settings.default_region)
            except PhoneRejected as exc:
                raise ProtocolError(exc.code, str(exc)) from None
        scheduled_at = message.scheduled_at
        if scheduled_at is not None:
            if scheduled_at > now + MAX_SCHEDULE_AHEAD:
                raise ProtocolError(ErrorCode.BAD_TIME, "a callback can be booked at most 30 days ahead")
            if scheduled_at <= now + 1:
                scheduled_at = None  # "now", or a time already past: queue at once
        existing = await self.repo.active_callback_for_visitor(session.identity)
        if existing is not None:
            raise ProtocolError(ErrorCode.ALREADY_WAITING, "you already have a callback request; "
                                "cancel it first to make a new one")
        callback_id = _new_id()
        await self._spend_callme_budgets(session, callback_id, phone, now)
        # The whole person's record (a merged customer reads as its head): its tier counts.
        customer = await self.repo.resolve_customer(session.data["customer_id"])
        if customer is not None and not customer.name:
            await self.repo.update_customer(customer.id, name=message.name.strip(), phone=phone)
        callback = await self.repo.create_callback(
            id=callback_id, visitor_id=session.identity, customer_id=session.data["customer_id"],
            queue=message.queue, name=message.name.strip(), topic=message.topic.strip(),
            message=message.message.strip(), channel=message.channel, phone=phone,
            tier=customer.tier if customer else "standard", scheduled_at=scheduled_at, now=now,
            command_id=message.id,
        )
        if callback.id != callback_id:  # a retried command: the first request already counted
            for key, *_ in self._callme_budgets(session, phone):
                await self.bus.give_back(key, callback_id)
        # Committed above; only now may the router hear of it.
        await self.router.notify("callback_added", callback_id=callback.id)
        if phone:  # findable by this number from now on (a hint: it links nothing)
            await self.repo.record_identity_hints(callback.customer_id, email=None, phone=phone,
                                                  source="callback", now=now)
        return {"callback_id": callback.id}

    async def on_cancel(self, session: Session, message: protocol.Cancel) -> None:
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or callback.visitor_id != session.identity:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such callback request")
        if callback.state in ("completed", "cancelled", "abandoned"):
            return
        await self.router.call("cancel", callback_id=callback.id, command_key=_key(session, message))
        if callback.state != CallbackState.CONNECTED:
            # Cancelled before anyone talked to them (asked by mistake, the wrong time or
            # number): it does not count against asking again. Only the attempts cap keeps it.
            for key, _limit, _reason, refundable in self._callme_budgets(session, callback.phone):
                if refundable:
                    await self.bus.give_back(key, callback.id)

    def _callme_budgets(self, session: Session, phone: str | None) -> list[tuple[str, int, str, bool]]:
        """(bus key, limit, what the customer is told, given back on cancel) of every budget
        a request spends. A request cancelled before anyone talked to the customer gives back
        the fair ones (per visitor, per number); the attempts caps still bound the cycling."""
        s = self.settings
        window = _minutes(s.callme_window)
        visitor = session.identity
        budgets = [
            (f"callme:attempts:{visitor}", 2 * s.callme_per_phone,
             f"You've made {2 * s.callme_per_phone} callback requests in the last {window}.", False),
            (f"callme:visitor:{visitor}", s.callme_per_phone,
             f"You've asked for {s.callme_per_phone} callbacks in the last {window}.", True),
        ]
        if phone:
            # Keys hold digests, not numbers or addresses: Redis keeps nothing personal (erasure).
            digest = hashlib.sha256(f"{s.secret_key}:{phone}".encode()).hexdigest()[:32]
            address = hashlib.sha256(f"{s.secret_key}:{session.data.get('address', '')}".encode()).hexdigest()[:32]
            # Tokens are free to mint: per number, per client address and for the whole site
            # too, so one client can't queue calls to many numbers (toll fraud, call bombing).
            budgets += [
                (f"callme:phone-attempts:{digest}", 2 * s.callme_per_phone,
                 f"This number has been given for {2 * s.callme_per_phone} callback requests "
                 f"in the last {window}.", False),
                (f"callme:phone:{digest}", s.callme_per_phone,
                 f"This number has been asked to be called back {s.callme_per_phone} times "
                 f"in the last {window}.", True),
                (f"callme:address:{address}", s.callme_per_address,
                 f"Many phone callback requests have come from your network in the last {window}.", False),
                ("callme:site-phone", s.phone_callbacks_per_site,
                 "We have more phone callback requests than we can take right now.", False),
            ]
        return budgets

    async def _spend_callme_budgets(self, session: Session, callback_id: str, phone: str | None,
                                    now: float) -> None:
        """Take a slot of every budget as ``callback_id``, or none of them (refused requests
        cost nothing) and say when the customer can ask again."""
        taken: list[str] = []
        for key, limit, reason, _refundable in self._callme_budgets(session, phone):
            wait = await self.bus.take(key, limit=limit, window=self.settings.callme_window,
                                       member=callback_id, now=now)
            if wait > 0:
                for done in taken:
                    await self.bus.give_back(done, callback_id)
                raise ProtocolError(ErrorCode.TOO_MANY_REQUESTS,
                                    f"{reason} You can ask again {describe_wait(wait)}.",
                                    retry_after=wait)
            taken.append(key)


class AgentHandler(_Base):
    role = "agent"

    async def authenticate(self, websocket: WebSocket, hello: protocol.Hello) -> Session:
        staff = await self._staff_from_cookie(websocket)
        agent = staff.agent
        if not takes_calls(agent):
            raise Unauthorized("the desk is for agents: a supervisor without skills has the wall")
        # Signing out publishes session_ended with this tag to the agent's room: the hub closes it.
        return Session(role=self.role, room=agent_room(agent.id), identity=agent.id,
                       data={"socket": self.presence.key()}, tag=staff.tag)

    async def _welcome(self, session: Session) -> dict[str, Any]:
        agent = await self.repo.get_agent(session.identity)
        offer = contact = None
        pending = await self.repo.open_offer_for_agent(agent.id)
        if pending is not None:
            offer = await contact_card(self.repo, pending.callback_id, state="offered", offer={
                "offer_id": pending.id, "offered_at": pending.offered_at, "expires_at": pending.expires_at})
        current = await self.repo.current_contact_for_agent(agent.id)
        if current is not None:
            in_wrap_up = current.state != CallbackState.CONNECTED
            ends = {"wrap_up_ends_at": (agent.state_since or self.clock()) + self.settings.wrapup_timeout}
            contact = await contact_card(self.repo, current.id, state="wrap_up" if in_wrap_up else "connected",
                                         offer=ends if in_wrap_up else None)
        state = agent.state if agent.state != AgentState.OFFLINE else AgentState.AWAY
        return {
            "agent": agent_public(agent),
            "state": {"state": str(state), "reason": agent.state_reason or "", "since": agent.state_since},
            "offer": offer, "contact": contact, "dispositions": list(DISPOSITIONS),
            "queues": await self.queues(),
        }

    async def on_setstate(self, session: Session, message: protocol.SetState) -> None:
        await self.router.call("set_state", agent_id=session.identity, state=message.state,
                               reason=message.reason, command_key=_key(session, message))

    async def on_accept(self, session: Session, message: protocol.Accept) -> None:
        await self.router.call("accept", agent_id=session.identity, offer_id=message.offer_id,
                               command_key=_key(session, message))

    async def on_decline(self, session: Session, message: protocol.Decline) -> None:
        await self.router.call("decline", agent_id=session.identity, offer_id=message.offer_id,
                               command_key=_key(session, message))

    async def on_end(self, session: Session, message: protocol.End) -> None:
        await self.router.call("end", agent_id=session.identity, callback_id=message.callback_id,
                               command_key=_key(session, message))

    async def on_wrapup(self, session: Session, message: protocol.WrapUp) -> None:
        # Only a wrap-up whose time ran out may be saved without an outcome.
        if message.disposition not in DISPOSITIONS and not (message.timed_out and not message.disposition):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"choose an outcome: one of {', '.join(DISPOSITIONS)}")
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or callback.agent_id != session.identity:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such contact of yours")
        if callback.state == CallbackState.CONNECTED:
            raise ProtocolError(ErrorCode.INVALID_STATE, "end the call before wrapping it up")
        if callback.disposition is not None:
            raise ProtocolError(ErrorCode.INVALID_STATE, "this contact is already wrapped up")
        await self.router.call("wrap_up", agent_id=session.identity, callback_id=callback.id,
                               disposition=message.disposition, note=message.note,
                               timed_out=message.timed_out, command_key=_key(session, message))


class SupervisorHandler(_Base):
    role = "supervisor"

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
        await self.router.notify("wall")
        return {"at": self.clock(), "queues": [], "agents": [], "history": {}}


def _key(session: Session, message: Any) -> str | None:
    """The key of a command's outcome (None for a message without an id, or one not kept)."""
    command_id = getattr(message, "id", None)
    if not command_id or type(message).__struct_config__.tag not in KEPT_COMMANDS:
        return None
    return command_key(session.role, session.identity, command_id)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _new_id() -> str:
    import uuid
    return uuid.uuid4().hex
