"""The language of the staff pages: which one a request gets, and the profile setting.

A staff member's pages speak their profile's language (``agents.locale``, chosen from the
desk's menu or by an admin); without one, the browser's ``Accept-Language``; else English.
The server only picks the tag: the words are the browser's message catalogues
(static/<page>/messages-<locale>.js, formatted by static/common/i18n.js), so the page's
HTML says ``<html lang>`` and the page's script fetches that one catalogue.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.staff import staff_session
from desktop.web.client import read_body

__all__ = ["DEFAULT_LOCALE", "LOCALES", "match_locale", "page_locale", "routes"]

#: What the staff pages are written in (the catalogues beside each page's script).
LOCALES = ("en", "zh-CN", "zh-TW")
DEFAULT_LOCALE = "en"
#: Chinese by region when no script is named: Traditional where it is written.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}
FORM_LIMIT = 4096


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


def page_locale(request: Request, agent=None) -> str:
    """The language of a page for ``agent`` (None: nobody signed in, as on the login page)."""
    chosen = getattr(agent, "locale", None) if agent is not None else None
    if chosen in LOCALES:
        return chosen
    return from_accept_language(request.headers.get("accept-language")) or DEFAULT_LOCALE


def _back(value: str) -> str:
    # Only a local path: never an open redirect.
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/desk"


async def set_my_locale(request: Request) -> Response:
    """The desk menu's language form: ``locale`` (one of LOCALES, or "" for the browser's),
    ``csrf_token`` (the page's), ``next`` (where to go back). 303 back to ``next``."""
    body = await read_body(request, FORM_LIMIT)
    if body is None:
        return Response("the form is too large", status_code=413)
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    session = await staff_session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if not request.app.state.signer.check_csrf(session.session_id, form.get("csrf_token", "")):
        return Response("bad CSRF token", status_code=400)
    locale = form.get("locale", "")
    if locale and locale not in LOCALES:
        return Response(f"unknown language {locale[:20]!r}; one of {', '.join(LOCALES)}", status_code=422)
    await request.app.state.repo.set_agent_locale(session.agent.id, locale or None)
    return RedirectResponse(_back(form.get("next", "/desk")), status_code=303)


routes = [Route("/profile/locale", set_my_locale, methods=["POST"])]
