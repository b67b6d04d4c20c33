"""SIP over a stream (signaling/media/sip/transport.py): Content-Length framing, Via and Contact stamped."""

from __future__ import annotations

import asyncio

import pytest
from aiosipua import SipMessage

from signaling.media.sip.transport import MAX_HEADER, FramingError, read_message, stamp

OPTIONS = (b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK1\r\n"
           b"Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello")


def _reader(*chunks: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    return reader


async def test_messages_are_cut_by_content_length_and_keepalives_skipped():
    compact = OPTIONS.replace(b"Content-Length: 5", b"l:0").replace(b"hello", b"")
    reader = _reader(b"\r\n\r\n", OPTIONS[:30], OPTIONS[30:] + b"\r\n" + compact)
    assert await read_message(reader) == OPTIONS
    assert await read_message(reader) == compact
    assert await read_message(reader) is None


@pytest.mark.parametrize("data, why", [
    (OPTIONS.replace(b"Content-Length: 5\r\n", b""), "without Content-Length"),
    (OPTIONS.replace(b"Content-Length: 5", b"Content-Length: 99999999"), "body of"),
    (b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: " + b"y" * MAX_HEADER + b"\r\n\r\n", "header block"),
])
async def test_a_stream_we_cannot_frame_is_refused(data, why):
    with pytest.raises(FramingError, match=why):
        await read_message(_reader(data))


def test_our_via_and_contacts_name_the_transport():
    request = SipMessage.parse(b"INVITE sip:+1@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:40000;branch=z9hG4bK1;rport\r\n"
                               b"Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK0\r\nContact: <sip:10.0.0.1:40000>\r\n"
                               b"Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    stamp(request, "TLS")
    stamp(request, "TLS")  # a retransmission: unchanged
    assert request.headers.get("via") == ["SIP/2.0/TLS 10.0.0.1:40000;branch=z9hG4bK1;rport",
                                          "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK0"]
    assert request.headers.get("contact") == ["<sip:10.0.0.1:40000;transport=tls>"]
    response = SipMessage.parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK0\r\n"
                                b"Contact: <sip:10.0.0.1:40000>;expires=300\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
                                b"Content-Length: 0\r\n\r\n")
    stamp(response, "TCP")
    assert response.headers.get("via") == ["SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK0"]  # the sender's, untouched
    assert response.headers.get("contact") == ["<sip:10.0.0.1:40000;transport=tcp>;expires=300"]
