"""A SIP trunk's far end, in-process, on 127.0.0.1: a registrar and a phone that plays a tone.

Built on aiosipua's own UAS (with its UAC for BYE): it challenges REGISTER
with 401 and INVITE with 407 (digest, MD5, qop=auth), then behaves as told
(``answer``, ``busy``, ``no_answer``, ``early``: 183 with early media, then
answer; ``trying_seconds`` before it rings, as a real network takes), plays a sine of ``tone_hz`` as G.711 and keeps what it hears
(``heard``, PCM 8 kHz) for :func:`dominant_hz`.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import hashlib
import math
import secrets
import threading
import time

import numpy as np
from aiortp import PortAllocator, RTPSession
from aiosipua import SipResponse, SipUAC, SipUAS, negotiate_sdp, parse_auth, serialize_sdp

from signaling.media.sip.sipua import UdpTransport

__all__ = ["PeerThread", "SipPeer", "dominant_hz", "near", "tone_frames", "until"]

RATE = 8000
FRAME = 160


def tone_frames(hz: int, *, amplitude: float = 0.3) -> list[bytes]:
    """One second of a sine (a seamless loop) as 20 ms PCM frames, 8 kHz."""
    wave = array.array("h", (int(amplitude * 32767 * math.sin(2 * math.pi * hz * n / RATE)) for n in range(RATE)))
    return [wave[i:i + FRAME].tobytes() for i in range(0, RATE, FRAME)]


async def until(predicate, timeout: float = 5.0, what: str = "condition"):
    """``predicate()``'s first true value, polled; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


def near(hz: float | None, tones) -> bool:
    """Whether a measured frequency is within 15 Hz of one of ``tones``."""
    return hz is not None and any(abs(hz - tone) < 15 for tone in tones)


def dominant_hz(pcm: bytes, rate: int = RATE, *, floor: float = 100.0) -> float | None:
    """The strongest frequency in ``pcm`` (s16 mono) by FFT, or None for near-silence."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    if len(samples) < rate // 10 or np.sqrt(np.mean(samples ** 2)) < floor:
        return None
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum[1:])) + 1])


def _digest_ok(header: str | None, *, method: str, username: str, password: str, realm: str, nonce: str) -> bool:
    if not header:
        return False
    auth = parse_auth(header)
    p = auth.params
    if p.get("username") != username or p.get("nonce") != nonce or p.get("realm") != realm:
        return False
    h = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    ha1, ha2 = h(f"{username}:{realm}:{password}"), h(f"{method}:{p.get('uri', '')}")
    if p.get("qop") == "auth":
        expected = h(f"{ha1}:{nonce}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
    else:
        expected = h(f"{ha1}:{nonce}:{ha2}")
    return p.get("response") == expected


class SipPeer:
    def __init__(self, *, username: str = "otodesk", password: str = "s3cret", realm: str = "trunk.test",
                 behaviour: str = "answer", ring_seconds: float = 0.3, tone_hz: int = 440,
                 early_hz: int = 525, port: int = 0, transport=None, trying_seconds: float = 0.0):
        self.username, self.password, self.realm = username, password, realm
        self.behaviour = behaviour
        self.ring_seconds = ring_seconds
        self.trying_seconds = trying_seconds
        self.tone = tone_frames(tone_hz)
        self.early = tone_frames(early_hz)
        self.nonce = secrets.token_hex(8)
        self._ports = PortAllocator((40000, 50000))  # apart from the trunk's default range
        self.transport = transport or UdpTransport(local_addr=("127.0.0.1", port))
        self.uas = SipUAS(self.transport, uac=SipUAC(self.transport), user_agent="sip-peer")
        self.uas.on_invite = self._invite
        self.uas.on_bye = lambda call, request: self._hung_up("bye")
        self.uas.on_cancel = lambda request, addr: self._hung_up("cancel")
        self.uas._handlers["REGISTER"] = self._register
        #: What happened, in order: "register-challenged", "registered", "invite-challenged",
        #: "invite", "ringing", "answered", "busy", "bye", "cancel", "ack" ...
        self.log: list[str] = []
        self.invites: list = []
        self.heard = bytearray()
        self.dtmf: list[str] = []
        self.call = None
        self.rtp: RTPSession | None = None
        self._player: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self.changed = asyncio.Event()
        self._reinvite: asyncio.Future | None = None

    @property
    def uri(self) -> str:
        return f"sip:127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        return self.transport.bound[1]

    async def __aenter__(self) -> "SipPeer":
        await self.uas.start()
        inner = self.transport.on_message
        self.transport.on_message = lambda message, addr: self._received(inner, message, addr)
        return self

    def _received(self, inner, message, addr) -> None:
        """The final answer to our re-INVITE is ours (aiosipua's UAS has no use for it)."""
        waiting = self._reinvite
        if isinstance(message, SipResponse) and waiting is not None and not waiting.done() \
                and message.cseq is not None and message.cseq.method.upper() == "INVITE" and message.status_code >= 200:
            waiting.set_result(message)
            return
        inner(message, addr)

    async def __aexit__(self, *exc) -> None:
        await self._stop_media()
        for task in list(self._tasks):
            task.cancel()
        await self.uas.stop()

    def _note(self, what: str) -> None:
        self.log.append(what)
        self.changed.set()

    async def wait_for(self, what: str, timeout: float = 5.0) -> None:
        async def seen() -> None:
            while what not in self.log:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(seen(), timeout)

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- REGISTER -----------------------------------------------------------------------------

    def _register(self, request, addr) -> None:
        response = SipResponse(status_code=200, reason_phrase="OK")
        for via in request.headers.get("via"):
            response.headers.append("Via", via)
        for name in ("From", "Call-ID", "CSeq"):
            response.headers.set_single(name, request.headers.get_first(name) or "")
        response.headers.set_single("To", f"{request.headers.get_first('to')};tag={secrets.token_hex(4)}")
        if not _digest_ok(request.headers.get_first("authorization"), method="REGISTER", username=self.username,
                          password=self.password, realm=self.realm, nonce=self.nonce):
            response.status_code, response.reason_phrase = 401, "Unauthorized"
            response.headers.set_single("WWW-Authenticate",
                                        f'Digest realm="{self.realm}", nonce="{self.nonce}", qop="auth", algorithm=MD5')
            self._note("register-challenged")
        else:
            response.headers.set_single("Contact", f"{request.headers.get_first('contact')};expires=300")
            response.headers.set_single("Expires", "300")
            self._note("registered")
        self.transport.send_reply(response)

    # -- INVITE -------------------------------------------------------------------------------

    def _invite(self, call) -> None:
        if not _digest_ok(call.invite.headers.get_first("proxy-authorization"), method="INVITE",
                          username=self.username, password=self.password, realm=self.realm, nonce=self.nonce):
            call._send_response(407, "Proxy Authentication Required", extra_headers={
                "Proxy-Authenticate": f'Digest realm="{self.realm}", nonce="{self.nonce}", qop="auth", algorithm=MD5'})
            call.dialog.terminate()
            self._note("invite-challenged")
            return
        self.call = call
        self.invites.append(call.invite)
        self._note("invite")
        self._spawn(self._answer_as_told(call))

    async def _answer_as_told(self, call) -> None:
        if self.trying_seconds:
            await asyncio.sleep(self.trying_seconds)  # only aiosipua's 100 Trying meanwhile
        if self.behaviour == "early":
            answer, rtp_port = await self._start_media(call, self.early)
            call._send_response(183, "Session Progress", body=serialize_sdp(answer), content_type="application/sdp")
            self._note("early")
        else:
            call.ringing()
            self._note("ringing")
        if self.behaviour == "no_answer":
            return
        await asyncio.sleep(self.ring_seconds)
        if call.dialog.state.value == "terminated":
            return  # cancelled meanwhile
        if self.behaviour == "busy":
            call.reject(486, "Busy Here")
            self._note("busy")
            return
        if self.behaviour == "early":
            self._play(self.tone)
        else:
            answer, _ = await self._start_media(call, self.tone)
        call.accept(answer)
        self._note("answered")

    async def _start_media(self, call, frames):
        offer = call.sdp_offer
        port, _ = await self._ports.allocate()
        answer, payload_type = negotiate_sdp(offer, "127.0.0.1", port)
        remote = offer.rtp_address
        self.rtp = await RTPSession.create(("127.0.0.1", port), remote, payload_type, jitter_prefetch=1)
        self.rtp.on_audio = lambda pcm, ts: self.heard.extend(pcm)
        self.rtp.on_dtmf = lambda digit, duration: self.dtmf.append(digit)
        self.payload_type = payload_type
        self._play(frames)
        return answer, port

    def _play(self, frames: list[bytes]) -> None:
        if self._player is not None:
            self._player.cancel()
        self._player = asyncio.get_running_loop().create_task(self._run_player(frames))

    async def _run_player(self, frames: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        start, i = loop.time(), 0
        while self.rtp is not None:
            self.rtp.send_audio_pcm_auto(frames[i % len(frames)])
            i += 1
            await asyncio.sleep(max(0.0, start + i * 0.02 - loop.time()))

    async def _stop_media(self) -> None:
        if self._player is not None:
            self._player.cancel()
            self._player = None
        if self.rtp is not None:
            rtp, self.rtp = self.rtp, None
            with contextlib.suppress(Exception):
                await rtp.close()

    def _hung_up(self, how: str) -> None:
        self._note(how)
        self._spawn(self._stop_media())

    async def hangup(self) -> None:
        """The phone hangs up (BYE)."""
        if self.call is not None:
            self.call.hangup()
            self._note("hung-up")
        await self._stop_media()

    async def reinvite(self, direction: str, *, timeout: float = 3.0) -> SipResponse:
        """The phone re-INVITEs the answered call: ``sendonly`` or ``inactive`` holds it, ``sendrecv``
        resumes it (its SDP otherwise the same, one version on); ACKs a 200. Returns the answer."""
        call = self.call
        answer = call.sdp_answer
        answer.origin.session_version = str(int(answer.origin.session_version) + 1)
        for other in ("sendrecv", "sendonly", "recvonly", "inactive"):
            answer.audio.attributes.pop(other, None)
        answer.audio.attributes[direction] = []
        invite = call.dialog.create_request("INVITE", via_host="127.0.0.1", via_port=self.port)
        invite.headers.set_single("Contact", f"<sip:127.0.0.1:{self.port}>")
        invite.headers.set_single("Content-Type", "application/sdp")
        invite.text = serialize_sdp(answer)
        self._reinvite = asyncio.get_running_loop().create_future()
        self.transport.send(invite, call.source_addr)
        response = await asyncio.wait_for(self._reinvite, timeout)
        if response.status_code < 300:
            ack = call.dialog.create_request("ACK", via_host="127.0.0.1", via_port=self.port)
            ack.headers.set_single("CSeq", f"{invite.cseq.seq} ACK")  # the INVITE's number (RFC 3261 §13.2.2.4)
            self.transport.send(ack, call.source_addr)
        self._note(f"reinvite-{direction}")
        return response

    def recent(self, seconds: float = 0.5) -> bytes:
        return bytes(self.heard[-int(seconds * RATE) * 2:])


class PeerThread:
    """A SipPeer on an asyncio loop of its own, for synchronous callers (Playwright's API, a
    fixture that starts a server meanwhile). Started inside a network namespace, the thread is
    in it too."""

    def __init__(self, **options):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.options = options
        self.peer: SipPeer | None = None
        self.start()

    def start(self) -> None:
        """A new SipPeer with the options given at first (after :meth:`stop`: on the same port)."""
        self.peer = SipPeer(**self.options)
        self.run(self.peer.__aenter__())

    def stop(self) -> None:
        """The SipPeer closed, its port free (for sipp, say) until :meth:`start`."""
        if self.peer is not None:
            self.run(self.peer.__aexit__(None, None, None))
            self.peer = None

    def set(self, **attributes) -> None:
        """Change the peer's behaviour (``behaviour``, ``ring_seconds``...) on its own loop."""
        async def change():
            for name, value in attributes.items():
                setattr(self.peer, name, value)
        self.run(change())

    def run(self, coroutine, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
