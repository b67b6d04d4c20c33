"""The websocket hub: connections, rooms, resume, limits.

The hub knows nothing of callbacks or agents. A :class:`RoomHandler` per role
(customer, agent, supervisor; see ``desktop/sockets``) authenticates the
``hello``, builds the full-state ``welcome`` and handles commands. The hub
gives every socket:

- an Origin check before the handshake completes (close 4403 → HTTP 403);
- a bounded send queue drained by its own writer task, so a slow browser never
  stalls a broadcast; a socket that falls ``send_queue_size`` messages behind is
  closed with 4408 and resyncs when it reconnects;
- validation of every frame against the role's schema, a size limit and a
  token-bucket rate limit, each refused with an ``error`` that names a code;
- a cap on the open sockets of one identity (a handler's ``max_sockets``), refused with
  ``rate_limited`` and close 1013;
- its room subscription on the bus, with resume: ``hello.last_seq`` within the
  replay window gets ``resumed`` and the missed events, otherwise ``welcome``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from signaling import protocol
from signaling.bus import Bus
from signaling.limits import TokenBucket
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import BusSessionEnded, OutPong, OutResumed
from signaling.stats import Histogram

__all__ = ["Hub", "HubLimits", "RoomHandler", "Session", "Unauthorized", "origin_allowed", "SESSION_ENDED"]

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_SLOW = 4408
# Room event: close the sockets whose Session.tag it names (built as BusSessionEnded).
SESSION_ENDED = BusSessionEnded.__struct_config__.tag
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: too many sockets of one identity
TRY_AGAIN_AFTER = 5.0  # seconds a client refused for too many sockets should wait
HELLO_TIMEOUT = 10.0  # seconds a socket may stay silent before its hello
#: Upper bounds (seconds) of the handling-time buckets: a call_me takes ~5-10 ms on
#: PostgreSQL, an offer's whole path should be under 50 ms (bench/README.md).
HANDLING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class Unauthorized(Exception):
    """The hello's credentials were missing, expired or forged."""


@dataclasses.dataclass(eq=False, slots=True)
class Session:
    """Who is on a socket, set by the handler's ``authenticate``."""

    role: str
    room: str
    identity: str
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    connection: "Connection | None" = None
    #: What ends this socket: a ``session_ended`` event in its room with this ``tag``
    #: (a staff member signed out) closes it with 4401.
    tag: str | None = None

    def send(self, message: dict[str, Any]) -> None:
        """Send to this socket only (not the room); never blocks."""
        if self.connection is not None:
            self.connection.send(message)


class RoomHandler(Protocol):
    role: str
    #: Optional: open sockets one identity may have in this process (None: no cap).
    max_sockets: int | None

    async def authenticate(self, websocket: WebSocket, hello: protocol.Hello) -> Session:
        """Return the session for this hello or raise Unauthorized."""

    async def opened(self, session: Session, hello: protocol.Hello) -> None:
        """The socket is subscribed to its room; announce presence here."""

    async def welcome(self, session: Session) -> Any:
        """The full current state of the room, sent as ``welcome``: the role's ``*Welcome``
        struct of ``signaling.protocol.outbound`` (a plain mapping is taken too)."""

    async def handle(self, session: Session, message: Any) -> dict[str, Any] | None:
        """Apply one command. Return extra ``ack`` fields (or None); raise ProtocolError,
        or Unauthorized to end a session whose credentials were revoked (close 4401)."""

    async def closed(self, session: Session) -> None:
        """The socket is gone (always called once ``opened`` was)."""

    # Optional: ``outgoing(session, seq, event)`` → the event to send this socket instead of
    # the room's (the wall: a delta where the socket needs no whole wall), or None for none.


@dataclasses.dataclass(frozen=True, kw_only=True)
class HubLimits:
    max_message_bytes: int = 64 * 1024
    messages_per_second: float = 20.0
    message_burst: int = 60
    send_queue_size: int = 256


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...],
                   public: tuple[str, ...] = ()) -> bool:
    """True for the app's own origin, a listed one, or no Origin at all.

    The app's own origin is ``public`` when configured (behind a proxy, whatever ``Host`` the
    proxy forwards or not), else the one the ``Host`` header names (one process, no proxy).
    Browsers always send Origin; native clients (our bots) send none and
    still have to authenticate, so a missing Origin is not a CSWSH risk.
    """
    if origin is None:
        return True
    if origin in allowed or "*" in allowed or origin in public:
        return True
    return not public and bool(host) and urlsplit(origin).netloc == host


async def _receive(websocket: WebSocket) -> dict[str, Any]:
    """The next ASGI websocket frame; raises WebSocketDisconnect when the client has gone."""
    frame = await websocket.receive()
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000), frame.get("reason"))
    return frame


def _frame_text(frame: dict[str, Any]) -> str:
    """A frame's text; ProtocolError for a binary frame (the protocol is JSON text, and
    Starlette's ``receive_text`` would fail on one with a KeyError that closes the socket
    without a word)."""
    text = frame.get("text")
    if text is None:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "binary frames are not accepted; send JSON as text")
    return text


class Connection:
    """One socket's bounded outbox, written by a task that exists only while there is something
    to send: an idle socket holds no queue and no writer (bench/idle_sockets.py). ``sent``
    counts what it queued by message type (the hub's, for monitoring)."""

    __slots__ = ("websocket", "_sent", "_limit", "_outbox", "_writer", "_broken", "too_slow", "ended", "stopped",
                 "_reader", "_interrupted")

    def __init__(self, websocket: WebSocket, *, queue_size: int, sent: collections.Counter[str] | None = None):
        self.websocket = websocket
        self._sent = collections.Counter() if sent is None else sent
        self._limit = queue_size
        self._outbox: collections.deque[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._broken = False  # a send failed: the peer is gone, the reader will see it
        self.too_slow = False  # its outbox overflowed: closed with CLOSE_TOO_SLOW
        self.ended = False  # its session ended (signed out): close with 4401
        #: Done when the socket must close (too slow); the session waits on it beside its reader.
        self.stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader: asyncio.Task[Any] | None = None  # the task in read_until_stopped, while it is
        self._interrupted = False

    def stop(self) -> None:
        """End the socket: its reader is interrupted (the session closes it)."""
        if not self.stopped.done():
            self.stopped.set_result(None)

    async def read_until_stopped(self, reading: Coroutine[Any, Any, None]) -> None:
        """Run ``reading`` in this task until it returns or the socket is stopped (then it is
        cancelled, as a command it was running would have been by asyncio.wait)."""
        if self.stopped.done():
            reading.close()
            return
        self._reader = asyncio.current_task()
        self.stopped.add_done_callback(self._interrupt)
        try:
            await reading
        except asyncio.CancelledError:
            # Ours (the socket stopped) ends the read quietly; anyone else's (the server
            # stopping) goes on up.
            if not self._interrupted or self._reader.uncancel() > 0:
                raise
        finally:
            self._reader = None
            self.stopped.remove_done_callback(self._interrupt)

    def _interrupt(self, _stopped: asyncio.Future[None]) -> None:
        if self._reader is not None and not self._interrupted:
            self._interrupted = True
            self._reader.cancel()

    def send(self, message: dict[str, Any]) -> None:
        if self.too_slow or self._broken:
            return
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = collections.deque()
        elif len(outbox) >= self._limit:
            # Dropping one event would leave the client's state silently wrong;
            # close instead so it resyncs on reconnect.
            log.warning("socket too slow, closing it")
            self.stop_too_slow()
            return
        outbox.append(protocol.encode(message))
        self._sent[message.get("type")] += 1
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    def stop_too_slow(self) -> None:
        self.too_slow = True
        self._outbox = None
        self.stop()

    async def _write(self) -> None:
        try:
            while self._outbox:
                await self.websocket.send_text(self._outbox.popleft())
        except Exception:  # the peer went away mid-send: the session ends (its reader may not see it)
            self._broken = True
            self.stop()
        finally:
            self._writer = None
            if not self._outbox:
                self._outbox = None

    async def close(self) -> None:
        """Stop writing (what is still queued is dropped: the socket is closing)."""
        writer, self._writer = self._writer, None
        self._broken = True
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        if not self.stopped.done():
            self.stopped.cancel()


class Forwarder:
    """A socket's room events to its outbox, called by its bus subscription as each comes
    (``Subscription.listen``): what was already sent (the welcome's state, a resume's replay)
    skipped, the hub's own events acted on, the handler's ``outgoing`` applied."""

    __slots__ = ("session", "connection", "delivered", "outgoing", "active")

    def __init__(self, session: Session, connection: Connection, delivered: int,
                 outgoing: Callable[[Session, int, dict[str, Any]], dict[str, Any] | None] | None):
        self.session = session
        self.connection = connection
        self.delivered = delivered
        self.outgoing = outgoing
        self.active = True

    def on_event(self, seq: int, event: dict[str, Any]) -> None:
        if seq <= self.delivered or self.connection.ended or not self.active:
            return
        self.delivered = seq
        try:
            self._forward(seq, event)
        except Exception:  # an event it could not send leaves the client's state wrong: resync
            log.exception("socket forwarder failed")
            self.connection.stop()

    def _forward(self, seq: int, event: dict[str, Any]) -> None:
        if event.get("type") == SESSION_ENDED:  # for the hub, never for clients
            if self.session.tag is not None and event.get("tag") == self.session.tag:
                self.connection.send(protocol.error(ErrorCode.UNAUTHORIZED, "signed out"))
                self.connection.ended = True
                # Let the writer flush the reason, then end the socket (closed with 4401).
                asyncio.get_running_loop().call_later(0.05, self.connection.stop)
            return
        if self.outgoing is not None and (event := self.outgoing(self.session, seq, event)) is None:
            return
        self.connection.send({**event, "seq": seq})

    def on_end(self, lagged: bool) -> None:
        if lagged:
            self.connection.stop_too_slow()  # it must resync: closed, it reconnects
        else:
            self.connection.stop()  # the bus closed: no more events will come


class Hub:
    """Serves sockets for any number of room handlers over one bus."""

    def __init__(self, bus: Bus, *, limits: HubLimits,
                 allowed_origins: tuple[str, ...] | Callable[[], tuple[str, ...]] = (),
                 public_origins: tuple[str, ...] = (), clock=time.time):
        self.bus = bus
        self.limits = limits
        #: Other sites whose pages may open a socket: a fixed list, or a function asked at every
        #: socket (the console's list, which changes while the process runs).
        self._allowed_origins = allowed_origins if callable(allowed_origins) else (lambda: allowed_origins)
        self.public_origins = public_origins
        self.clock = clock
        self.sessions: set[Session] = set()
        #: For monitoring, counted in place: messages queued to sockets by ``type``; valid
        #: frames received by message class (see :meth:`received_by_type`); frames refused
        #: before a handler saw them, by reason ("invalid", "rate_limited").
        self.sent: collections.Counter[str] = collections.Counter()
        self.received: collections.Counter[type] = collections.Counter()
        self.refused: collections.Counter[str] = collections.Counter()
        #: Seconds each handled message took, from its frame read to its reply queued, by class
        #: (see :meth:`handled_by_type`): where a slow command waited, on /metrics.
        self.handled: dict[type, Histogram] = collections.defaultdict(lambda: Histogram(HANDLING_BUCKETS))
        #: Open sockets per (role, identity) in this process, for a handler's ``max_sockets``.
        self._open: collections.Counter[tuple[str, str]] = collections.Counter()

    async def serve(self, websocket: WebSocket, handler: RoomHandler) -> None:
        """Run one socket until it closes. Never raises for what a client sends."""
        if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"),
                              self._allowed_origins(), self.public_origins):
            await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        await websocket.accept()
        connection = Connection(websocket, queue_size=self.limits.send_queue_size, sent=self.sent)
        try:
            hello = await self._receive_hello(websocket, handler.role, connection)
            if hello is None:
                return
            try:
                session = await handler.authenticate(websocket, hello)
            except Unauthorized as exc:
                connection.send(protocol.error(ErrorCode.UNAUTHORIZED, str(exc) or "not authenticated"))
                await asyncio.sleep(0.05)  # let the writer flush the reason
                await websocket.close(code=CLOSE_UNAUTHORIZED)
                return
            session.connection = connection
            if self._too_many_sockets(handler, session):
                connection.send(protocol.error(
                    ErrorCode.RATE_LIMITED, f"at most {handler.max_sockets} open sockets at once; "
                    "close another tab first", retry_after=TRY_AGAIN_AFTER))
                await asyncio.sleep(0.05)  # let the writer flush the reason
                await websocket.close(code=CLOSE_TRY_AGAIN_LATER)
                return
            # No await between the count above and registering the session in _run_session:
            # a hundred sockets opened at once can't all pass the check.
            await self._run_session(websocket, handler, session, hello, connection)
        except WebSocketDisconnect:
            pass
        finally:
            await connection.close()
            if websocket.application_state != WebSocketState.DISCONNECTED:
                with contextlib.suppress(Exception):
                    code = CLOSE_TOO_SLOW if connection.too_slow \
                        else CLOSE_UNAUTHORIZED if connection.ended else 1000
                    await websocket.close(code=code)

    def received_by_type(self) -> dict[str, int]:
        """Valid frames received so far, by their ``type`` (counted by class on the hot path)."""
        return {cls.__struct_config__.tag: count for cls, count in self.received.items()}

    def handled_by_type(self) -> dict[str, Histogram]:
        """Handling times so far, by the messages' ``type``."""
        return {cls.__struct_config__.tag: histogram for cls, histogram in list(self.handled.items())}

    def _too_many_sockets(self, handler: RoomHandler, session: Session) -> bool:
        limit = getattr(handler, "max_sockets", None)
        return bool(limit) and self._open[(session.role, session.identity)] >= limit

    async def _receive_hello(self, websocket: WebSocket, role: str,
                             connection: Connection) -> protocol.Hello | None:
        while True:
            try:
                async with asyncio.timeout(HELLO_TIMEOUT):
                    frame = await _receive(websocket)
            except asyncio.TimeoutError:
                return None
            try:
                text = _frame_text(frame)
                message = protocol.decode(role, text, max_bytes=self.limits.max_message_bytes)
            except ProtocolError as exc:
                self.refused["invalid"] += 1
                connection.send(protocol.error(exc.code, exc.message, command_id=exc.command_id))
                continue
            self.received[type(message)] += 1
            if isinstance(message, protocol.Hello):
                return message
            connection.send(protocol.error(ErrorCode.NOT_READY, "send hello first",
                                           command_id=getattr(message, "id", None)))

    async def _run_session(self, websocket: WebSocket, handler: RoomHandler, session: Session,
                           hello: protocol.Hello, connection: Connection) -> None:
        self.sessions.add(session)
        self._open[(session.role, session.identity)] += 1
        try:
            async with self.bus.subscribe(session.room) as subscription:
                # Subscribed first, then state: nothing published in between is lost.
                delivered = await self._catch_up(handler, session, hello.last_seq)
                await handler.opened(session, hello)
                forwarder = Forwarder(session, connection, delivered, getattr(handler, "outgoing", None))
                try:
                    # The room's events go straight to the outbox as the bus offers them (no
                    # task waiting on the subscription); the reader runs in this task (uvicorn's,
                    # one per socket anyway). Either ending, or the outbox stopping, ends the
                    # socket: each task, future and asyncio.wait per socket was more for the
                    # collector to walk (bench/idle_sockets.py --objects).
                    subscription.listen(forwarder)
                    await connection.read_until_stopped(self._read(websocket, handler, session, connection))
                except WebSocketDisconnect:
                    pass
                except Exception as exc:
                    log.error("socket task failed", exc_info=exc)
                finally:
                    forwarder.active = False  # nothing more for a socket that is closing
                    await handler.closed(session)
        finally:
            self.sessions.discard(session)
            key = (session.role, session.identity)
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]

    async def _catch_up(self, handler: RoomHandler, session: Session, last_seq: int | None) -> int:
        if last_seq is not None and last_seq >= 0:
            missed = await self.bus.replay(session.room, last_seq)
            if missed is not None:
                session.send(OutResumed(seq=last_seq, now=self.clock()).to_dict())
                for seq, event in missed:
                    if event.get("type") != SESSION_ENDED:
                        session.send({**event, "seq": seq})
                return missed[-1][0] if missed else last_seq
        seq = await self.bus.last_seq(session.room)
        state = await handler.welcome(session)
        session.send(protocol.welcome(state, seq=seq, now=self.clock()))
        return seq

    async def _read(self, websocket: WebSocket, handler: RoomHandler, session: Session,
                    connection: Connection) -> None:
        bucket = TokenBucket(rate=self.limits.messages_per_second, burst=self.limits.message_burst,
                             now=self.clock())
        while True:
            if websocket.application_state != WebSocketState.CONNECTED:
                return  # the writer found the peer gone (a server stopping closes them): not a failure
            frame = await _receive(websocket)
            if not bucket.take(self.clock()):
                self.refused["rate_limited"] += 1
                connection.send(protocol.error(ErrorCode.RATE_LIMITED, "too many messages; slow down"))
                continue
            message = None
            try:
                try:
                    message = protocol.decode(session.role, _frame_text(frame),
                                              max_bytes=self.limits.max_message_bytes)
                except ProtocolError:
                    self.refused["invalid"] += 1
                    raise
                self.received[type(message)] += 1
                if isinstance(message, protocol.Ping):
                    connection.send(OutPong(at=self.clock()).to_dict())
                    continue
                if isinstance(message, protocol.Hello):
                    raise ProtocolError(ErrorCode.INVALID_STATE, "hello was already received")
                started = time.perf_counter()
                try:
                    extra = await handler.handle(session, message)
                finally:
                    self.handled[type(message)].observe(time.perf_counter() - started)
            except Unauthorized as exc:
                # The session's credentials were revoked while it was open: say so and end it.
                connection.send(protocol.error(ErrorCode.UNAUTHORIZED, str(exc) or "not authenticated",
                                               command_id=getattr(message, "id", None)))
                await asyncio.sleep(0.05)  # let the writer flush the reason
                await websocket.close(code=CLOSE_UNAUTHORIZED)
                return
            except ProtocolError as exc:
                connection.send(protocol.error(exc.code, exc.message, retry_after=exc.retry_after,
                                               command_id=exc.command_id or getattr(message, "id", None),
                                               detail=exc.detail))
                continue
            except Exception:
                log.exception("handler failed on %s", type(message).__name__)
                connection.send(protocol.error(ErrorCode.INTERNAL, "internal error; nothing was changed",
                                               command_id=getattr(message, "id", None)))
                continue
            command_id = getattr(message, "id", None)
            if command_id is not None:
                connection.send(protocol.ack(command_id, **(extra or {})))
