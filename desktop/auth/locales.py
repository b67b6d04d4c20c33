"""A staff member's language: which one a request's pages speak.

Their profile's (``agents.locale``: the desk's language menu, desktop/web/locales.py, or an
admin), else their browser's ``Accept-Language``, else English. Kept with the sign-in checks
so that every page maker (the web layer, co-browse's window) chooses alike.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

__all__ = ["DEFAULT_LOCALE", "LOCALES", "from_accept_language", "match_locale", "page_locale"]

#: What the staff pages are written in (the catalogues beside each page's script).
LOCALES = ("en", "zh-CN", "zh-TW")
DEFAULT_LOCALE = "en"
#: Chinese by region when no script is named: Traditional where it is written.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def match_locale(tag: str | None) -> str | None:
    """The supported locale that best serves a BCP 47 ``tag`` ("zh-Hant-HK" → "zh-TW",
    "en-GB" → "en", "zh" → "zh-CN"), or None. The same choice as static/common/i18n.js."""
    if not tag:
        return None
    parts = [p.lower() for p in tag.strip().replace("_", "-").split("-") if p]
    if not parts:
        return None
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    if "hant" in parts[1:] or (not {"hans"} & set(parts[1:]) and _TRADITIONAL_REGIONS & set(parts[1:])):
        return "zh-TW"
    return "zh-CN"


def from_accept_language(header: str | None) -> str | None:
    """The best supported locale of an ``Accept-Language`` header (by q, then order), or None."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")[:30]):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and tag.strip() not in ("", "*"):
            ranked.append((-q, index, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = match_locale(tag)
        if found:
            return found
    return None


def page_locale(request: HTTPConnection, agent=None) -> str:
    """The language of a page for ``agent`` (None: nobody signed in, as on the login page)."""
    chosen = getattr(agent, "locale", None) if agent is not None else None
    if chosen in LOCALES:
        return chosen
    return from_accept_language(request.headers.get("accept-language")) or DEFAULT_LOCALE
