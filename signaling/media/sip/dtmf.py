"""Keys pressed by the agent, sent to the phone as RFC 4733 telephone-events, paced.

aiortp 0.8 sends a digit's packets in one burst, every digit at RTP timestamp
0 (a receiver takes a second digit for the first one's retransmission): here
each digit is one event starting at the call's current audio timestamp, a
packet every 20 ms for :data:`STEPS` packets, its end sent three times
(RFC 4733 §2.5.1.4), :data:`GAP` seconds of audio between two digits. Audio
is paused meanwhile (``call.in_event``). The packets go through the session's
sender, so on an SRTP call they are encrypted as the audio is.
"""

from __future__ import annotations

import asyncio

from aiortp import DtmfEvent
from aiortp.dtmf import DTMF_EVENTS

__all__ = ["DTMF_EVENTS", "STEPS", "GAP", "check_digits", "send_digits"]

STEPS = 8    # 20 ms packets per digit: 160 ms of tone
GAP = 0.08   # seconds of audio between two digits


def check_digits(digits: str) -> str:
    """``digits`` upper-cased; ValueError for anything but 0-9, *, #, A-D."""
    bad = [d for d in digits if d.upper() not in DTMF_EVENTS]
    if bad or not digits:
        raise ValueError(f"not DTMF digits: {''.join(bad)!r} (0-9, *, #, A-D)")
    return digits.upper()


async def send_digits(call, connected) -> None:
    """Send ``call``'s queued digits (``call.digits``) while ``connected()`` holds."""
    while call.digits and connected() and call.rtp is not None:
        await _send_event(call, DTMF_EVENTS[call.digits.popleft()])
        await asyncio.sleep(GAP)


async def _send_event(call, code: int) -> None:
    rtp = call.rtp
    sender, payload_type = rtp._sender, rtp._dtmf_payload_type  # aiortp paces nothing itself
    timestamp = sender.current_timestamp  # the event starts now on the audio clock
    call.in_event = True
    try:
        for step in range(1, STEPS):
            event = DtmfEvent(event=code, end=False, volume=10, duration=step * 160)
            sender.send_raw(payload_type, event.serialize(), timestamp, marker=int(step == 1), addr=rtp._remote_addr)
            sender.advance_timestamp()
            await asyncio.sleep(0.02)
        for _ in range(3):
            event = DtmfEvent(event=code, end=True, volume=10, duration=STEPS * 160)
            sender.send_raw(payload_type, event.serialize(), timestamp, addr=rtp._remote_addr)
        sender.advance_timestamp()
    finally:
        call.in_event = False
