"""The SIP trunk (aiosipua + aiortp) against an in-process far end on 127.0.0.1 (Tier 1).

The far end (tests/helpers/sip_peer.py) challenges with digest auth, rings,
answers or not, plays 440 Hz; our side plays 880 Hz; each side names what it
hears by FFT. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time

import pytest

from signaling.media.errors import TrunkError
from signaling.media.sip import CallResult, PhoneState, Registration, TrunkConfig, open_trunk
from tests.helpers.sip_caller import free_udp_port
from tests.helpers.sip_peer import SipPeer, dominant_hz, tone_frames


def config(peer: SipPeer, **changes) -> TrunkConfig:
    values = dict(uri=peer.uri, username="otodesk", password="s3cret", caller_id="+441632960000",
                  local_host="127.0.0.1", register_expires=300)
    values.update(changes)
    return TrunkConfig(**values)


class Side:
    """Our end of a call: what it heard, the events it got, and an 880 Hz microphone."""

    def __init__(self):
        self.heard = bytearray()
        self.events = []
        self.changed = asyncio.Event()
        self._mic: asyncio.Task | None = None

    def on_event(self, call, event) -> None:
        self.events.append(event)
        self.changed.set()
        if event.state == PhoneState.CONNECTED and self._mic is None:  # hold and resume are CONNECTED too
            self._mic = asyncio.get_running_loop().create_task(self._talk(call))
        if event.state == PhoneState.ENDED and self._mic is not None:
            self._mic.cancel()

    def on_audio(self, pcm: bytes) -> None:
        self.heard.extend(pcm)

    async def _talk(self, call) -> None:
        frames = tone_frames(880)
        loop = asyncio.get_running_loop()
        start, i = loop.time(), 0
        while True:
            call.send_audio(frames[i % len(frames)])
            i += 1
            await asyncio.sleep(max(0.0, start + i * 0.02 - loop.time()))

    def states(self) -> list[str]:
        return [str(e.state) for e in self.events]

    async def until(self, state: PhoneState, timeout: float = 5.0):
        async def seen():
            while not any(e.state == state for e in self.events):
                self.changed.clear()
                await self.changed.wait()
            return next(e for e in self.events if e.state == state)
        return await asyncio.wait_for(seen(), timeout)

    def recent(self, seconds: float = 0.5) -> bytes:
        return bytes(self.heard[-int(seconds * 8000) * 2:])


async def hears(source, hz: float, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while dominant_hz(source.recent()) is None or abs(dominant_hz(source.recent()) - hz) > 10:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {hz} Hz, heard {dominant_hz(source.recent())}")
        await asyncio.sleep(0.05)


async def test_registers_with_digest_then_calls_and_both_hear_each_other_until_the_phone_hangs_up():
    async with SipPeer() as peer:
        async with open_trunk(config(peer)) as trunk:
            await peer.wait_for("registered")
            assert peer.log[:2] == ["register-challenged", "registered"]
            for _ in range(50):
                if trunk.registration == Registration.REGISTERED:
                    break
                await asyncio.sleep(0.02)
            assert trunk.registration == Registration.REGISTERED

            side = Side()
            call = await trunk.dial("+15550100", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
            assert call.state == PhoneState.DIALLING
            await side.until(PhoneState.CONNECTED)
            assert side.states()[:2] == ["ringing", "connected"]
            assert peer.log.count("invite-challenged") == 1 and "invite" in peer.log
            invite = peer.invites[0]
            assert "+15550100@" in invite.uri
            assert "+441632960000" in invite.headers.get_first("from")

            await hears(side, 440)   # the phone's tone reaches us
            await hears(peer, 880)   # ours reaches the phone

            began = time.monotonic()
            await peer.hangup()
            ended = await side.until(PhoneState.ENDED)
            assert time.monotonic() - began < 2.0
            assert ended.result == CallResult.COMPLETED and call.result == CallResult.COMPLETED


async def test_our_hangup_sends_bye_and_the_phone_sees_it():
    async with SipPeer() as peer, open_trunk(config(peer, register_expires=0)) as trunk:
        assert trunk.registration == Registration.STATIC
        side = Side()
        call = await trunk.dial("+15550101", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        await side.until(PhoneState.CONNECTED)
        await call.hangup()
        await peer.wait_for("bye", timeout=2)
        assert call.result == CallResult.COMPLETED
        assert await call.ended() == CallResult.COMPLETED


async def test_busy_ends_busy_and_the_486_is_acked():
    async with SipPeer(behaviour="busy") as peer, open_trunk(config(peer)) as trunk:
        side = Side()
        call = await trunk.dial("+15550102", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        ended = await side.until(PhoneState.ENDED)
        assert ended.result == CallResult.BUSY and ended.status == 486
        assert side.states() == ["ringing", "ended"]
        await asyncio.sleep(0.3)
        # The far end got its ACK: it stopped tracking the rejected INVITE.
        assert peer.uas.get_call(call.call_id) is None


async def test_no_answer_is_cancelled_at_the_ring_timeout():
    async with SipPeer(behaviour="no_answer") as peer, open_trunk(config(peer)) as trunk:
        side = Side()
        began = time.monotonic()
        call = await trunk.dial("+15550103", ring_timeout=0.8, on_event=side.on_event, on_audio=side.on_audio)
        ended = await side.until(PhoneState.ENDED, timeout=3)
        assert 0.7 < time.monotonic() - began < 2.0
        assert ended.result == CallResult.NO_ANSWER
        await peer.wait_for("cancel", timeout=2)
        assert call.result == CallResult.NO_ANSWER


async def test_early_media_reaches_us_while_ringing_then_the_answer():
    async with SipPeer(behaviour="early", ring_seconds=1.0) as peer, open_trunk(config(peer)) as trunk:
        side = Side()
        await trunk.dial("+15550104", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        ringing = await side.until(PhoneState.RINGING)
        assert ringing.early_media and ringing.status == 183
        await hears(side, 525, timeout=0.9)  # the ringback the far end plays, before any answer
        assert not any(e.state == PhoneState.CONNECTED for e in side.events)
        await side.until(PhoneState.CONNECTED)
        await hears(side, 440)
        await hears(peer, 880)


async def test_wrong_password_fails_the_registration_and_the_call():
    async with SipPeer() as peer, open_trunk(config(peer, password="wrong")) as trunk:
        for _ in range(100):
            if trunk.registration == Registration.FAILED:
                break
            await asyncio.sleep(0.02)
        assert trunk.registration == Registration.FAILED
        assert "401" in trunk.registration_error
        side = Side()
        await trunk.dial("+15550105", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        ended = await side.until(PhoneState.ENDED)
        assert ended.result == CallResult.FAILED and ended.status == 407


async def test_a_refused_registration_is_tried_again_and_then_registers():
    """Issue 13: a trunk that rejects the credentials shows ``failed`` and is tried again later (every
    register_retry s, OTODESK_SIP_REGISTER_RETRY): once the provider takes them, the trunk registers
    without a restart."""
    async with SipPeer(password="not-yet") as peer, open_trunk(config(peer, register_retry=0.3)) as trunk:
        for _ in range(100):
            if trunk.registration == Registration.FAILED:
                break
            await asyncio.sleep(0.02)
        assert trunk.registration == Registration.FAILED and "401" in trunk.registration_error
        peer.password = "s3cret"  # the provider's side fixed
        for _ in range(100):
            if trunk.registration == Registration.REGISTERED:
                break
            await asyncio.sleep(0.02)
        assert trunk.registration == Registration.REGISTERED and trunk.registration_error == ""
        assert peer.log.count("register-challenged") >= 2


async def test_refuses_what_is_not_an_e164_number():
    async with SipPeer() as peer, open_trunk(config(peer)) as trunk:
        with pytest.raises(TrunkError, match="E.164"):
            await trunk.dial("0800 123", ring_timeout=5)


def test_config_says_what_is_wrong():
    with pytest.raises(ValueError, match="sip:host"):
        TrunkConfig(uri="http://example.com")
    with pytest.raises(ValueError, match="codecs"):
        TrunkConfig(uri="sip:example.com", codecs=("G729",))
    with pytest.raises(ValueError, match="OTODESK_SIP_TRANSPORT"):
        TrunkConfig(uri="sip:example.com", transport="sctp")
    with pytest.raises(ValueError, match="needs OTODESK_SIP_TRANSPORT=tls"):
        TrunkConfig(uri="sip:example.com", srtp="required")  # SDES keys in clear: refused
    with pytest.raises(ValueError, match="OTODESK_SIP_SRTP"):
        TrunkConfig(uri="sips:example.com", srtp="maybe")
    with pytest.raises(ValueError, match="is not a file"):
        TrunkConfig(uri="sips:example.com", tls_ca_file="/nonexistent/ca.pem")
    with pytest.raises(ValueError, match="needs TLS"):
        TrunkConfig(uri="sips:example.com", transport="udp")
    assert TrunkConfig(uri="sip:pbx.example.com:5080").proxy == ("pbx.example.com", 5080)
    plain = TrunkConfig(uri="sip:pbx.example.com")
    assert (plain.transport, plain.srtp, plain.proxy[1]) == ("udp", "off", 5060)
    for uri in ("sips:pbx.example.com", "sip:pbx.example.com;transport=tls", "sip:pbx.example.com:5061"):
        secure = TrunkConfig(uri=uri)
        assert (secure.transport, secure.srtp, secure.proxy, secure.domain) == \
            ("tls", "optional", ("pbx.example.com", 5061), "pbx.example.com"), uri
    assert TrunkConfig(uri="sip:pbx.example.com;transport=tcp").transport == "tcp"
    assert TrunkConfig(uri="sip:pbx.example.com", transport="tls").proxy[1] == 5061


async def test_dtmf_digits_arrive_one_event_each_even_repeated():
    async with SipPeer() as peer, open_trunk(config(peer, register_expires=0)) as trunk:
        side = Side()
        call = await trunk.dial("+15550106", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        await side.until(PhoneState.CONNECTED)
        call.send_dtmf("12#*9")
        call.send_dtmf("9")  # the same digit again: a second event, not a retransmission
        for _ in range(100):
            if len(peer.dtmf) >= 6:
                break
            await asyncio.sleep(0.05)
        assert peer.dtmf == ["1", "2", "#", "*", "9", "9"]
        with pytest.raises(ValueError, match="DTMF"):
            call.send_dtmf("1x")
        await hears(peer, 880)  # the audio goes on after the digits


async def test_an_unreachable_trunk_fails_the_call_after_retransmitting_the_invite(monkeypatch):
    import signaling.media.sip.sipua_call as sipua_call

    monkeypatch.setattr(sipua_call, "NO_RESPONSE", 1.2)
    monkeypatch.setattr(sipua_call, "T1", 0.2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # a trunk that reads and never answers
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        cfg = TrunkConfig(uri=f"sip:127.0.0.1:{silent.getsockname()[1]}", local_host="127.0.0.1", register_expires=0)
        async with open_trunk(cfg) as trunk:
            side = Side()
            began = time.monotonic()
            await trunk.dial("+15550107", ring_timeout=30, on_event=side.on_event, on_audio=side.on_audio)
            ended = await side.until(PhoneState.ENDED, timeout=3)
            assert 1.1 < time.monotonic() - began < 2.5
            assert ended.result == CallResult.FAILED and "did not answer" in ended.reason
            invites = 0
            with contextlib.suppress(BlockingIOError):
                while True:
                    invites += silent.recv(65536).startswith(b"INVITE ")
            assert invites >= 3  # the first, then 0.2 s and 0.6 s later (Timer A)


async def test_an_unreachable_registrar_is_a_failed_registration(monkeypatch):
    import signaling.media.sip.sipua_register as sipua_register

    monkeypatch.setattr(sipua_register, "REGISTER_TIMEOUT", 0.5)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        cfg = TrunkConfig(uri=f"sip:127.0.0.1:{silent.getsockname()[1]}", local_host="127.0.0.1")
        async with open_trunk(cfg) as trunk:
            assert trunk.registration == Registration.REGISTERING
            for _ in range(50):
                if trunk.registration == Registration.FAILED:
                    break
                await asyncio.sleep(0.05)
            assert trunk.registration == Registration.FAILED
            assert trunk.registration_error == "the registrar did not answer"


@contextlib.asynccontextmanager
async def trunk_beside_a_bare_socket():
    """Our trunk with a bare UDP socket as its far end, for hand-written SIP: (the socket, the
    trunk, our SIP port). Incoming calls are ignored."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as far:
        far.bind(("127.0.0.1", 0))
        far.settimeout(3)
        far_port, our_port = far.getsockname()[1], free_udp_port()
        config = TrunkConfig(uri=f"sip:127.0.0.1:{far_port}", caller_id="+441632960000", local_host="127.0.0.1",
                             local_port=our_port, register_expires=0)
        async with open_trunk(config) as trunk:
            trunk.on_incoming = lambda call: None
            yield far, trunk, our_port


async def test_a_request_with_a_malformed_cseq_is_answered_400_and_a_good_one_still_taken(caplog):
    """An INVITE with "CSeq: one INVITE" from the proxy's address: 400 Bad Request with its headers
    echoed (RFC 3261 8.2.2) and one warning; the same INVITE with "CSeq: 1 INVITE" is then taken
    (100 Trying). Before, the first raised in aiosipua's dialog code: an error with a traceback
    in the log, and no answer at all (a caller retransmits for 32 s)."""
    caplog.set_level(logging.WARNING)
    async with trunk_beside_a_bare_socket() as (far, trunk, our_port):
        far_port = far.getsockname()[1]
        replies = []
        for n, cseq in enumerate(("one INVITE", "1 INVITE")):
            far.sendto((f"INVITE sip:+442079460500@127.0.0.1:{our_port} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP 127.0.0.1:{far_port};branch=z9hG4bK-bad-cseq-{n}\r\n"
                        "From: <sip:+447700900123@127.0.0.1>;tag=far\r\n"
                        "To: <sip:+442079460500@127.0.0.1>\r\n"
                        f"Call-ID: bad-cseq-{n}@127.0.0.1\r\nCSeq: {cseq}\r\n"
                        f"Contact: <sip:127.0.0.1:{far_port}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
                       ("127.0.0.1", our_port))
            reply = (await asyncio.to_thread(far.recv, 4000)).decode()
            replies.append(reply.split("\r\n")[0])
            if n == 0:
                assert "CSeq: one INVITE" in reply and "Call-ID: bad-cseq-0@127.0.0.1" in reply, reply
    assert replies[0].startswith("SIP/2.0 400 ") and replies[1] == "SIP/2.0 100 Trying", replies
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("malformed CSeq" in r.getMessage() for r in caplog.records)


BAD_PORT_SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio abc RTP/AVP 0\r\n")  # a port that is not a number: aiosipua's parse_sdp raises


async def test_sdp_with_a_port_that_is_not_a_number_is_refused_cleanly_both_ways(caplog):
    """An INVITE offering "m=audio abc ...": 400 Bad Request, not an error in aiosipua and no answer.
    A 200 answering our INVITE with it: ACKed (the far end would resend it for 32 s otherwise), hung
    up (BYE) and the call failed on a malformed SDP answer; warnings only, never an error."""
    caplog.set_level(logging.WARNING)
    async with trunk_beside_a_bare_socket() as (far, trunk, our_port):
        far_port = far.getsockname()[1]
        far.sendto((f"INVITE sip:+442079460500@127.0.0.1:{our_port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{far_port};branch=z9hG4bK-bad-sdp\r\n"
                    "From: <sip:+447700900123@127.0.0.1>;tag=far\r\nTo: <sip:+442079460500@127.0.0.1>\r\n"
                    "Call-ID: bad-sdp@127.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                    f"Content-Type: application/sdp\r\nContent-Length: {len(BAD_PORT_SDP)}\r\n\r\n{BAD_PORT_SDP}"
                    ).encode(), ("127.0.0.1", our_port))
        reply = (await asyncio.to_thread(far.recv, 4000)).decode()
        assert reply.startswith("SIP/2.0 400 "), reply

        side = Side()
        await trunk.dial("+15550210", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        invite, addr = await asyncio.to_thread(far.recvfrom, 5000)
        headers = dict(re.findall(r"^(Via|From|To|Call-ID|CSeq): (.*)\r$", invite.decode(), re.M))
        far.sendto((f"SIP/2.0 200 OK\r\nVia: {headers['Via']}\r\nFrom: {headers['From']}\r\n"
                    f"To: {headers['To']};tag=far\r\nCall-ID: {headers['Call-ID']}\r\nCSeq: {headers['CSeq']}\r\n"
                    f"Contact: <sip:127.0.0.1:{far_port}>\r\n"
                    f"Content-Type: application/sdp\r\nContent-Length: {len(BAD_PORT_SDP)}\r\n\r\n{BAD_PORT_SDP}"
                    ).encode(), addr)
        methods = []
        while not {"ACK", "BYE"} <= set(methods):
            methods.append((await asyncio.to_thread(far.recv, 5000)).decode().split(" ", 1)[0])
        ended = await side.until(PhoneState.ENDED)
    assert ended.result == CallResult.FAILED and "malformed SDP answer" in ended.reason, ended
    assert methods.index("ACK") < methods.index("BYE"), methods
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
