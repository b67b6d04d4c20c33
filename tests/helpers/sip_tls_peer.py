"""A SIP trunk's far end over TLS with SDES-SRTP, in-process on 127.0.0.1, and the CA it trusts.

:func:`make_ca` writes a throw-away CA and a server certificate for
127.0.0.1 (``cryptography``); :class:`TlsPeer` is :class:`~tests.helpers.sip_peer.SipPeer`
(digest auth, rings, answers, plays a tone, hears ours) listening on TLS
with aiosipua's own TCP server framing (not ours), answering an SRTP offer
with a key of its own (``srtp=False``: it refuses such an offer, 488), and
keeping the raw packets it receives (:attr:`TlsPeer.wire`). :meth:`TlsPeer.call_in`
phones our trunk down the connection it opened, offering SRTP (RTP/SAVP).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import ssl
from pathlib import Path

from aiosipua import negotiate_sdp, parse_sdp
from aiosipua.transport import TcpSipTransport
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signaling.media.sip.srtp import SrtpContext, SrtpSession, new_crypto, parse_crypto
from tests.helpers.sip_peer import SipPeer

__all__ = ["Pki", "make_ca", "TlsPeer"]


@dataclasses.dataclass
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_ca(directory: Path, name: str = "otodesk test CA") -> Pki:
    """A CA and, signed by it, a certificate for 127.0.0.1 and localhost, as PEM files in ``directory``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("sip proxy")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory / "ca.pem", directory / "proxy.pem", directory / "proxy.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return pki


class TlsServerTransport(TcpSipTransport):
    """aiosipua's TCP server transport, with TLS (``context`` None: plain TCP)."""

    def __init__(self, context: ssl.SSLContext | None):
        super().__init__(local_addr=("127.0.0.1", 0))
        self.context = context

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle_connection, "127.0.0.1", 0, ssl=self.context)

    @property
    def bound(self) -> tuple[str, int]:
        return self._server.sockets[0].getsockname()[:2]

    @property
    def connections(self) -> int:
        return len(self._connections)

    def drop(self) -> None:
        """The proxy closes every connection (a restart, a failover)."""
        for _reader, writer in list(self._connections.values()):
            writer.close()


class _Tap(SrtpSession):
    """The far end's SRTP session, keeping each packet as it came off the wire."""

    wire: list[bytes]

    def _handle_rtp(self, data: bytes, addr) -> None:
        self.wire.append(data)
        super()._handle_rtp(data, addr)


class TlsPeer(SipPeer):
    def __init__(self, pki: Pki | None, *, srtp: bool = True, **options):
        """``pki`` None: plain TCP."""
        super().__init__(transport=TlsServerTransport(pki.server_context() if pki else None), **options)
        self.tls = pki is not None
        self.srtp = srtp
        self.wire: list[bytes] = []
        self.srtp_offers: list[str] = []  # the a=crypto values of each INVITE

    @property
    def uri(self) -> str:
        return f"sips:127.0.0.1:{self.port}" if self.tls else f"sip:127.0.0.1:{self.port};transport=tcp"

    async def _answer_as_told(self, call) -> None:
        offered = call.sdp_offer.audio.attributes.get("crypto", [])
        self.srtp_offers.append(offered[0] if offered else "")
        if offered and not self.srtp and call.sdp_offer.audio.proto.upper() == "RTP/SAVP":
            call.reject(488, "Not Acceptable Here")
            self._note("refused-srtp")
            return
        await super()._answer_as_told(call)

    async def _start_media(self, call, frames):
        offer = call.sdp_offer
        offered = offer.audio.attributes.get("crypto", [])
        if not (self.srtp and offered):
            return await super()._start_media(call, frames)
        port, _ = await self._ports.allocate()
        answer, payload_type = negotiate_sdp(offer, "127.0.0.1", port)
        theirs = parse_crypto(offered[0])
        ours = new_crypto(theirs.tag, theirs.suite)
        answer.audio.attributes["crypto"] = [ours.line()]
        self.rtp = await _Tap.create(("127.0.0.1", port), offer.rtp_address, payload_type, jitter_prefetch=1)
        self.rtp.wire = self.wire
        self.rtp.srtp = SrtpContext(ours, theirs)
        self.rtp.on_audio = lambda pcm, ts: self.heard.extend(pcm)
        self.rtp.on_dtmf = lambda digit, duration: self.dtmf.append(digit)
        self.payload_type = payload_type
        self._play(frames)
        return answer, port

    async def call_in(self, number: str, *, from_number: str = "+447700900123", timeout: float = 5.0):
        """Call ``number`` on the trunk connected to us, offering SRTP; once answered, play the tone
        into the call and keep what comes back (:attr:`heard`). Returns aiosipua's OutgoingCall."""
        (addr,) = list(self.transport._connections)  # the trunk's one connection
        port, _ = await self._ports.allocate()
        ours = new_crypto()
        offer = "\r\n".join(["v=0", "o=peer 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
                              f"m=audio {port} RTP/SAVP 0 101", "a=rtpmap:0 PCMU/8000",
                              "a=rtpmap:101 telephone-event/8000", f"a=crypto:{ours.line()}", "a=sendrecv"]) + "\r\n"
        call = self.uas.uac.send_invite(f"sip:{from_number}@127.0.0.1", f"sip:{number}@127.0.0.1", addr,
                                        parse_sdp(offer))
        await call.wait_answered(timeout)
        answer = call.sdp_answer
        theirs = parse_crypto(answer.audio.attributes["crypto"][0])
        self.answer_proto = answer.audio.proto
        self.rtp = await _Tap.create(("127.0.0.1", port), answer.rtp_address, 0, jitter_prefetch=1)
        self.rtp.wire = self.wire
        self.rtp.srtp = SrtpContext(ours, theirs)
        self.rtp.on_audio = lambda pcm, ts: self.heard.extend(pcm)
        self._play(self.tone)
        return call

