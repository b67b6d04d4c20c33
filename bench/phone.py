"""Phone legs: the CPU and the delay of transcoding at the phone boundary, per call.

    .venv/bin/python -m bench.phone [--calls 40] [--seconds 5]

What a phone call costs the anchor beyond a browser call is the boundary
(signaling/media/phone.py): every 20 ms, the Opus routed to the phone decoded
and resampled to 8 kHz, G.711-encoded for the trunk, and the phone's G.711
decoded, resampled to 48 kHz and Opus-encoded once. This bench runs exactly
that work (``OpusToPcm``, aiortp's PCMU codec, ``PcmToOpus``) for ``--calls``
calls over ``--seconds`` of audio, as fast as it goes in one process, and
reports CPU seconds per call-second (so calls per core at 100 %), and the delay
the boundary adds by construction, measured by sending a click through each
direction and finding it in the output (resampler filters, the 20 ms frame
assembly, the Opus encoder's look-ahead). It does not include SIP, RTP
sockets, the mixer's 20 ms clock (up to 20 ms more towards the phone) nor
aiortc: the full bench against sipp load is still to write (docs/voice.md).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from aiortp import get_codec

from signaling.media.tones import encode_tone
from signaling.media.transcode import OpusToPcm, PcmToOpus
from tests.helpers.sip_peer import tone_frames


def cpu_per_call_second(calls: int, seconds: float) -> float:
    opus_in = encode_tone(880, seconds=1.0)
    pcm_in = tone_frames(440)
    pcmu = get_codec(0)
    legs = [(OpusToPcm(), PcmToOpus()) for _ in range(calls)]
    frames = int(seconds * 50)
    started = time.process_time()
    for i in range(frames):
        for to_phone, from_phone in legs:
            for pcm in to_phone.decode(opus_in[i % len(opus_in)]):
                pcmu.encode(pcm)                               # towards the trunk
            from_phone.encode(pcmu.decode(pcmu.encode(pcm_in[i % len(pcm_in)])))  # from the trunk
    return (time.process_time() - started) / (calls * seconds)


def click_delay_ms() -> dict[str, float]:
    """Where a click comes out of each direction, against where it went in."""
    to_phone, from_phone = OpusToPcm(), PcmToOpus()
    # Phone -> browser: a click in 8 kHz PCM, found in the Opus decoded again at 48 kHz.
    pcm = np.zeros(8000, dtype=np.int16)
    pcm[4000] = 20000
    packets = [p for i in range(50) for p in from_phone.encode(pcm[i * 160:(i + 1) * 160].tobytes())]
    decoder = OpusToPcm()
    out = np.frombuffer(b"".join(f for p in packets for f in decoder.decode(p)), dtype=np.int16)
    # Both ends at 8 kHz here; the round trip through OpusToPcm is subtracted below.
    phone_to_browser = (int(np.argmax(np.abs(out))) - 4000) / 8
    # Browser -> phone: a click in Opus (encoded here, at 48 kHz), found in the 8 kHz PCM.
    import av
    import fractions
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, 48000)
    wave = np.zeros(48000, dtype=np.int16)
    wave[24000] = 20000
    opus = []
    for i in range(50):
        frame = av.AudioFrame.from_ndarray(np.repeat(wave[i * 960:(i + 1) * 960], 2).reshape(1, -1),
                                           format="s16", layout="stereo")
        frame.sample_rate = 48000
        opus += [bytes(p) for p in encoder.encode(frame)]
    out = np.frombuffer(b"".join(f for p in opus for f in to_phone.decode(p)), dtype=np.int16)
    browser_to_phone = (int(np.argmax(np.abs(out))) - 4000) / 8
    return {"phone_to_browser_incl_decode_ms": round(phone_to_browser, 1),
            "browser_to_phone_incl_encode_ms": round(browser_to_phone, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    per = cpu_per_call_second(args.calls, args.seconds)
    delays = click_delay_ms()
    print(f"transcoding at the phone boundary: {per * 1000:.2f} ms CPU per call-second "
          f"-> {1 / per:.0f} calls per core (transcoding only)")
    print(f"delay by construction: {delays}")
    print(json.dumps({"bench": "phone", "calls": args.calls, "seconds": args.seconds,
                      "cpu_ms_per_call_second": round(per * 1000, 2), "calls_per_core": round(1 / per),
                      **delays}))


if __name__ == "__main__":
    main()
