"""Press 1 to be called back: what a waiting caller hears and when, whose number may be called
back, the prompts' languages, the sounds (espeak-ng or tone cues), the caller's number in SIP."""

from __future__ import annotations

import asyncio
import shutil
import wave

import numpy as np
import pytest
from aiosipua import SipMessage

from desktop.voice.callback_choice import REFUSED, TEXTS, WITHHELD, CallbackChoice, callable_number, language_of
from signaling.media.sip.sipua_inbound import caller_of
from signaling.media.sip.trunk import FRAME_BYTES
from signaling.media.speech import LOUDNESS, to_phone_pcm
from signaling.media.waiting import NO_HZ, OFFER_HZ, YES_HZ, WaitingAudio, greeting, hold_music, no_cue, offer_cue, yes_cue
from tests.helpers.sip_peer import dominant_hz

PROMPT = tuple(bytes([i]) * FRAME_BYTES for i in range(1, 6))  # five frames, each its own


def take(audio: WaitingAudio, n: int) -> list[bytes]:
    return [next(audio) for _ in range(n)]


def test_the_offer_follows_the_greeting_and_comes_back_after_every_so_much_music():
    audio = WaitingAudio(PROMPT, every=1.0)  # 50 frames of music between two offers
    chime = greeting()
    assert take(audio, len(chime)) == list(chime) and not audio.prompted
    assert take(audio, len(PROMPT)) == list(PROMPT) and audio.prompted
    music = take(audio, 50)
    assert music == list(hold_music()[:50])
    assert take(audio, len(PROMPT)) == list(PROMPT)  # again
    assert audio.prompted_at == len(chime) + 1


def test_an_interjection_plays_at_once_then_the_music_goes_on_and_offers_can_stop():
    audio = WaitingAudio(PROMPT, every=0.2)
    take(audio, len(greeting()) + 2)
    audio.interject((b"\x09" * FRAME_BYTES,))
    audio.stop_offering()
    assert next(audio) == b"\x09" * FRAME_BYTES
    assert set(take(audio, 100)) <= set(hold_music())  # no offer any more
    silent = WaitingAudio(None)
    take(silent, 1000)
    assert not silent.prompted


def test_the_cues_are_notes_of_their_own():
    def hz(frames, start: float) -> float:
        first = int(start / 0.02)
        return dominant_hz(b"".join(frames[first:first + 8]))
    assert abs(hz(offer_cue(), 0.02) - OFFER_HZ[0]) < 15 and abs(hz(offer_cue(), 0.26) - OFFER_HZ[1]) < 15
    assert abs(hz(yes_cue(), 0.02) - YES_HZ[0]) < 15 and abs(hz(yes_cue(), 0.26) - YES_HZ[1]) < 15
    assert abs(hz(no_cue(), 0.06) - NO_HZ[0]) < 15
    assert len(yes_cue()) * 0.02 < 0.6  # a key press is answered at once


def test_whose_numbers_may_be_called_back():
    rules = {"default_region": "GB", "countries": ("GB",)}
    assert callable_number("+442079460481", **rules) == ("+442079460481", "")
    assert callable_number(None, **rules) == (None, WITHHELD)
    assert callable_number("+447700900481", **rules) == (None, REFUSED)  # a drama number: not a real one
    assert callable_number("+449098790000", **rules) == (None, REFUSED)  # premium rate
    assert callable_number("+33142685300", **rules) == (None, REFUSED)   # a country we don't call
    assert callable_number("+33142685300", default_region="GB", countries=("*",))[0] == "+33142685300"


def test_the_prompts_language_is_the_queues_when_we_have_it():
    assert language_of(()) == "en" and language_of(("fr", "de")) == "en"
    assert language_of(("zh-CN",)) == language_of(("zh",)) == language_of(("zh-Hans-CN",)) == "zh-CN"
    assert language_of(("zh-TW",)) == language_of(("zh-Hant",)) == language_of(("zh_HK",)) == "zh-TW"
    assert language_of(("fr", "zh-CN", "en")) == "zh-CN"
    assert set(TEXTS) == {"en", "zh-CN", "zh-TW"}
    assert all(set(sounds) == {"offer", "yes", WITHHELD, REFUSED} for sounds in TEXTS.values())


async def test_without_espeak_ng_every_sound_is_a_tone_cue(tmp_path):
    choice = CallbackChoice(tmp_path, program="")
    sounds = await choice.sounds("zh-CN")
    assert not sounds.spoken and sounds.offer == offer_cue() and sounds.yes == yes_cue()
    assert sounds.refusal(WITHHELD) == sounds.refusal(REFUSED) == no_cue()
    assert sounds.text("offer") == TEXTS["zh-CN"]["offer"].text  # the consent is still the words
    assert (await choice.sounds("fr")).language == "en"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (make espeak)")
async def test_espeak_ng_speaks_the_prompts_once_and_a_restart_reads_them_from_disk(tmp_path):
    choice = CallbackChoice(tmp_path)
    english, mandarin = await choice.sounds("en"), await choice.sounds("zh-TW")
    assert english.spoken and mandarin.spoken
    assert 2.0 < len(english.offer) * 0.02 < 8.0 and 0.5 < len(english.yes) * 0.02 < 2.5
    assert english.yes[:len(yes_cue())] == yes_cue()  # the key is answered by the cue, then words
    cached = sorted(tmp_path.glob("*.pcm"))
    assert len(cached) == 8  # four English, four Mandarin (zh-TW: rendered from pinyin)
    again = CallbackChoice(tmp_path, program="/nonexistent/espeak-ng")  # never run: read from disk
    assert (await again.sounds("en")).offer == english.offer


def test_an_offer_whose_words_come_late_plays_after_the_greeting_then_every_so_much_music():
    audio = WaitingAudio(None, every=1.0)  # answered before the prompts were rendered
    chime = greeting()
    take(audio, len(chime) + 10)  # the greeting, then music: nothing offered
    assert not audio.prompted
    audio.offer(PROMPT)
    assert take(audio, len(PROMPT)) == list(PROMPT) and audio.prompted
    assert PROMPT[0] not in take(audio, 50) and take(audio, 1) == [PROMPT[0]]  # again after 50 of music


async def test_callers_who_need_a_language_while_it_renders_share_one_render(tmp_path):
    runs = tmp_path / "runs"
    program = tmp_path / "espeak-ng"
    program.write_text(f"#!/bin/sh\necho run >> {runs}\nsleep 0.2\nexit 1\n")  # fails: tone cues
    program.chmod(0o755)
    choice = CallbackChoice(tmp_path / "cache", program=str(program))
    assert choice.ready("en") is None
    first, second = await asyncio.gather(choice.sounds("en"), choice.sounds("en"))
    assert first is second and choice.ready("en") is first
    assert len(runs.read_text().split()) == 4  # each of the four sounds tried once, not twice


def test_a_wav_becomes_8_khz_frames_trimmed_and_levelled(tmp_path):
    path = tmp_path / "tone.wav"
    t = np.arange(22050) / 22050
    samples = np.concatenate([np.zeros(11025), 8000 * np.sin(2 * np.pi * 440 * t), np.zeros(11025)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(samples.astype(np.int16).tobytes())
    pcm = to_phone_pcm(path)
    assert len(pcm) % FRAME_BYTES == 0
    assert 1.0 <= len(pcm) / 2 / 8000 <= 1.2  # the half seconds of silence either side trimmed
    level = np.abs(np.frombuffer(pcm, dtype=np.int16)).max()
    assert abs(level - LOUDNESS * 32767) < 400
    assert abs(dominant_hz(pcm) - 440) < 10


def _invite(**headers: str):
    lines = ["INVITE sip:+442079460500@127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1",
             "Call-ID: x", "CSeq: 1 INVITE", "To: <sip:+442079460500@127.0.0.1>"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return SipMessage.parse(("\r\n".join(lines) + "\r\n\r\n").encode()).headers


def test_the_callers_number_is_the_asserted_identity_unless_withheld():
    assert caller_of(_invite(From="<sip:+442079460481@p>;tag=1")) == "+442079460481"
    assert caller_of(_invite(From="<sip:anonymous@anonymous.invalid>;tag=1",
                             P_Asserted_Identity="<sip:+442079460482@p>")) == "+442079460482"
    assert caller_of(_invite(From="<sip:+442079460481@p>;tag=1", P_Asserted_Identity="<sip:+442079460482@p>",
                             Privacy="id")) == "anonymous"
