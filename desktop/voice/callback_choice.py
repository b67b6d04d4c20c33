"""Press 1 to be called back: what a waiting inbound caller is offered, in words or tones.

While a caller waits (``desktop/voice/inbound.py``) they hear, after the greeting and then
every ``OTODESK_SIP_CALLBACK_OFFER`` seconds of hold music, an offer: *to hang up and be
called back without losing your place in the queue, press 1*. The words are spoken by
espeak-ng (:mod:`signaling.media.speech`), in the queue's language when it is one we have
(English, Chinese in simplified or traditional characters, spoken in Mandarin); without
espeak-ng a tone cue stands for each sound (:func:`~signaling.media.waiting.offer_cue`...).

What each sound says, here, in each language: the text people read (stored as the consent a
caller gave by pressing 1) and the form espeak-ng speaks (tone-numbered pinyin for Mandarin).
:func:`callable_number` decides whether a caller's number may be called back, with the rules
a web request for a phone callback meets (``desktop/customers/phones.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Collection, Sequence
from pathlib import Path

from desktop.customers.phones import PhoneRejected, normalize_phone
from signaling.media.speech import Speech
from signaling.media.waiting import no_cue, offer_cue, yes_cue

__all__ = ["CallbackChoice", "Sounds", "TEXTS", "language_of", "callable_number", "WITHHELD", "REFUSED"]

log = logging.getLogger(__name__)

WITHHELD, REFUSED = "withheld", "refused"  # why a caller's number can't be called back


@dataclasses.dataclass(frozen=True, slots=True)
class Said:
    text: str     # as people read it: the consent record, the desk
    spoken: str   # what espeak-ng is given
    language: str  # espeak-ng's: "en" or "zh" (pinyin)


def _en(text: str) -> Said:
    return Said(text, text, "en")


#: language -> sound -> what it says. Mandarin from pinyin: Debian's espeak-ng reads no Chinese characters.
TEXTS: dict[str, dict[str, Said]] = {
    "en": {
        "offer": _en("To hang up and be called back without losing your place in the queue, press 1."),
        "yes": _en("We'll call you back."),
        WITHHELD: _en("Your number is withheld, so we can't call you back. Please stay on the line."),
        REFUSED: _en("Sorry, we can't call this number back. Please stay on the line."),
    },
    "zh-CN": {
        "offer": Said("如需挂断电话并保留排队位置等候回电，请按1。",
                      "ru2 xu1 gua4 duan4 dian4 hua4, bing4 bao3 liu2 pai2 dui4 wei4 zhi4 deng3 hou4 hui2 dian4, "
                      "qing3 an4 yi1.", "zh"),
        "yes": Said("好的，我们会回电。", "hao3 de5, wo3 men5 hui4 hui2 dian4.", "zh"),
        WITHHELD: Said("您的号码已隐藏，我们无法回电。请继续等候。",
                       "nin2 de5 hao4 ma3 yi3 yin3 cang2, wo3 men5 wu2 fa3 hui2 dian4. qing3 ji4 xu4 deng3 hou4.",
                       "zh"),
        REFUSED: Said("抱歉，我们无法回拨这个号码。请继续等候。",
                      "bao4 qian4, wo3 men5 wu2 fa3 hui2 bo1 zhe4 ge5 hao4 ma3. qing3 ji4 xu4 deng3 hou4.", "zh"),
    },
    "zh-TW": {
        "offer": Said("如需掛斷電話並保留排隊位置等候回電，請按1。",
                      "ru2 xu1 gua4 duan4 dian4 hua4, bing4 bao3 liu2 pai2 dui4 wei4 zhi4 deng3 hou4 hui2 dian4, "
                      "qing3 an4 yi1.", "zh"),
        "yes": Said("好的，我們會回電。", "hao3 de5, wo3 men5 hui4 hui2 dian4.", "zh"),
        WITHHELD: Said("您的號碼已隱藏，我們無法回電。請繼續等候。",
                       "nin2 de5 hao4 ma3 yi3 yin3 cang2, wo3 men5 wu2 fa3 hui2 dian4. qing3 ji4 xu4 deng3 hou4.",
                       "zh"),
        REFUSED: Said("抱歉，我們無法回撥這個號碼。請繼續等候。",
                      "bao4 qian4, wo3 men5 wu2 fa3 hui2 bo1 zhe4 ge5 hao4 ma3. qing3 ji4 xu4 deng3 hou4.", "zh"),
    },
}
_CUES = {"offer": offer_cue, "yes": yes_cue, WITHHELD: no_cue, REFUSED: no_cue}


def language_of(languages: Sequence[str]) -> str:
    """The prompts' language for a queue whose agents speak ``languages`` (BCP 47, best first):
    the first we have prompts in; Chinese in traditional characters for Taiwan, Hong Kong,
    Macau or ``Hant``; English otherwise."""
    for tag in languages:
        parts = [part.lower() for part in tag.replace("_", "-").split("-")]
        if parts[0] == "en":
            return "en"
        if parts[0] == "zh":
            return "zh-TW" if {"tw", "hk", "mo", "hant"} & set(parts[1:]) else "zh-CN"
    return "en"


def callable_number(number: str | None, *, default_region: str, countries: Collection[str]) -> tuple[str | None, str]:
    """(the E.164 number to call back, "") or (None, why not: :data:`WITHHELD` or :data:`REFUSED`:
    not a valid number, a premium-rate or other refused kind, a country not called)."""
    if not number:
        return None, WITHHELD
    try:
        return normalize_phone(number, default_region=default_region, countries=countries), ""
    except PhoneRejected as exc:
        log.info("inbound caller %s can't be called back: %s", number, exc)
        return None, REFUSED


@dataclasses.dataclass(frozen=True, slots=True)
class Sounds:
    """One language's sounds as 20 ms frames, and the texts they say."""

    language: str
    offer: tuple[bytes, ...]
    yes: tuple[bytes, ...]
    withheld: tuple[bytes, ...]
    refused: tuple[bytes, ...]
    spoken: bool  # False: tone cues (no espeak-ng)

    def text(self, sound: str) -> str:
        return TEXTS[self.language][sound].text

    def refusal(self, why: str) -> tuple[bytes, ...]:
        return self.withheld if why == WITHHELD else self.refused


class CallbackChoice:
    """The sounds of each language, rendered once (espeak-ng, cached under ``cache``)."""

    def __init__(self, cache: Path, *, program: str | None = None):
        self.speech = Speech(cache, program=program)
        self._sounds: dict[str, Sounds] = {}
        #: language -> its sounds being rendered: callers who need them meanwhile share one render.
        self._rendering: dict[str, asyncio.Future[Sounds]] = {}

    def ready(self, language: str) -> Sounds | None:
        """``language``'s sounds if rendered already (None: :meth:`sounds` would wait for espeak-ng)."""
        return self._sounds.get(language if language in TEXTS else "en")

    async def sounds(self, language: str) -> Sounds:
        """``language``'s sounds (English for one we have no texts in); spoken where every one of
        them could be, else all four as tone cues (never half of each). Never raises."""
        language = language if language in TEXTS else "en"
        if language in self._sounds:
            return self._sounds[language]
        if language not in self._rendering:
            self._rendering[language] = asyncio.ensure_future(self._render(language))
        # shielded: a caller who hangs up while it renders doesn't cancel it for the others
        return await asyncio.shield(self._rendering[language])

    async def _render(self, language: str) -> Sounds:
        said = TEXTS[language]
        frames = {name: await self.speech.frames(s.spoken, s.language) for name, s in said.items()}
        spoken = all(frames.values())
        if not spoken:
            frames = {name: cue() for name, cue in _CUES.items()}
        else:  # a rising two-note cue before the words, so a key press is answered at once
            frames["yes"] = yes_cue() + frames["yes"]
        self._sounds[language] = Sounds(language=language, spoken=spoken, **frames)
        return self._sounds[language]

    async def prepare(self) -> None:
        """Render every language's sounds now (a process taking calls, as it starts)."""
        for language in TEXTS:
            await self.sounds(language)
