"""What the sign-in's steps share (the password in desktop/web/pages.py, the second factor in
desktop/web/second_step.py): the form's CSRF cookie, a safe ``next``, the sign-in page with an
error, and the answer that finally opens a session."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from desktop.auth.agents import takes_calls
from desktop.auth.locales import page_locale
from desktop.auth.staff import sign_in
from desktop.auth.tokens import SESSION_COOKIE
from desktop.web.client import read_body

__all__ = ["FORM_LIMIT", "LOGIN_CSRF_COOKIE", "SECOND_STEP_COOKIE", "landing", "login_page_response",
           "read_form", "safe_next", "set_cookie", "signed_in", "sso_name"]

LOGIN_CSRF_COOKIE = "otodesk_login_csrf"
#: The password was right, the second factor is still to come (desktop/auth/tokens.py).
SECOND_STEP_COOKIE = "otodesk_second_step"
FORM_LIMIT = 16 * 1024  # bytes of a sign-in or sign-out form


def safe_next(value: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/desk"
    return value


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int, *,
               path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=path)


async def read_form(request: Request) -> dict[str, str] | None:
    """The posted (urlencoded) form, or None past FORM_LIMIT bytes, counted as read: anyone
    may post to /login, and Starlette would read any size."""
    body = await read_body(request, FORM_LIMIT)
    return None if body is None else dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def sso_name(request: Request) -> str | None:
    """The label of the "Sign in with ..." button, when single sign-on is configured."""
    return request.app.state.settings.oidc_name if request.app.state.sso is not None else None


def login_page_response(request: Request, *, next_url: str, template: str = "login.html", error: str | None = None,
                        code: str | None = None, values: dict | None = None, status: int = 200,
                        headers: dict[str, str] | None = None, extra: dict | None = None, agent=None) -> Response:
    """A sign-in page (``template``) with a fresh form token; ``error`` (English) and its ``code``
    (the page's catalogue has ``login.error.<code>`` in every language, ``values`` its placeholders)."""
    token = secrets.token_urlsafe(16)
    response = request.app.state.templates.TemplateResponse(
        request, template, {"error": error, "error_code": code, "error_values": values, "next": next_url,
                            "csrf_token": token, "sso_name": sso_name(request), "locale": page_locale(request, agent),
                            **(extra or {})},
        status_code=status, headers=headers)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


def landing(agent, next_url: str) -> str:
    """Where a member goes once signed in: ``next_url``, except that the desk's default sends a
    planner to the planner and someone who takes no calls to the wall."""
    if next_url == "/desk" and agent.role == "planner":
        return "/planner"
    if next_url == "/desk" and not takes_calls(agent):
        return "/supervisor"
    return next_url


async def signed_in(request: Request, agent, next_url: str, *, response: Response | None = None) -> Response:
    """Open the session (every step passed) on ``response`` (default: a redirect to where the
    member lands) and forget the sign-in's own cookies."""
    response = response or RedirectResponse(landing(agent, next_url), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, await sign_in(request, agent.id),
               int(request.app.state.settings.session_max_age))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    response.delete_cookie(SECOND_STEP_COOKIE, path="/login")
    return response
