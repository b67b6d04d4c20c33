"""Recording without re-encoding during the call; one mixed file after it.

During the call :class:`PacketRecorder` appends each voice's encoded Opus
packets, as they are forwarded, to ``<name>.packets`` (slot, RTP timestamp,
arrival time, payload): no decoding on the real-time path. Arrival times are
wall-clock seconds and the file is appended to, so a call re-anchored on
another process sharing ``var/`` (its first anchor died) continues the same
log, and the mix places each part at its time. When the call
ends, :func:`mix_to_ogg` (run it in a thread) decodes the two voices once,
places them on one timeline and writes a single Ogg Opus file, which every
current browser plays, then the packet log is removed.
"""

from __future__ import annotations

import array
import fractions
import struct
import time
from pathlib import Path

import av
import numpy as np

from signaling.media.forward import FRAME_SAMPLES, SAMPLE_RATE
from signaling.media.opus import Decoder

__all__ = ["PacketRecorder", "mix_to_ogg", "read_audio"]

_RECORD = struct.Struct("<BIdH")  # slot, rtp timestamp, arrival (seconds since the epoch), payload length
MAX_SPACING = 2 * SAMPLE_RATE
COMPLEXITY = 5  # libopus 0-10 for the mixed file


class PacketRecorder:
    """Appends encoded packets to ``path``; ``write`` is called on the event loop and never blocks long."""

    def __init__(self, path: Path, *, clock=time.time):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._clock = clock
        self.packets = 0

    def write(self, slot: int, payload: bytes, rtp_timestamp: int) -> None:
        if self._file.closed:
            return
        self._file.write(_RECORD.pack(slot, rtp_timestamp, self._clock(), len(payload)))
        self._file.write(payload)
        self.packets += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def _read(path: Path):
    data = path.read_bytes()
    offset = 0
    while offset + _RECORD.size <= len(data):
        slot, ts, at, size = _RECORD.unpack_from(data, offset)
        offset += _RECORD.size
        yield slot, ts, at, data[offset:offset + size]
        offset += size


def mix_to_ogg(packets_path: Path, out_path: Path, *, remove: bool = True) -> float:
    """Decode every voice in ``packets_path``, mix them, write Ogg Opus to ``out_path``.

    Returns the length in seconds. Blocking (CPU and disk): run it in a thread. The mix is
    summed in numpy, each packet's samples at once (a Python loop over samples once cost more
    than the call's whole transcoding, and held the GIL from the event loop meanwhile).
    """
    decoders: dict[int, Decoder] = {}
    placed: dict[int, tuple[int, int]] = {}  # slot -> (last rtp timestamp, its sample offset)
    parts: list[tuple[int, np.ndarray]] = []
    first_at: float | None = None
    for slot, ts, at, payload in _read(packets_path):
        first_at = at if first_at is None else first_at
        at -= first_at
        decoder = decoders.get(slot)
        if decoder is None:
            decoder = decoders[slot] = Decoder(SAMPLE_RATE, 1)
        last = placed.get(slot)
        spacing = (ts - last[0]) % (1 << 32) if last else 0
        if last and 0 < spacing <= MAX_SPACING:
            offset = last[1] + spacing
        else:
            offset = int(at * SAMPLE_RATE)
        placed[slot] = (ts, offset)
        pcm = decoder.decode(payload)
        if pcm:
            parts.append((offset, np.frombuffer(pcm, dtype=np.int16)))
    length = max((offset + len(samples) for offset, samples in parts), default=0)
    mix = np.zeros(length, dtype=np.int32)
    for offset, samples in parts:
        mix[offset:offset + len(samples)] += samples
    pcm = np.clip(mix, -32768, 32767).astype(np.int16)
    _write_ogg(pcm, out_path)
    if remove:
        packets_path.unlink(missing_ok=True)
    return len(pcm) / SAMPLE_RATE


def _write_ogg(pcm: np.ndarray, out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_suffix(".partial")
    padded = np.zeros(-(-len(pcm) // FRAME_SAMPLES) * FRAME_SAMPLES, dtype=np.int16)
    padded[:len(pcm)] = pcm
    with av.open(str(partial), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = 32000
        stream.time_base = fractions.Fraction(1, SAMPLE_RATE)
        # libopus's default (10) was most of the file's CPU; a voice recording hears no difference.
        stream.codec_context.options = {"compression_level": str(COMPLEXITY)}
        for pts in range(0, len(padded), FRAME_SAMPLES):
            frame = av.AudioFrame.from_ndarray(padded[None, pts:pts + FRAME_SAMPLES], format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = pts
            frame.time_base = stream.time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    partial.replace(out_path)  # never a half-written file under the final name


def read_audio(path: Path) -> array.array:
    """A recording's samples, mono s16 at 48 kHz (for tests and tools)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    samples = array.array("h")
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                samples.extend(array.array("h", bytes(out.planes[0])[:out.samples * 2]))
    return samples
