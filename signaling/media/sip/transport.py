"""The trunk's SIP transports: UDP, or one TCP or TLS connection to the proxy (RFC 3261 §18).

:class:`UdpTransport` is aiosipua's UDP transport, bound without the type
assertion its start makes (Python 3.11's asyncio datagram transport is not a
``DatagramTransport``: it logged an error at each start).

aiosipua 0.7.1 has a TCP transport but no TLS, and it keeps a connection per
peer that only a server accepts or :meth:`connect` opens; its message framing
is private. :class:`StreamTransport` is a client's: one connection to the
proxy, everything (requests, responses, the proxy's requests to us) on it,
whatever address aiosipua names. Messages are framed by Content-Length
(:func:`read_message`; CRLF keep-alives between them skipped, RFC 5626 §3.5.1),
and a CRLF CRLF ping goes out every :data:`KEEPALIVE` seconds so a NAT or the
proxy keeps the connection.

aiosipua writes ``Via: SIP/2.0/UDP`` and a bare ``Contact: <sip:host:port>``
everywhere; :func:`stamp` puts the real transport in our topmost Via of each
request and a ``;transport=`` parameter in each Contact, as the message leaves.

TLS verifies the proxy's certificate against ``tls_ca_file`` (else the
system's CAs) and its name against the URI's host. ``insecure`` turns both off
(a lab's self-signed proxy) and says so loudly at each connection.

Each connection made calls ``on_connected()``; when the proxy drops it,
``on_lost(reason)`` is called; messages
sent while it is down are kept (a few) and go out once :meth:`connect`
succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
from collections.abc import Callable

from aiosipua import SipMessage, SipRequest, UdpSipTransport
from aiosipua.transport import SipTransport

__all__ = ["UdpTransport", "route_address", "StreamTransport", "read_message", "stamp", "tls_context", "KEEPALIVE", "MAX_HEADER", "MAX_BODY"]

log = logging.getLogger(__name__)

KEEPALIVE = 25.0       # seconds between CRLF CRLF pings
MAX_HEADER = 64 * 1024  # bytes: a peer sending more is broken or hostile; the connection is dropped
MAX_BODY = 256 * 1024
CONNECT_TIMEOUT = 8.0
QUEUED = 32            # messages kept while the connection is down
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_VIA_UDP = re.compile(r"^SIP/2\.0/UDP\b", re.IGNORECASE)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpSipTransport):
        self.owner = owner

    def datagram_received(self, data: bytes, addr) -> None:
        self.owner._dispatch(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.warning("SIP UDP error: %s", exc)


class UdpTransport(UdpSipTransport):
    """aiosipua's UDP transport, bound without its Python 3.12-only type assertion."""

    async def start(self) -> None:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Datagrams(self), local_addr=self.local_addr)
        self._udp_transport = transport

    @property
    def bound(self) -> tuple[str, int]:
        return self._udp_transport.get_extra_info("sockname")[:2]


def route_address(host: str, port: int) -> str:
    """The local address the kernel would use to reach ``host`` (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host, port))
        return probe.getsockname()[0]


class FramingError(ValueError):
    """The stream does not carry SIP messages we can frame: the connection is dropped."""


async def read_message(reader: asyncio.StreamReader) -> bytes | None:
    """One SIP message (headers and Content-Length bytes of body) off ``reader``; None at EOF.

    Raises FramingError for a header block over :data:`MAX_HEADER` or a body over
    :data:`MAX_BODY`, or a message with no Content-Length (mandatory on streams, RFC 3261 §18.3).
    """
    while True:  # CRLF keep-alives (and their answers) come between messages
        first = await _line(reader)
        if not first:
            return None
        if first.strip():
            break
    head = bytearray(first)
    while not head.endswith(b"\r\n\r\n") and not head.endswith(b"\n\n"):
        line = await _line(reader)
        if not line:
            return None
        head += line
        if len(head) > MAX_HEADER:
            raise FramingError(f"a header block over {MAX_HEADER} bytes")
    found = _CONTENT_LENGTH.search(bytes(head))
    if found is None:
        raise FramingError("a message without Content-Length")
    length = int(found.group(1))
    if length > MAX_BODY:
        raise FramingError(f"a body of {length} bytes (over {MAX_BODY})")
    body = await reader.readexactly(length) if length else b""
    return bytes(head) + body


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ValueError:  # a line longer than the reader's limit (64 KiB)
        raise FramingError(f"a header block over {MAX_HEADER} bytes") from None


def stamp(message, transport: str) -> None:
    """Name ``transport`` (TCP, TLS) in the request's topmost Via and in every Contact."""
    if isinstance(message, SipRequest):
        vias = message.headers.get("via")
        if vias and _VIA_UDP.match(vias[0]):
            rest = vias[1:]
            message.headers.remove("Via")
            message.headers.append("Via", _VIA_UDP.sub(f"SIP/2.0/{transport.upper()}", vias[0], count=1))
            for via in rest:
                message.headers.append("Via", via)
    contacts = message.headers.get("contact")
    if contacts and not any("transport=" in contact.lower() for contact in contacts):
        message.headers.remove("Contact")
        for contact in contacts:
            message.headers.append("Contact", _with_transport(contact, transport.lower()))


def _with_transport(contact: str, transport: str) -> str:
    if "<" in contact:
        head, _, tail = contact.partition(">")
        return f"{head};transport={transport}>{tail}"
    uri, sep, params = contact.partition(";")  # a bare URI: its header parameters follow the first ;
    return f"<{uri};transport={transport}>{sep}{params}"


def tls_context(*, ca_file: str = "", insecure: bool = False) -> ssl.SSLContext:
    """A client context: TLS 1.2 at least, the proxy's certificate and name checked (unless ``insecure``)."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe(exc: BaseException) -> str:
    """What went wrong connecting, in words for the wall."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the proxy's TLS certificate is refused: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, TimeoutError):
        return f"no connection in {CONNECT_TIMEOUT:g} s"
    return f"cannot connect: {exc.strerror or exc}" if isinstance(exc, OSError) else f"cannot connect: {exc}"


class StreamTransport(SipTransport):
    """aiosipua's transport interface over one connection to ``proxy`` (TLS when ``tls`` is a context)."""

    reliable = True  # no retransmissions of ours, nor aiosipua's 2xx ones (RFC 3261 §17.1.1.2)

    def __init__(self, proxy: tuple[str, int], *, server_name: str, tls: ssl.SSLContext | None = None,
                 insecure: bool = False, local_host: str = ""):
        super().__init__(local_addr=(local_host or "0.0.0.0", 0))
        self.proxy = proxy
        self.server_name = server_name
        self.tls = tls
        self.insecure = insecure
        self.name = "TLS" if tls is not None else "TCP"
        self.error = ""  # why the last connection attempt failed
        self.on_lost: Callable[[str], None] | None = None
        self.on_connected: Callable[[], None] | None = None
        self._local_host = local_host
        self._writer: asyncio.StreamWriter | None = None
        self._queue: list[bytes] = []
        self._tasks: set[asyncio.Task] = set()
        self._connecting: asyncio.Task | None = None
        self._stopped = False

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    @property
    def bound(self) -> tuple[str, int]:
        """Our end of the connection (address, port), or (local host, 0) while down."""
        if self._writer is None:
            return (self._local_host or "0.0.0.0", 0)
        return self._writer.get_extra_info("sockname")[:2]

    async def start(self) -> None:
        """Connect once; a failure is kept in :attr:`error` (the trunk reports it and retries)."""
        with contextlib.suppress(ConnectionError):
            await self.connect()

    async def connect(self) -> None:
        """Open the connection (once; concurrent callers share the attempt). Raises ConnectionError
        with :func:`describe`'s words when it fails."""
        if self.connected:
            return
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._open())
        await asyncio.shield(self._connecting)

    async def _open(self) -> None:
        host, port = self.proxy
        if self.insecure:
            log.warning("SIP over TLS to %s:%d WITHOUT CERTIFICATE VERIFICATION "
                        "(OTODESK_SIP_TLS_INSECURE_NO_VERIFY): anyone on the path can read and change "
                        "the calls; for a lab only", host, port)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self.tls, server_hostname=self.server_name if self.tls else None,
                    local_addr=(self._local_host, 0) if self._local_host else None)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            self.error = describe(exc)
            log.warning("SIP over %s to %s:%d: %s", self.name, host, port, self.error)
            raise ConnectionError(self.error) from None
        self.error = ""
        self._writer = writer
        log.info("SIP over %s connected to %s:%d from %s:%d", self.name, host, port, *self.bound)
        self._spawn(self._read(reader, writer))
        self._spawn(self._keepalive(writer))
        if self.on_connected is not None:
            self.on_connected()
        queued, self._queue = self._queue, []
        for data in queued:
            writer.write(data)

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reason = "the proxy closed the connection"
        try:
            while (data := await read_message(reader)) is not None:
                self._deliver(data)
        except FramingError as exc:
            reason = f"the proxy sent {exc}"
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            reason = f"the connection failed: {exc}"
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()
        if not self._stopped:
            log.warning("SIP over %s to %s:%d: %s", self.name, *self.proxy, reason)
            if self.on_lost is not None:
                self.on_lost(reason)

    def _deliver(self, data: bytes) -> None:
        try:
            message = SipMessage.parse(data)
        except Exception:
            log.warning("an unparsable SIP message from the proxy (%d bytes) ignored", len(data))
            return
        if self.on_message is not None:
            try:
                self.on_message(message, self.proxy)
            except Exception:
                log.exception("SIP message handler failed")

    async def _keepalive(self, writer: asyncio.StreamWriter) -> None:
        while self._writer is writer:
            await asyncio.sleep(KEEPALIVE)
            if self._writer is writer:
                writer.write(b"\r\n\r\n")

    def send(self, message, addr: tuple[str, int] | None = None) -> None:
        """Send on the connection, whatever ``addr`` (everything goes through the proxy);
        kept for the next connection while it is down."""
        stamp(message, self.name)
        data = bytes(message)
        if self.connected:
            self._writer.write(data)
            return
        if len(self._queue) < QUEUED:
            self._queue.append(data)
        if not self._stopped:
            self._spawn(self._connect_quietly())

    async def _connect_quietly(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.connect()

    async def stop(self) -> None:
        self._stopped = True
        writer, self._writer = self._writer, None
        for task in list(self._tasks):
            task.cancel()
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await writer.wait_closed()
