"""The trunk over TLS with SDES-SRTP to Debian's baresip as the far end (Tier 2, interoperability).

baresip (tests/helpers/baresip_peer.py) listens on TLS with a certificate
from a CA made here and takes SRTP: only SRTP (``mediaenc=srtp-mand``:
RTP/SAVP) against our ``required``, best effort (``srtp``) against our ``optional``;
it answers, plays 440 Hz and records what it decrypts and decodes. Our trunk
verifies its certificate against that CA, dials it, plays 880 Hz: each hears
the other (FFT), and our hang-up ends baresip's call. A far end that is not
libsrtp-compatible, or a TLS that is not, fails here.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from signaling.media.sip import PhoneState, TrunkConfig, open_trunk
from tests.helpers.baresip_peer import BaresipPeer, require_baresip
from tests.helpers.sip_peer import dominant_hz, until
from tests.helpers.sip_tls_peer import make_ca
from tests.integration.test_sip_trunk import Side

NUMBER = "+442079460188"  # a UK drama number (Ofcom): valid, never anyone's


def _free_pair() -> int:
    """A port whose next one is free too (baresip's TLS listens on port + 1)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                with socket.socket() as second:
                    second.bind(("127.0.0.1", port + 1))
                    return port
            except OSError:
                continue
    raise AssertionError("no two free ports in a row")


@pytest.mark.parametrize("srtp, mediaenc", [("required", "srtp-mand"), ("optional", "srtp")])
async def test_a_call_to_baresip_over_tls_with_srtp(tmp_path, srtp, mediaenc):
    require_baresip()
    pki = make_ca(tmp_path / "pki")
    certificate = tmp_path / "baresip.pem"
    certificate.write_bytes(pki.cert_file.read_bytes() + pki.key_file.read_bytes())
    async with BaresipPeer(tmp_path / "baresip", number=NUMBER, port=_free_pair(), certificate=certificate,
                           mediaenc=mediaenc) as far:
        config = TrunkConfig(uri=far.uri, caller_id="+441632960000", local_host="127.0.0.1", register_expires=0,
                             tls_ca_file=str(pki.ca_file), srtp=srtp)
        async with open_trunk(config) as trunk:
            side = Side()
            call = await trunk.dial(NUMBER, ring_timeout=5, on_event=side.on_event, on_audio=side.on_audio)
            await until(lambda: call.state in (PhoneState.CONNECTED, PhoneState.ENDED), timeout=8,
                        what="baresip to answer")
            assert call.state == PhoneState.CONNECTED, f"{side.events}\n{far.console()}"
            assert call.srtp is not None
            await far.until("Call established", timeout=3)
            await asyncio.sleep(2.0)
            heard = dominant_hz(bytes(side.heard[-8000:]))
            assert heard is not None and abs(heard - 440) < 15, f"we heard {heard} Hz; baresip said:\n{far.console()}"
            assert call.srtp.refused == 0
            await call.hangup()
            await far.until("terminated", timeout=3)
        recorded = far.recording()
        assert len(recorded) >= 8000 * 2, f"baresip recorded {len(recorded) / 16000:.2f} s only"
        heard = dominant_hz(recorded[-8000 * 2:])
        assert heard is not None and abs(heard - 880) < 15, f"baresip recorded {heard} Hz, not our 880"
