"""The first admin of a fresh install: a one-time link printed at first start (issue 14).

When the server starts and no account has the admin role (a fresh install, not the demo,
which seeds one), it prints a link ``/setup?token=...``: whoever holds it chooses the first
admin's username and password, once. The token is a random nonce signed with the secret key
and timed (``SETUP_LINK_MAX_AGE``); the database keeps only its SHA-256, with its expiry and
when it was used, so a link works once, and not at all once any admin exists (made with it,
with another process's link, or by ``otodesk user add --role admin``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.locales import page_locale
from desktop.repository.centre import SetupLinkRefused
from desktop.repository.errors import DuplicateUser
from desktop.web.client import read_body

__all__ = ["SETUP_LINK_MAX_AGE", "offer_first_admin_link", "routes"]

log = logging.getLogger(__name__)

SETUP_LINK_MAX_AGE = 24 * 3600.0  # seconds a printed link stays good
FORM_LIMIT = 4 * 1024  # bytes of the form
MIN_PASSWORD = 8
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}\Z")  # as the console's (desktop/web/admin.py)


def _link_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


async def offer_first_admin_link(repo, signer, settings, *, now: float | None = None) -> str | None:
    """With no admin yet, make a one-time link, print it and return it; else None."""
    if await repo.has_admin():
        return None
    now = time.time() if now is None else now
    nonce = secrets.token_urlsafe(24)
    await repo.issue_setup_link(_link_hash(nonce), expires_at=now + SETUP_LINK_MAX_AGE, now=now)
    base = settings.public_origins[0] if settings.public_origins else f"http://{settings.host}:{settings.port}"
    link = f"{base}/setup?token={signer.setup_token(nonce)}"
    if os.environ.get("OTODESK_LOG_FORMAT") == "json":
        # Every line of a JSON log is JSON (a shipper reads it): the link goes in one.
        log.warning("no admin account yet: create the first one with this link (once, within %.0f h): %s "
                    "(or run: otodesk user add --role admin <username>)", SETUP_LINK_MAX_AGE / 3600, link)
        return link
    # Printed, not only logged: the person installing reads the terminal.
    print(f"\notodesk: no admin yet. Create the first one with this link (once, within "
          f"{SETUP_LINK_MAX_AGE / 3600:.0f} h):\n  {link}\n"
          "or run: otodesk user add --role admin <username>\n", flush=True)
    log.warning("no admin account yet: a one-time set-up link was printed")
    return link


def _nonce(request: Request, token: str | None) -> str | None:
    return request.app.state.signer.read_setup(token, max_age=SETUP_LINK_MAX_AGE)


def _page(request: Request, token: str, *, status: int = 200, error: str | None = None,
          error_code: str | None = None, valid: bool = True, username: str = "", display_name: str = "") -> Response:
    return request.app.state.templates.TemplateResponse(request, "setup.html", {
        "token": token, "valid": valid, "error": error, "error_code": error_code, "username": username,
        "display_name": display_name, "locale": page_locale(request)}, status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def setup_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    nonce = _nonce(request, token)
    if nonce is None or not await request.app.state.repo.setup_link_usable(_link_hash(nonce)):
        return _page(request, "", status=410, valid=False)
    return _page(request, token)


async def setup(request: Request) -> Response:
    body = await read_body(request, FORM_LIMIT)
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)) if body is not None else {}
    token = form.get("token", "")
    nonce = _nonce(request, token)
    if nonce is None:
        return _page(request, "", status=410, valid=False)
    username = form.get("username", "").strip()
    display_name = " ".join(form.get("display_name", "").split())[:100] or username
    password = form.get("password", "")
    again = dict(username=username, display_name=display_name)
    if not USERNAME.match(username):
        return _page(request, token, status=422, error="A username is 1 to 40 lowercase letters, digits, "
                     "'.', '_' or '-'.", error_code="username", **again)
    if not MIN_PASSWORD <= len(password) <= 200:
        return _page(request, token, status=422, error="The password needs 8 to 200 characters.",
                     error_code="password", **again)
    if password != form.get("password_again"):
        return _page(request, token, status=422, error="The two passwords differ.", error_code="mismatch", **again)
    try:
        agent = await request.app.state.repo.use_setup_link(
            _link_hash(nonce), username=username, password=password, display_name=display_name)
    except SetupLinkRefused:
        return _page(request, "", status=410, valid=False)
    except DuplicateUser:
        return _page(request, token, status=409, error="That username is taken.", error_code="taken", **again)
    log.info("first admin %r created with the one-time set-up link", agent.username)
    # The sign-in page says the account is ready (a bare sign-in form read as "it failed").
    return RedirectResponse("/login?next=/admin&ready=1", status_code=303)


routes = [
    Route("/setup", setup_page, methods=["GET"]),
    Route("/setup", setup, methods=["POST"]),
]
