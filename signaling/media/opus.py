"""libopus itself, through ctypes: an encoder and a decoder at any rate and channel count.

PyAV's libopus works at 48 kHz only (FFmpeg's wrapper asks for it), so a
phone leg once resampled every 20 ms frame 8 kHz mono -> 48 kHz stereo to
encode it, and back to decode (bench/README.md, "Phone legs": the encoder
alone was a fifth of a phone call's CPU). libopus encodes and decodes at 8,
12, 16, 24 or 48 kHz, mono or stereo, directly: an 8 kHz mono packet is a
valid Opus packet any receiver decodes (the rate inside is only a band; the
RTP clock of Opus stays 48 kHz, RFC 7587), so nothing is resampled.

The library is Debian's ``libopus0`` (``make opus``; Chromium and FFmpeg
already depend on it). Errors: :class:`OpusError` for a library that can't be
found or refuses its settings; :meth:`Decoder.decode` returns ``None`` for a
damaged packet instead (a gap, as a jitter buffer would conceal it).
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["Encoder", "Decoder", "OpusError", "RATES", "APPLICATION_VOIP"]

RATES = (8000, 12000, 16000, 24000, 48000)
APPLICATION_VOIP = 2048
_SET_BITRATE = 4002
_SET_COMPLEXITY = 4010
_SET_SIGNAL = 4024
_SIGNAL_VOICE = 3001
_MAX_PACKET = 1500  # bytes: RFC 6716's ceiling for one packet is larger, but not on an RTP path
_MAX_FRAME_MS = 120  # the longest packet libopus decodes


class OpusError(RuntimeError):
    """libopus is missing, or refused a setting (its error text)."""


def _load() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("opus")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    c_void_p, c_int, c_char_p = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    pointer = ctypes.POINTER
    lib.opus_encoder_create.restype = c_void_p
    lib.opus_encoder_create.argtypes = [c_int, c_int, c_int, pointer(c_int)]
    lib.opus_encoder_destroy.argtypes = [c_void_p]
    lib.opus_encode.restype = c_int
    lib.opus_encode.argtypes = [c_void_p, c_char_p, c_int, c_void_p, c_int]
    lib.opus_decoder_create.restype = c_void_p
    lib.opus_decoder_create.argtypes = [c_int, c_int, pointer(c_int)]
    lib.opus_decoder_destroy.argtypes = [c_void_p]
    lib.opus_decode.restype = c_int
    lib.opus_decode.argtypes = [c_void_p, c_char_p, c_int, c_void_p, c_int, c_int]
    lib.opus_encoder_ctl.restype = c_int  # variadic: its one int argument is passed as c_int below
    lib.opus_strerror.restype = c_char_p
    lib.opus_strerror.argtypes = [c_int]
    return lib


_lib = _load()


def _library() -> ctypes.CDLL:
    if _lib is None:
        raise OpusError("libopus not found: install Debian's libopus0 (make opus)")
    return _lib


def _check(code: int, what: str) -> None:
    if code < 0:
        raise OpusError(f"libopus refused {what}: {_library().opus_strerror(code).decode()}")


def _check_format(rate: int, channels: int) -> None:
    if rate not in RATES or channels not in (1, 2):
        raise OpusError(f"Opus works at {', '.join(map(str, RATES))} Hz, 1 or 2 channels, not {rate} Hz, {channels}")


class Encoder:
    """s16 interleaved PCM at ``rate`` Hz in (one 2.5-60 ms frame a call), one Opus packet out."""

    def __init__(self, rate: int, channels: int, *, bit_rate: int, complexity: int,
                 application: int = APPLICATION_VOIP):
        _check_format(rate, channels)
        lib = _library()
        error = ctypes.c_int(0)
        handle = lib.opus_encoder_create(rate, channels, application, ctypes.byref(error))
        _check(error.value, "an encoder")
        self._handle = handle
        self.channels = channels
        for request, value, what in ((_SET_BITRATE, bit_rate, "the bit rate"),
                                     (_SET_COMPLEXITY, complexity, "the complexity"),
                                     (_SET_SIGNAL, _SIGNAL_VOICE, "the signal type")):
            _check(lib.opus_encoder_ctl(ctypes.c_void_p(handle), ctypes.c_int(request), ctypes.c_int(value)), what)
        self._out = ctypes.create_string_buffer(_MAX_PACKET)

    def encode(self, pcm: bytes) -> bytes:
        samples = len(pcm) // (2 * self.channels)
        size = _lib.opus_encode(self._handle, pcm, samples, self._out, _MAX_PACKET)
        _check(size, f"a frame of {samples} samples")
        return self._out.raw[:size]

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle and _lib is not None:
            _lib.opus_encoder_destroy(handle)


class Decoder:
    """Opus packets in (whatever rate and channels they were encoded at), s16 PCM at ``rate`` Hz out."""

    def __init__(self, rate: int, channels: int):
        _check_format(rate, channels)
        lib = _library()
        error = ctypes.c_int(0)
        handle = lib.opus_decoder_create(rate, channels, ctypes.byref(error))
        _check(error.value, "a decoder")
        self._handle = handle
        self.channels = channels
        self._max = rate * _MAX_FRAME_MS // 1000
        self._out = ctypes.create_string_buffer(self._max * channels * 2)

    def decode(self, payload: bytes) -> bytes | None:
        """The packet's samples (interleaved s16), or None for a damaged one."""
        if not payload:  # libopus would conceal a whole 120 ms for it
            return None
        samples = _lib.opus_decode(self._handle, payload, len(payload), self._out, self._max, 0)
        if samples < 0:
            return None
        return self._out.raw[:samples * 2 * self.channels]

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle and _lib is not None:
            _lib.opus_decoder_destroy(handle)
