"""Short spoken prompts for phone callers, rendered by Debian's espeak-ng and kept on disk.

No voice recordings ship with otodesk and no speech service is called: a prompt's text is
spoken by ``espeak-ng`` (a small formant synthesizer, GPL-3, ``apt-get install espeak-ng``;
``make espeak``) the first time a process needs it, turned into what the trunk sends (20 ms
frames of 8 kHz signed 16-bit mono PCM, resampled with PyAV) and written to
``<cache>/<sha256>.pcm``, so a restart reads it back and never runs the synthesizer again for
the same text. Nothing is fetched: the voices are espeak-ng's own data files.

:class:`Speech` renders; :meth:`Speech.frames` returns ``None`` when espeak-ng is absent or
fails (the caller plays a tone cue instead: :mod:`signaling.media.waiting`), logging why
once. Mandarin is spoken from tone-numbered pinyin (``cmn-latn-pinyin``): Debian's espeak-ng
1.51 has no dictionary for Chinese characters (it spells their code points), so a prompt
carries a ``spoken`` form apart from the text people read.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import tempfile
import wave
from pathlib import Path

import av
import numpy as np

from signaling.media.sip.trunk import FRAME_BYTES, SAMPLE_RATE

__all__ = ["Speech", "VOICES"]

log = logging.getLogger(__name__)

#: espeak-ng voice and words a minute for each language we speak.
VOICES = {"en": ("en-gb", 165), "zh": ("cmn-latn-pinyin", 150)}
RENDER_TIMEOUT = 10.0  # seconds one prompt may take to render (they take ~30 ms)
LOUDNESS = 0.5          # peak level of a prompt, of full scale: level with the hold music's notes
VERSION = "2"           # bump to re-render every cached prompt (a change of voice or level)


class Speech:
    """Renders and caches prompts. ``cache`` is a directory (made on first use);
    ``program`` the synthesizer (None: looked up on PATH as ``espeak-ng``)."""

    def __init__(self, cache: Path, *, program: str | None = None):
        self.cache = Path(cache)
        self.program = program if program is not None else shutil.which("espeak-ng")
        self._memory: dict[str, tuple[bytes, ...] | None] = {}
        self._warned = False

    @property
    def available(self) -> bool:
        return bool(self.program)

    async def frames(self, spoken: str, language: str) -> tuple[bytes, ...] | None:
        """``spoken`` in ``language`` ("en", or "zh": pinyin) as 20 ms PCM frames, from memory,
        the disk cache or espeak-ng; None when it can't be spoken here. Never raises."""
        voice, rate = VOICES.get(language, VOICES["en"])
        key = hashlib.sha256(f"{VERSION}|{voice}|{rate}|{spoken}".encode()).hexdigest()
        if key in self._memory:
            return self._memory[key]
        path = self.cache / f"{key}.pcm"
        frames = None
        try:
            if path.exists():
                frames = _split(path.read_bytes())
            elif self.program:
                pcm = await self._render(spoken, voice, rate)
                self.cache.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(".part")
                partial.write_bytes(pcm)
                partial.replace(path)  # never a half-written prompt read back by another process
                frames = _split(pcm)
            elif not self._warned:
                self._warned = True
                log.warning("espeak-ng is not installed: phone callers hear tone cues instead of spoken "
                            "prompts (apt-get install espeak-ng)")
        except Exception as exc:
            log.warning("prompt %r not rendered (%s): a tone cue instead", spoken[:40], exc)
        self._memory[key] = frames
        return frames

    async def _render(self, spoken: str, voice: str, rate: int) -> bytes:
        with tempfile.TemporaryDirectory(prefix="otodesk-speech-") as folder:
            out = Path(folder) / "prompt.wav"
            process = await asyncio.create_subprocess_exec(
                self.program, "-v", voice, "-s", str(rate), "-w", str(out), "--", spoken,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            try:
                async with asyncio.timeout(RENDER_TIMEOUT):
                    _, errors = await process.communicate()
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
                raise RuntimeError(f"espeak-ng took over {RENDER_TIMEOUT:g} s") from None
            if process.returncode != 0:
                raise RuntimeError(f"espeak-ng exited {process.returncode}: {errors.decode(errors='replace')[:200]}")
            return to_phone_pcm(out)


def to_phone_pcm(wav_path: Path) -> bytes:
    """A mono 16-bit WAV file as 8 kHz PCM, silence trimmed, its peak at :data:`LOUDNESS`, whole frames."""
    with wave.open(str(wav_path)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError("espeak-ng wrote something other than 16-bit mono")
        rate, samples = wav.getframerate(), np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks = [out.to_ndarray().reshape(-1) for out in [*resampler.resample(frame), *resampler.resample(None)]]
    pcm = np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)
    loud = np.flatnonzero(np.abs(pcm) > 300)  # espeak-ng pads with silence: trimmed, to answer keys promptly
    if len(loud):
        margin = SAMPLE_RATE // 20
        pcm = pcm[max(0, loud[0] - margin):loud[-1] + margin]
    peak = np.max(np.abs(pcm)) if len(pcm) else 0
    if peak:
        pcm *= LOUDNESS * 32767 / peak
    whole = -(-len(pcm) // (FRAME_BYTES // 2)) * (FRAME_BYTES // 2)
    out = np.zeros(whole, dtype=np.int16)
    out[:len(pcm)] = np.clip(pcm, -32768, 32767).astype(np.int16)
    return out.tobytes()


def _split(pcm: bytes) -> tuple[bytes, ...] | None:
    frames = tuple(pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm) - len(pcm) % FRAME_BYTES, FRAME_BYTES))
    return frames or None
