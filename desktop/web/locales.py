"""The staff pages' language menu (``POST /profile/locale``): the member's own choice.

Which language a page speaks is desktop/auth/locales.py's (the profile's, else the browser's
Accept-Language, else English). The server only picks the tag: the words are the browser's
message catalogues (static/<page>/messages-<locale>.js, formatted by static/common/i18n.js),
so the page's HTML says ``<html lang>`` and the page's script fetches that one catalogue.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.locales import LOCALES
from desktop.auth.staff import staff_session
from desktop.web.client import read_body

__all__ = ["routes", "set_my_locale"]

FORM_LIMIT = 4096


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
