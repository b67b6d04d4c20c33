"""The SIP trunk over TLS with SDES-SRTP, against an in-process far end on 127.0.0.1 (Tier 1).

The far end (tests/helpers/sip_tls_peer.py) listens on TLS with a certificate
from a CA made here, challenges with digest auth, answers an SRTP offer with a
key of its own and plays 440 Hz; we play 880 Hz; each side names what it hears
by FFT. What crossed the wire is checked to be SRTP: decrypted with the key
our INVITE carried, by a libsrtp session of the test's own.
"""

from __future__ import annotations

import asyncio
import base64
import logging

import pylibsrtp
import pytest
from aiortp.codecs import get_codec

from signaling.media.sip import CallResult, PhoneState, Registration, TrunkConfig, open_trunk
from signaling.media.sip.srtp import parse_crypto
from tests.helpers.sip_peer import dominant_hz, near, until
from tests.helpers.sip_tls_peer import TlsPeer, make_ca
from tests.integration.test_sip_inbound import Answering
from tests.integration.test_sip_trunk import Side


@pytest.fixture
def pki(tmp_path):
    return make_ca(tmp_path / "pki")


def config(peer: TlsPeer, ca_file, **changes) -> TrunkConfig:
    values = dict(uri=peer.uri, username="otodesk", password="s3cret", caller_id="+441632960000",
                  local_host="127.0.0.1", register_expires=300, tls_ca_file=str(ca_file))
    values.update(changes)
    return TrunkConfig(**values)


async def test_a_call_over_tls_with_srtp_carries_tones_digits_and_hold_both_ways(pki, caplog):
    caplog.set_level(logging.DEBUG)
    async with TlsPeer(pki) as peer, open_trunk(config(peer, pki.ca_file)) as trunk:
        assert trunk.config.transport == "tls" and trunk.config.srtp == "optional"
        await until(lambda: trunk.registration == Registration.REGISTERED, what="registered over TLS")
        assert peer.log[:2] == ["register-challenged", "registered"]  # digest auth, inside TLS

        side = Side()
        call = await trunk.dial("+447700900123", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        await until(lambda: call.state == PhoneState.CONNECTED, what="the answer")
        invite = peer.invites[-1]
        assert invite.headers.get_first("via").startswith("SIP/2.0/TLS ")
        assert "transport=tls" in invite.headers.get_first("contact")
        assert "m=audio" in invite.text and " RTP/AVP " in invite.text  # optional: best effort, a key offered
        ours = parse_crypto(peer.srtp_offers[-1])
        assert call.srtp is not None

        await asyncio.sleep(1.5)
        assert near(dominant_hz(bytes(side.heard[-8000:])), [440]), "we hear the phone"
        assert near(dominant_hz(peer.recent(1.0)), [880]), "the phone hears us"

        # The wire: not plain RTP; a libsrtp session of our own, with the key our INVITE carried, reads it.
        packet = peer.wire[-1]
        assert len(packet) == 12 + 160 + 10  # PCMU and the 80-bit authentication tag
        reader = pylibsrtp.Session(pylibsrtp.Policy(key=ours.key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND))
        plain = reader.unprotect(packet)
        assert plain[:12] == packet[:12] and plain[12:] != packet[12:172]
        as_sent = b"".join(get_codec(0).decode(p[12:172]) for p in peer.wire[-50:])
        assert not near(dominant_hz(as_sent), [880]), "the payload on the wire is not our tone"

        call.send_dtmf("12#")
        await until(lambda: len(peer.dtmf) >= 3, what="the digits")
        assert peer.dtmf[:3] == ["1", "2", "#"]

        answer = await peer.reinvite("sendonly")  # hold: re-INVITE with its key again
        assert answer.status_code == 200 and "a=crypto:" in answer.text and "a=recvonly" in answer.text
        await until(lambda: side.events[-1].held, what="held")
        answer = await peer.reinvite("sendrecv")
        assert answer.status_code == 200
        await until(lambda: not side.events[-1].held, what="resumed")
        peer.heard.clear()
        await until(lambda: len(peer.heard) >= 8000 * 2, what="a second of our audio after the hold")
        assert near(dominant_hz(peer.recent(0.8)), [880]), "audio flows again after the hold"

        await peer.hangup()  # BYE from the phone
        assert await asyncio.wait_for(call.ended(), 5) == CallResult.COMPLETED

        second = await trunk.dial("+447700900123", ring_timeout=5)
        await until(lambda: second.state == PhoneState.CONNECTED, what="the second answer")
        await second.hangup()  # BYE from us
        await peer.wait_for("bye")
        assert call.srtp.refused == 0
    keys = [base64.b64encode(c.key).decode() for c in (ours, call.srtp.theirs, call.crypto)]
    assert caplog.text and not any(key in caplog.text for key in keys), "an SRTP key was logged"


async def test_a_proxy_certificate_from_another_ca_is_refused_with_a_clear_state(pki, tmp_path, monkeypatch):
    import signaling.media.sip.sipua_call as sipua_call

    monkeypatch.setattr(sipua_call, "NO_RESPONSE", 1.0)
    other = make_ca(tmp_path / "other", name="someone else's CA")
    async with TlsPeer(pki) as peer, open_trunk(config(peer, other.ca_file)) as trunk:
        assert trunk.registration == Registration.FAILED
        assert "certificate is refused" in trunk.registration_error, trunk.registration_error
        assert "registered" not in peer.log
        side = Side()
        call = await trunk.dial("+447700900123", ring_timeout=5, on_event=side.on_event)
        assert await asyncio.wait_for(call.ended(), 5) == CallResult.FAILED
        assert "certificate is refused" in side.events[-1].reason, side.events[-1].reason
        assert peer.invites == []  # nothing went to an untrusted proxy


async def test_no_verification_is_a_lab_setting_said_loudly(pki, caplog):
    caplog.set_level(logging.WARNING)
    async with TlsPeer(pki) as peer, open_trunk(config(peer, "", tls_insecure_no_verify=True)) as trunk:
        await until(lambda: trunk.registration == Registration.REGISTERED, what="registered unverified")
    assert "WITHOUT CERTIFICATE VERIFICATION" in caplog.text


async def test_the_proxy_dropping_the_connection_is_followed_by_a_new_registration(pki):
    async with TlsPeer(pki) as peer, open_trunk(config(peer, pki.ca_file)) as trunk:
        await until(lambda: trunk.registration == Registration.REGISTERED, what="registered")
        seen = []
        trunk.on_registration = seen.append
        registered = peer.log.count("registered")
        peer.transport.drop()
        await until(lambda: Registration.REGISTERING in seen, what="registering again")
        assert "closed the connection" in trunk.registration_error
        await until(lambda: trunk.registration == Registration.REGISTERED and peer.log.count("registered") > registered,
                    timeout=5, what="registered on a new connection")
        assert peer.transport.connections == 1


async def test_a_far_end_refusing_required_srtp_fails_the_call_saying_so(pki):
    async with TlsPeer(pki, srtp=False) as peer, \
            open_trunk(config(peer, pki.ca_file, srtp="required", register_expires=0)) as trunk:
        side = Side()
        call = await trunk.dial("+447700900123", ring_timeout=5, on_event=side.on_event)
        assert await asyncio.wait_for(call.ended(), 5) == CallResult.FAILED
        assert "refused SRTP" in side.events[-1].reason and "488" in side.events[-1].reason
        assert " RTP/SAVP " in peer.invites[-1].text


async def test_srtp_optional_falls_back_to_plain_rtp_when_the_far_end_has_none(pki):
    async with TlsPeer(pki, srtp=False) as peer, open_trunk(config(peer, pki.ca_file, register_expires=0)) as trunk:
        side = Side()
        call = await trunk.dial("+447700900123", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        await until(lambda: call.state == PhoneState.CONNECTED, what="the answer")
        assert call.srtp is None
        await asyncio.sleep(1.0)
        assert near(dominant_hz(bytes(side.heard[-4000:])), [440])
        await call.hangup()


async def test_a_call_into_the_trunk_comes_down_its_connection_with_srtp(pki):
    answering = Answering()
    async with TlsPeer(pki, tone_hz=440) as peer, open_trunk(config(peer, pki.ca_file)) as trunk:
        trunk.on_incoming = answering
        await until(lambda: trunk.registration == Registration.REGISTERED, what="registered")
        far = await peer.call_in("+442079460500")
        assert peer.answer_proto.upper() == "RTP/SAVP"  # answered as offered, with a key of ours
        (call,) = answering.calls
        assert call.srtp is not None and call.called == "+442079460500"
        await asyncio.sleep(1.5)
        assert near(dominant_hz(bytes(answering.heard[-8000:])), [440]), "we hear the caller"
        assert near(dominant_hz(peer.recent(1.0)), [660]), "the caller hears us"
        far.hangup(peer.uas.uac)
        assert await asyncio.wait_for(call.ended(), 5) == CallResult.COMPLETED


async def test_plain_tcp_registers_and_calls_without_srtp():
    async with TlsPeer(None) as peer, open_trunk(config(peer, "")) as trunk:
        assert (trunk.config.transport, trunk.config.srtp) == ("tcp", "off")
        await until(lambda: trunk.registration == Registration.REGISTERED, what="registered over TCP")
        side = Side()
        call = await trunk.dial("+447700900123", ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
        await until(lambda: call.state == PhoneState.CONNECTED, what="the answer")
        assert peer.invites[-1].headers.get_first("via").startswith("SIP/2.0/TCP ")
        assert "a=crypto" not in peer.invites[-1].text and call.srtp is None
        await asyncio.sleep(1.0)
        assert near(dominant_hz(bytes(side.heard[-4000:])), [440]) and near(dominant_hz(peer.recent(0.5)), [880])
        await call.hangup()
        await peer.wait_for("bye")

