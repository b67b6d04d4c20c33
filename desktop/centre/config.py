"""The contact centre's console settings as values: defaults, checks, one immutable snapshot.

Three keys are stored (``centre_settings``, one JSON value each); a key with no row keeps
the environment's value, so a deployment configured with ``OTODESK_URGENT_WORDS`` or
``OTODESK_ALLOWED_ORIGINS`` behaves the same until an admin changes it in the console:

- ``urgent_words``: ``{"en": [...], "zh-CN": [...], "zh-TW": [...]}``;
- ``widget``: ``{"accent": "#rrggbb", "position": "bottom-right" | "bottom-left",
  "greeting": {"en": "...", ...}}`` (an empty greeting: the widget's own words);
- ``origins``: the sites (``scheme://host[:port]``) whose pages may use the widget.

The ``check_*`` functions turn what an admin sent into the stored form or raise
:class:`CentreSettingError` (also a ``ValueError``) with a message naming the bad item.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from desktop.routing.priority import UrgencyMatcher

__all__ = [
    "CentreConfig", "CentreSettingError", "LANGUAGES", "POSITIONS", "DEFAULT_ACCENT", "CHINESE_URGENT_WORDS",
    "check_origins", "check_urgent_words", "check_widget",
]

#: The languages urgent words and greetings are kept in (the widget's, desktop/settings.py).
LANGUAGES = ("en", "zh-CN", "zh-TW")
POSITIONS = ("bottom-right", "bottom-left")
DEFAULT_ACCENT = "#4338ca"  # the widget's own (static/widget/shell.js, --accent)
#: Chinese urgent words until an admin sets them (those of desktop/routing/priority.py): urgent,
#: as soon as possible, at once, fraud, stolen, card used by a thief.
CHINESE_URGENT_WORDS = MappingProxyType({
    "zh-CN": ("紧急", "尽快", "马上", "立刻", "立即", "诈骗", "被盗", "盗刷"),
    "zh-TW": ("緊急", "盡快", "馬上", "立刻", "立即", "詐騙", "被盜", "盜刷"),
})
MAX_WORDS = 200          # a language's urgent words
MAX_WORD = 60            # characters of one word or phrase
MAX_GREETING = 200       # characters
MAX_ORIGINS = 100

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\Z")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\Z")


class CentreSettingError(ValueError):
    """What an admin sent can't be stored; the message says which item and why."""


@dataclasses.dataclass(frozen=True)
class CentreConfig:
    """One snapshot of the console's settings; build it with :meth:`build`, never change it."""

    urgent_words: Mapping[str, tuple[str, ...]]
    accent: str
    position: str
    greeting: Mapping[str, str]
    origins: tuple[str, ...]
    #: Matches the words of every language: a customer on an English page may write in Chinese.
    is_urgent: UrgencyMatcher = dataclasses.field(compare=False, repr=False)

    @classmethod
    def build(cls, stored: Mapping[str, Any], *, env_urgent_words: Iterable[str],
              env_origins: Iterable[str]) -> CentreConfig:
        """The settings from the stored rows (``key -> value``), the environment's for a missing key."""
        words = stored.get("urgent_words") or {"en": list(env_urgent_words), **CHINESE_URGENT_WORDS}
        words = {language: tuple(words.get(language, ())) for language in LANGUAGES}
        widget = stored.get("widget") or {}
        greeting = widget.get("greeting") or {}
        origins = stored.get("origins")
        return cls(
            urgent_words=MappingProxyType(words),
            accent=widget.get("accent") or DEFAULT_ACCENT,
            position=widget.get("position") or POSITIONS[0],
            greeting=MappingProxyType({language: greeting.get(language, "") for language in LANGUAGES}),
            origins=tuple(env_origins if origins is None else origins),
            is_urgent=UrgencyMatcher(word for words_of in words.values() for word in words_of),
        )

    def widget_json(self) -> dict[str, Any]:
        """The widget's look, as its welcome carries it and the console edits it."""
        return {"accent": self.accent, "position": self.position, "greeting": dict(self.greeting)}


def check_urgent_words(value: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Each language's words, trimmed, blank ones dropped, duplicates (by case) once, in order."""
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise CentreSettingError(f"urgent words are kept for {', '.join(LANGUAGES)}, not {', '.join(sorted(unknown))}")
    checked: dict[str, list[str]] = {}
    for language in LANGUAGES:
        words: dict[str, str] = {}
        for word in value.get(language, ()):
            word = " ".join(str(word).split())
            if len(word) > MAX_WORD:
                raise CentreSettingError(f"the urgent word {word[:20]!r}… ({language}) is longer than {MAX_WORD} characters")
            if word:
                words.setdefault(word.casefold(), word)
        if len(words) > MAX_WORDS:
            raise CentreSettingError(f"at most {MAX_WORDS} urgent words a language ({language} has {len(words)})")
        checked[language] = list(words.values())
    return checked


def check_widget(*, accent: str, position: str, greeting: Mapping[str, str]) -> dict[str, Any]:
    """The widget's look: a colour ``#rrggbb``, a corner, a greeting (≤ 200 characters) per language."""
    if not _COLOUR.match(accent):
        raise CentreSettingError(f"the colour must be written #rrggbb (six hexadecimal digits), not {accent!r}")
    if position not in POSITIONS:
        raise CentreSettingError(f"the position is {' or '.join(POSITIONS)}, not {position!r}")
    unknown = set(greeting) - set(LANGUAGES)
    if unknown:
        raise CentreSettingError(f"greetings are kept for {', '.join(LANGUAGES)}, not {', '.join(sorted(unknown))}")
    texts = {language: " ".join(greeting.get(language, "").split()) for language in LANGUAGES}
    for language, text in texts.items():
        if len(text) > MAX_GREETING:
            raise CentreSettingError(f"the {language} greeting is longer than {MAX_GREETING} characters")
    return {"accent": accent.lower(), "position": position, "greeting": texts}


def check_origins(origins: Iterable[str]) -> list[str]:
    """Sites as browsers name them in ``Origin``: ``scheme://host[:port]``, lowercase, without a
    path or the scheme's default port; blank lines are skipped, a site listed twice kept once."""
    checked: dict[str, None] = {}
    for given in origins:
        text = given.strip()
        if not text:
            continue
        checked[_origin(text)] = None
    if len(checked) > MAX_ORIGINS:
        raise CentreSettingError(f"at most {MAX_ORIGINS} sites")
    return list(checked)


def _origin(text: str) -> str:
    def bad(why: str) -> CentreSettingError:
        return CentreSettingError(f"{text!r} is not a site: {why} (write scheme://host[:port], "
                                  "e.g. https://shop.example.com)")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise bad("its port is not a number from 0 to 65535") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise bad("it must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise bad("it must not hold a user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith("?") or text.endswith("#"):
        raise bad("a site has no path, query or fragment")
    host = (parts.hostname or "").lower()
    if not host or not (_HOST.match(host) or _is_ip(host)):
        raise bad("its host name is not valid")
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port not in (None, default) else "")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
