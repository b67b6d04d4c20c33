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

from signaling.media.forward import FRAME_SAMPLES, SAMPLE_RATE

__all__ = ["PacketRecorder", "mix_to_ogg", "read_audio"]

_RECORD = struct.Struct("<BIdH")  # slot, rtp timestamp, arrival (seconds since the epoch), payload length
MAX_SPACING = 2 * SAMPLE_RATE


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

    Returns the length in seconds. Blocking (CPU and disk): run it in a thread.
    """
    decoders: dict[int, av.CodecContext] = {}
    placed: dict[int, tuple[int, int]] = {}  # slot -> (last rtp timestamp, its sample offset)
    mix = array.array("i")
    first_at: float | None = None
    for slot, ts, at, payload in _read(packets_path):
        first_at = at if first_at is None else first_at
        at -= first_at
        decoder = decoders.get(slot)
        if decoder is None:
            decoder = decoders[slot] = av.CodecContext.create("libopus", "r")
            decoder.sample_rate = SAMPLE_RATE
            decoder.layout = "mono"
            decoder.format = "s16"
        last = placed.get(slot)
        spacing = (ts - last[0]) % (1 << 32) if last else 0
        if last and 0 < spacing <= MAX_SPACING:
            offset = last[1] + spacing
        else:
            offset = int(at * SAMPLE_RATE)
        placed[slot] = (ts, offset)
        try:
            frames = decoder.decode(av.Packet(payload))
        except av.error.FFmpegError:
            continue
        position = offset
        for frame in frames:
            samples = array.array("h", bytes(frame.planes[0])[:frame.samples * 2])
            end = position + len(samples)
            if len(mix) < end:
                mix.extend([0] * (end - len(mix)))
            for i, value in enumerate(samples):
                mix[position + i] += value
            position = end
    pcm = array.array("h", (32767 if v > 32767 else -32768 if v < -32768 else v for v in mix))
    _write_ogg(pcm, out_path)
    if remove:
        packets_path.unlink(missing_ok=True)
    return len(pcm) / SAMPLE_RATE


def _write_ogg(pcm: array.array, out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_suffix(".partial")
    with av.open(str(partial), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = 32000
        stream.time_base = fractions.Fraction(1, SAMPLE_RATE)
        pts = 0
        for start in range(0, len(pcm), FRAME_SAMPLES):
            chunk = pcm[start:start + FRAME_SAMPLES]
            if len(chunk) < FRAME_SAMPLES:
                chunk.extend([0] * (FRAME_SAMPLES - len(chunk)))
            frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
            frame.planes[0].update(chunk.tobytes())
            frame.sample_rate = SAMPLE_RATE
            frame.pts = pts
            frame.time_base = stream.time_base
            pts += FRAME_SAMPLES
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
