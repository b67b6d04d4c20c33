"""The customer's socket: the widget's page views, identity, context and callbacks."""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from starlette.websockets import WebSocket

from desktop.routing import commands
from desktop.customers.identity import identify, verify_user_hash
from desktop.customers.phones import PhoneRejected, normalize_phone
from desktop.customers.url_privacy import private_url
from desktop.repository.errors import NumberWaiting
from desktop.rooms import QUEUES_ROOM, agent_room, visitor_room
from desktop.routing.hours import local_text, opening, zone
from desktop.routing.languages import queue_for_language
from desktop.routing.events import CallbackState
from desktop.sockets.base import RoleHandler, new_id, outcome_key
from desktop.sockets.calling_rules import call_time, check_number_free, consent_record, phone_waiting, queue_hours
from desktop.voice.records import recording_mode
from desktop.web.client import client_address
from signaling import protocol
from signaling.hub import Session, Unauthorized
from signaling.limits import describe_wait
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import CustomerWelcome, OutCustomerContext, OutCustomerPage

__all__ = ["CustomerHandler"]

log = logging.getLogger(__name__)

MAX_CONTEXT_KEYS = 50
MAX_SCHEDULE_AHEAD = 30 * 24 * 3600  # seconds: a callback can be booked up to a month out
PAGE_VIEW_BACKDATE = 3600  # seconds: how old a page noted before the socket was up may be


class CustomerHandler(RoleHandler):
    role = "customer"
    welcome_fields = CustomerWelcome

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
                             "address": client_address(websocket),
                             # the whole address (not the /64 the limits count) for a consent record
                             "peer": websocket.client.host if websocket.client else ""})

    async def handle(self, session: Session, message: Any) -> dict[str, Any] | None:
        # Signed out (the site's sign-out in another tab, its server) or erased while this
        # socket was open: it ends here, nothing more is added to the person's record.
        if await self.repo.visitor_revoked(session.identity):
            raise Unauthorized("this browser was signed out; get a new visitor token from POST /api/visitor")
        return await super().handle(session, message)

    async def opened(self, session: Session, hello: protocol.Hello) -> None:
        # Over budget, the hello's page is not stored: the socket still opens. A socket coming
        # back (``last_seq``: a dropped connection, a process restarted) is on a page already
        # stored: stored again, the trail listed it once a reconnection.
        if hello.url and hello.last_seq is None and not await self._may_store(session):
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
            await self.router.notify(commands.Status(callback_id=callback.id))
        return {"visitor_id": session.identity, "callback": status, "queues": await self.queues_now(),
                # The widget's language when the page names none (empty: the customer's browser's).
                "locale": self.settings.widget_locale or None}

    async def queues_now(self) -> list[dict[str, Any]]:
        """The queues with whether somebody can answer now and the wait for a new request
        (``open``, ``estimated_wait``: the leader's newest word, as the wall's; without them
        while no leader has said yet), and their business hours: ``hours_open``, ``opens_at``,
        ``slots`` (the next times to schedule a call, epoch seconds). Outside hours ``open`` is
        False and ``closed`` says why: ``hours`` or ``nobody`` (nobody with the skills is in).
        Also as the admin set them: ``languages`` (its agents', best first: a widget in one of
        them picks the queue), ``topics`` (``{text, translations}``: the widget shows the
        customer's language's) and ``recording`` (``off``, ``consent``, ``on``: the widget says
        that calls may be recorded)."""
        last = await self.bus.last_seq(QUEUES_ROOM)
        events = await self.bus.replay(QUEUES_ROOM, last - 1) if last else None
        now_open = {q["name"]: q for _seq, event in events or () for q in event.get("queues", ())}
        now, tz = self.clock(), zone(self.settings.time_zone)
        described = []
        for record in await self.repo.list_queues():
            queue: dict[str, Any] = {
                "name": record.name, "title": record.title, "languages": list(record.languages),
                "topics": [dict(topic) for topic in record.topics],
                "recording": recording_mode(self.settings.voice_recording, record.name,
                                            policy=record.recording) or "off"}
            if record.name in now_open:
                queue.update({key: now_open[record.name][key] for key in ("open", "estimated_wait")})
            queue.update(opening(queue_hours(record), now, tz))
            if not queue["hours_open"]:
                queue.update(open=False, closed="hours", estimated_wait=None)
            elif queue.get("open") is False:
                queue["closed"] = "nobody"
            described.append(queue)
        return described

    async def on_queues(self, session: Session, message: protocol.Queues) -> dict[str, Any]:
        return {"queues": await self.queues_now()}

    async def on_pageview(self, session: Session, message: protocol.PageView) -> None:
        await self._check_store(session)
        await self._page_view(session, message.url, message.title, at=message.at)

    async def _page_view(self, session: Session, url: str, title: str, *, at: float | None = None) -> None:
        # Search terms and tokens in the query never reach the trail nor the agent.
        url = private_url(url, query=self.settings.url_query, params=self.settings.url_private_params)
        now = self.clock()
        if at is not None and now - PAGE_VIEW_BACKDATE <= at <= now:
            await self.repo.record_page_view(session.identity, url=url, title=title, now=at, current=False)
            return  # an earlier page: not the one the customer is on now
        await self.repo.record_page_view(session.identity, url=url, title=title, now=now)
        callback = await self.repo.active_callback_for_visitor(session.identity)
        agent_id = await self._handling_agent(callback) if callback is not None else None
        if agent_id is not None:
            await self.bus.publish(agent_room(agent_id), OutCustomerPage(
                callback_id=callback.id, url=url, title=title, at=now).to_dict())
            self._suggest_again(agent_id, callback)

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
        visitor = await self.repo.set_visitor_context(session.identity, message.context, self.clock())
        # The agent ringing or talking with them sees the cart change, as they see page moves.
        callback = await self.repo.active_callback_for_visitor(session.identity)
        agent_id = await self._handling_agent(callback) if callback is not None else None
        if agent_id is not None:
            await self.bus.publish(agent_room(agent_id), OutCustomerContext(
                callback_id=callback.id, context=visitor.context or {}).to_dict())
            self._suggest_again(agent_id, callback)

    def _suggest_again(self, agent_id: str, callback) -> None:
        """The page or cart changed during the offer or the call: the suggestions may too."""
        if self.suggester is not None:
            state = "offered" if callback.state == CallbackState.OFFERED else "connected"
            self.suggester.refresh(agent_id, callback.id, state=state)

    async def on_callme(self, session: Session, message: protocol.CallMe) -> dict[str, Any]:
        now = self.clock()
        listed = await self.repo.list_queues()
        queues = {q.name: q for q in listed}
        # None named (a site's callMe() without one): the queue speaking the customer's language.
        queue = message.queue or queue_for_language(listed, message.locale) or (listed[0].name if listed else "")
        if queue not in queues:
            raise ProtocolError(ErrorCode.UNKNOWN_QUEUE, f"no queue named {queue!r}; "
                                f"choose one of {', '.join(sorted(queues))}")
        if not message.name.strip():
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "please tell us your name")
        phone = None
        if message.channel == "phone":
            try:
                phone = normalize_phone(message.phone or "", default_region=self.settings.default_region,
                                        countries=self.settings.callable_countries)
            except PhoneRejected as exc:
                raise ProtocolError(exc.code, str(exc), detail=exc.detail) from None
            if not (message.consent or "").strip():
                raise ProtocolError(ErrorCode.CONSENT_NEEDED, "a phone callback needs your consent to be "
                                    "called on this number (the sentence next to the phone field)")
        scheduled_at = message.scheduled_at
        if scheduled_at is not None:
            if scheduled_at > now + MAX_SCHEDULE_AHEAD:
                raise ProtocolError(ErrorCode.BAD_TIME, "a callback can be booked at most 30 days ahead",
                                    detail={"reason": "too_far", "days": round(MAX_SCHEDULE_AHEAD / 86400)})
            if scheduled_at <= now + 1:
                scheduled_at = None  # "now", or a time already past: queue at once
        self._check_hours(queues[queue], scheduled_at, now)
        existing = await self.repo.active_callback_for_visitor(session.identity)
        if existing is not None and message.id is not None and existing.command_id == message.id:
            # This very request again (its ack was lost with a socket, e.g. a restarting
            # process): the first outcome, on whichever process the page reconnected to.
            return {"callback_id": existing.id, "queue": existing.queue}
        if existing is not None:
            raise ProtocolError(ErrorCode.ALREADY_WAITING, "you already have a callback request; "
                                "cancel it first to make a new one")
        calling = consent = None
        if phone:
            await check_number_free(self.repo, phone, self.settings.time_zone)
            scheduled_at, calling = call_time(queues[queue], phone, scheduled_at, now, self.settings)
            consent = await consent_record(self.repo, session, message.consent or "", now)
        callback_id = new_id()
        await self._spend_callme_budgets(session, callback_id, phone, now)
        # The whole person's record (a merged customer reads as its head): its tier counts, the
        # analytics job's when its latest run scored them, else their 365-day spend's.
        customer, tier, _source = await self.repo.routing_customer(session.data["customer_id"])
        try:
            # A customer without a name takes the one typed here, in the request's transaction.
            callback = await self.repo.create_callback(
                id=callback_id, visitor_id=session.identity, customer_id=session.data["customer_id"],
                queue=queue, name=message.name.strip(), topic=message.topic.strip(),
                message=message.message.strip(), channel=message.channel, phone=phone,
                tier=tier, scheduled_at=scheduled_at, now=now,
                command_id=message.id, consent=consent, locale=message.locale,
                name_customer=customer.id if customer is not None and not customer.name else None,
            )
        except NumberWaiting as exc:  # another request for the number raced past the check
            for key, *_ in self._callme_budgets(session, phone):
                await self.bus.give_back(key, callback_id)
            raise phone_waiting(exc.existing, self.settings.time_zone) from None
        if callback.id != callback_id:  # a retried command: the first request already counted
            for key, *_ in self._callme_budgets(session, phone):
                await self.bus.give_back(key, callback_id)
        # Committed above; only now may the router hear of it.
        await self.router.notify(commands.CallbackAdded(callback_id=callback.id))
        if callback.id == callback_id:  # asked after reading articles: they did not solve it (the reports)
            await self.repo.kb_note_call(visitor_id=session.identity, customer_id=callback.customer_id,
                                         callback_id=callback.id, now=now)
        if phone:  # findable by this number from now on (a hint: it links nothing)
            await self.repo.record_identity_hints(callback.customer_id, email=None, phone=phone,
                                                  source="callback", now=now)
        return {"callback_id": callback.id, "queue": callback.queue, **({"calling": calling} if calling else {})}

    def _check_hours(self, queue, scheduled_at: float | None, now: float) -> None:
        """Refuse a call now outside the queue's hours, or one scheduled outside them, saying
        when it opens (in the centre's time zone; the widget offers the slots itself)."""
        hours, tz = queue_hours(queue), zone(self.settings.time_zone)
        at = now if scheduled_at is None else scheduled_at
        if hours.is_open(at, tz):
            return
        opens = hours.next_open(at, tz)
        when = f"it opens {local_text(opens, tz)} ({self.settings.time_zone})" if opens else \
            "it has no opening hours planned"
        # The facts, for the widget to say it in the customer's language and time zone.
        detail = {"reason": "closed" if scheduled_at is None else "closed_at", "queue": queue.title,
                  "at": at, "opens": opens}
        if scheduled_at is None:
            raise ProtocolError(ErrorCode.BAD_TIME, f"{queue.title} is closed now; {when}. "
                                "Choose a time when it is open and we'll call you then.", detail=detail)
        raise ProtocolError(ErrorCode.BAD_TIME, f"{queue.title} is closed at the time you chose "
                            f"({local_text(at, tz)}); {when}. Choose a time when it is open.", detail=detail)

    async def on_cancel(self, session: Session, message: protocol.Cancel) -> None:
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or callback.visitor_id != session.identity:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such callback request")
        if callback.state in ("completed", "cancelled", "abandoned"):
            return
        await self.router.call(commands.Cancel(callback_id=callback.id, command_key=outcome_key(session, message)))
        if callback.state != CallbackState.CONNECTED:
            # Cancelled before anyone talked to them (asked by mistake, the wrong time or
            # number): it does not count against asking again. Only the attempts cap keeps it.
            for key, _limit, _reason, refundable, _name in self._callme_budgets(session, callback.phone):
                if refundable:
                    await self.bus.give_back(key, callback.id)

    def _callme_budgets(self, session: Session, phone: str | None) -> list[tuple[str, int, str, bool, str]]:
        """(bus key, limit, what the customer is told, given back on cancel, its name in the
        error's ``detail.budget``: the widget words it in the customer's language) of every budget
        a request spends. A request cancelled before anyone talked to the customer gives back
        the fair ones (per visitor, per number); the attempts caps still bound the cycling."""
        s = self.settings
        window = _minutes(s.callme_window)
        visitor = session.identity
        budgets = [
            (f"callme:attempts:{visitor}", 2 * s.callme_per_phone,
             f"You've made {2 * s.callme_per_phone} callback requests in the last {window}.", False, "attempts"),
            (f"callme:visitor:{visitor}", s.callme_per_phone,
             f"You've asked for {s.callme_per_phone} callbacks in the last {window}.", True, "visitor"),
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
                 f"in the last {window}.", False, "phone_attempts"),
                (f"callme:phone:{digest}", s.callme_per_phone,
                 f"This number has been asked to be called back {s.callme_per_phone} times "
                 f"in the last {window}.", True, "phone"),
                (f"callme:address:{address}", s.callme_per_address,
                 f"Many phone callback requests have come from your network in the last {window}.", False, "network"),
                ("callme:site-phone", s.phone_callbacks_per_site,
                 "We have more phone callback requests than we can take right now.", False, "site"),
            ]
        return budgets

    async def _spend_callme_budgets(self, session: Session, callback_id: str, phone: str | None,
                                    now: float) -> None:
        """Take a slot of every budget as ``callback_id``, or none of them (refused requests
        cost nothing) and say when the customer can ask again."""
        taken: list[str] = []
        for key, limit, reason, _refundable, name in self._callme_budgets(session, phone):
            wait = await self.bus.take(key, limit=limit, window=self.settings.callme_window,
                                       member=callback_id, now=now)
            if wait > 0:
                for done in taken:
                    await self.bus.give_back(done, callback_id)
                raise ProtocolError(ErrorCode.TOO_MANY_REQUESTS,
                                    f"{reason} You can ask again {describe_wait(wait)}.", retry_after=wait,
                                    detail={"budget": name, "count": limit, "window": self.settings.callme_window,
                                            "wait": math.ceil(wait)})
            taken.append(key)


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"
