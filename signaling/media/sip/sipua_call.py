"""One call on the aiosipua trunk (:mod:`.sipua`): what the SIP side says of it (provisional
answers, the answer, BYE, failures), its media (RTP, or SRTP when keyed: :mod:`.srtp`) and what
the anchor does to it (audio, RFC 4733 digits, hang-up). Calls the provider sends us are
:class:`~.sipua_inbound.SipuaIncomingCall`, one of these answered the other way round.

The trunk's own gaps it fills (:mod:`.sipua`'s docstring lists them): Timer A retransmission of
the INVITE over UDP, a ring timeout that CANCELs, the 183's SDP for early media.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
from typing import TYPE_CHECKING

from aiortp import RTPSession
from aiosipua import SipResponse

from signaling.media.sip.arrival import deliver_on_arrival
from signaling.media.sip.dtmf import check_digits, send_digits
from signaling.media.sip.sdp import media_of
from signaling.media.sip.srtp import Crypto, SrtpContext, SrtpSession, their_answer
from signaling.media.sip.sipua_register import USER_AGENT
from signaling.media.sip.trunk import (FRAME_BYTES, AudioSink, CallResult, EventSink, PhoneCall, PhoneEvent,
                                       PhoneState, result_of_status)

if TYPE_CHECKING:
    from signaling.media.sip.sipua import SipuaTrunk

__all__ = ["SipuaCall", "NO_RESPONSE", "T1"]

log = logging.getLogger(__name__)

T1 = 0.5           # seconds: RFC 3261's first retransmission interval
NO_RESPONSE = 8.0  # seconds without any answer to an INVITE: the trunk is unreachable


class SipuaCall(PhoneCall):
    def __init__(self, trunk: "SipuaTrunk", number: str, *, on_event: EventSink | None, on_audio: AudioSink | None):
        self.trunk = trunk
        self.number = number
        self.on_event = on_event
        self.on_audio = on_audio
        self.state = PhoneState.DIALLING
        self.result: CallResult | None = None
        self.sip_call = None  # aiosipua OutgoingCall
        self.rtp: RTPSession | None = None
        self.rtp_port = 0
        self.started_at = time.monotonic()
        self.answered_at: float | None = None
        self._media_lock = asyncio.Lock()
        self._answering = False
        self.digits: collections.deque[str] = collections.deque(maxlen=64)
        self._dtmf_task: asyncio.Task | None = None
        self.responded = False  # any answer at all to our INVITE (100 Trying included)
        self.in_event = False
        #: SRTP: our key (offered, or answered), and the call's context once both keys are known.
        self.crypto: Crypto | None = None
        self.srtp: SrtpContext | None = None
        self.profile = "RTP/AVP"  # the m= line's protocol: RTP/SAVP for SRTP required
        self._ended = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        #: Our SDP's o= session id and version (a re-INVITE's answer is the same session, one version on).
        self.sdp_session, self.sdp_version = secrets.randbelow(1 << 31), 1
        #: What the far end's last offer asked for (its re-INVITE: :mod:`.sipua_reinvite`).
        self.far_direction = "sendrecv"
        #: We sent our offer in a 200 (its re-INVITE had none): its answer comes in the ACK.
        self.awaiting_answer = False

    @property
    def call_id(self) -> str:
        return self.sip_call.call_id if self.sip_call is not None else ""

    @property
    def far_held(self) -> bool:
        """The far end put the call on hold: it sends nothing (inactive) or only its hold music (sendonly)."""
        return self.far_direction in ("sendonly", "inactive")

    # -- from the SIP side ----------------------------------------------------------------

    def _emit(self, event: PhoneEvent) -> None:
        self.state = event.state
        if self.on_event is not None:
            try:
                self.on_event(self, event)
            except Exception:
                log.exception("phone call event handler failed")

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _provisional(self, response: SipResponse) -> None:
        if self.state not in (PhoneState.DIALLING, PhoneState.RINGING):
            return
        early = response.status_code == 183 and bool(response.body) and response.content_type == "application/sdp"
        if early:
            self._spawn(self._early_media(response.text))
        if self.state == PhoneState.DIALLING or early:
            self._emit(PhoneEvent(state=PhoneState.RINGING, status=response.status_code,
                                  reason=response.reason_phrase, early_media=early))

    def _answered(self, response: SipResponse) -> None:
        if self.state == PhoneState.ENDED or self._answering:
            return  # a retransmitted 200 (aiosipua ACKs it again)
        self._answering = True
        if not (response.body and response.content_type == "application/sdp"):
            self._spawn(self._fail_after_answer("the answer carries no SDP"))
            return
        self._spawn(self._connect(response.text))

    async def _connect(self, sdp: str) -> None:
        try:
            await self._media(sdp)
        except ValueError as exc:
            await self._fail_after_answer(str(exc))
            return
        except OSError as exc:  # its RTP port taken since it was offered: the call can't be heard
            await self._fail_after_answer(f"RTP port {self.rtp_port} could not be bound ({exc.strerror})")
            return
        if self.state == PhoneState.ENDED:
            return
        self.answered_at = time.monotonic()
        self._emit(PhoneEvent(state=PhoneState.CONNECTED, status=200, reason="OK"))

    async def _early_media(self, sdp: str) -> None:
        try:
            await self._media(sdp)
        except (ValueError, OSError) as exc:  # the final answer decides; meanwhile, nothing heard
            log.warning("phone call to %s: early media not taken: %s", self.number, exc)

    async def _fail_after_answer(self, reason: str) -> None:
        log.warning("phone call to %s: %s; hanging up", self.number, reason)
        with contextlib.suppress(Exception):
            self.trunk._uac.send_bye(self.sip_call.dialog, self.trunk.proxy_address)
        await self._end(CallResult.FAILED, reason=reason)

    async def _media(self, sdp: str) -> None:
        """Start RTP towards the address the (early or final) answer names, once; follow a change."""
        try:
            remote, payload_type, dtmf = media_of(sdp, self.trunk.config.codecs)
        except Exception as exc:
            raise ValueError(f"malformed SDP answer: {exc}") from None
        theirs = their_answer(self.trunk.config.srtp, self.crypto, sdp)  # ValueError: SRTP refused
        async with self._media_lock:
            if self.state == PhoneState.ENDED:
                return
            if self.rtp is None:
                await self.open_rtp(remote, payload_type, dtmf, theirs)
            else:
                if self.rtp._remote_addr != remote:
                    self.rtp.update_remote(remote)
                if self.srtp is not None and theirs is not None:
                    self.srtp.rekey(theirs)  # the 200's key may differ from the 183's

    async def open_rtp(self, remote: tuple[str, int], payload_type: int, dtmf: int, theirs: Crypto | None) -> None:
        """The call's RTP session towards ``remote``: SRTP when the far end gave a key (``theirs``)."""
        self.trunk._ports.take(self.rtp_port)
        rtp = await (SrtpSession if theirs is not None else RTPSession).create(
            (self.trunk.bind_host, self.rtp_port), remote, payload_type,
            dtmf_payload_type=dtmf, jitter_prefetch=1, plc=True, cname=USER_AGENT)
        if theirs is not None:
            self.srtp = rtp.srtp = SrtpContext(self.crypto, theirs)
        deliver_on_arrival(rtp)
        rtp.on_audio = self._audio
        rtp.on_dtmf = self._digit
        self.rtp = rtp

    def _audio(self, pcm: bytes, timestamp: int) -> None:
        if self.on_audio is not None and self.state != PhoneState.ENDED \
                and self.far_direction in ("sendrecv", "sendonly"):
            self.on_audio(pcm)

    def _digit(self, digit: str, duration: int) -> None:
        if self.on_dtmf is not None and self.state == PhoneState.CONNECTED:
            try:
                self.on_dtmf(digit)
            except Exception:
                log.exception("phone call DTMF handler failed")

    def _rejected(self, status: int, reason: str) -> None:
        result = result_of_status(status)
        # 488/606 Not Acceptable to an offer of SRTP required: most likely the SRTP
        if status in (488, 606) and self.crypto is not None and self.trunk.config.srtp == "required":
            result, reason = CallResult.FAILED, f"the far end refused SRTP ({status} {reason})"
        self._spawn(self._end(result, status=status, reason=reason))

    def _bye(self) -> None:
        self._spawn(self._end(CallResult.COMPLETED, reason="the phone hung up"))

    async def _end(self, result: CallResult, *, status: int = 0, reason: str = "") -> None:
        if self.state == PhoneState.ENDED:
            return
        self.result = result
        self._emit(PhoneEvent(state=PhoneState.ENDED, result=result, status=status, reason=reason))
        self._ended.set()
        current = asyncio.current_task()
        for task in list(self._tasks):  # the ring timeout, Timer A, DTMF: nothing outlives the call
            if task is not current:
                task.cancel()
        if self.rtp is not None:
            with contextlib.suppress(Exception):
                await self.rtp.close()
        self.trunk._forget(self)

    async def _retransmit(self) -> None:
        """Timer A: the INVITE again at T1, 2·T1, 4·T1… until any answer; none in NO_RESPONSE: failed."""
        loop = asyncio.get_running_loop()
        deadline, interval = loop.time() + NO_RESPONSE, T1
        while not self.responded and self.state == PhoneState.DIALLING:
            wait = min(interval, deadline - loop.time())
            if wait <= 0:
                await self._end(CallResult.FAILED, reason=getattr(self.trunk._transport, "error", "")
                                or f"the trunk did not answer in {NO_RESPONSE:g} s")
                return
            await asyncio.sleep(wait)
            if not self.responded and self.state == PhoneState.DIALLING and loop.time() < deadline \
                    and not self.trunk._transport.reliable:  # TCP/TLS: the stream retransmits
                with contextlib.suppress(Exception):
                    self.trunk._transport.send(self.sip_call.invite, self.trunk.proxy_address)
            interval *= 2

    async def _ring_timeout(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.state in (PhoneState.DIALLING, PhoneState.RINGING):
            with contextlib.suppress(Exception):
                self.trunk._uac.send_cancel(self.sip_call)
            await self._end(CallResult.NO_ANSWER, reason=f"no answer in {seconds:g} s")

    # -- from the anchor ----------------------------------------------------------------------

    def send_audio(self, pcm: bytes) -> None:
        if self.state == PhoneState.CONNECTED and self.rtp is not None and len(pcm) == FRAME_BYTES \
                and not self.in_event and self.far_direction in ("sendrecv", "recvonly"):
            self.rtp.send_audio_pcm_auto(pcm)

    def send_dtmf(self, digits: str) -> None:
        digits = check_digits(digits)
        if self.state != PhoneState.CONNECTED or self.rtp is None:
            return
        self.digits.extend(digits)
        if self._dtmf_task is None or self._dtmf_task.done():
            connected = lambda: self.state == PhoneState.CONNECTED  # noqa: E731
            self._dtmf_task = asyncio.get_running_loop().create_task(send_digits(self, connected), name="dtmf")
            self._tasks.add(self._dtmf_task)
            self._dtmf_task.add_done_callback(self._tasks.discard)

    async def hangup(self) -> None:
        if self.state == PhoneState.ENDED:
            return
        if self.state == PhoneState.CONNECTED:
            with contextlib.suppress(Exception):
                self.trunk._uac.send_bye(self.sip_call.dialog, self.trunk.proxy_address)
            await self._end(CallResult.COMPLETED, reason="hung up by the agent")
        else:
            with contextlib.suppress(Exception):
                self.trunk._uac.send_cancel(self.sip_call)
            await self._end(CallResult.CANCELLED, reason="cancelled before the answer")

    async def ended(self) -> CallResult:
        await self._ended.wait()
        assert self.result is not None
        return self.result
