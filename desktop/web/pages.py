"""HTTP routes: login (its password step; the second factor's is desktop/web/second_step.py), the desk
and wall pages, the widget's token and script, health."""

from __future__ import annotations

import json
import math
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.agents import STAFF_ROLES, SUPERVISOR_ROLES, agent_public, takes_calls
from desktop.auth.staff import (
    LoginRefused, LoginThrottle, NotSignedIn, StaffRefused, current_agent, require_staff, retry_after_header,
    sign_out, staff_session,
)
from desktop.auth.tokens import SESSION_COOKIE, tokens_equal
from desktop.routing import commands
from desktop.web.assets import STATIC_DIR
from desktop.web.sso import SSO_ERRORS
from desktop.web.client import client_address, read_body
from desktop.web.second_step import password_accepted
from desktop.web.signin import LOGIN_CSRF_COOKIE, login_page_response, read_form, safe_next
from desktop.auth.locales import LOCALES, page_locale
from signaling.limits import describe_wait

__all__ = ["routes", "staff_page"]

VISITOR_BODY_LIMIT = 4096


async def login_page(request: Request) -> Response:
    code = request.query_params.get("sso_error", "")
    sso_error = SSO_ERRORS.get(code)
    return login_page_response(request, next_url=safe_next(request.query_params.get("next")), error=sso_error,
                               code=f"sso_{code}" if sso_error else None,
                               extra={"admin_ready": request.query_params.get("ready") == "1"})


async def login(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return Response("the form is too large", status_code=413)
    next_url = safe_next(str(form.get("next", "")))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not tokens_equal(expected or "", str(form.get("csrf_token", ""))):
        return login_page_response(request, next_url=next_url, error="Your session expired; please try again.",
                                   code="session_expired", status=400)
    username = str(form.get("username", ""))[:100]
    state = request.app.state
    try:
        attempt = await LoginThrottle(state.bus, state.settings).attempt(username, client_address(request))
    except LoginRefused as refused:
        return login_page_response(request, next_url=next_url, error=str(refused), status=429, code="throttled",
                                   values={"minutes": max(1, math.ceil(refused.retry_after / 60))},
                                   headers=retry_after_header(refused.retry_after))
    agent = await state.repo.authenticate(username, str(form.get("password", ""))[:200])
    if agent is None:
        return login_page_response(request, next_url=next_url, error="Wrong username or password.", status=401,
                                   code="wrong")
    await attempt.succeeded()
    # A second factor (or a role that must enrol one) comes before any session.
    return await password_accepted(request, agent, next_url)


async def logout(request: Request) -> Response:
    """End the session here and everywhere (desk, REST, sockets), not just forget the cookie."""
    form = await read_form(request)
    if form is None:
        return Response("the form is too large", status_code=413)
    session = await staff_session(request)
    if session is not None:
        if not request.app.state.signer.check_csrf(session.session_id, str(form.get("csrf_token", ""))):
            return Response("bad CSRF token", status_code=400)
        await sign_out(request, session)
        # Off the wall and out of routing now, not after the desk's reconnect grace.
        await request.app.state.router.notify(commands.SignedOut(agent_id=session.agent.id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def staff_page(request: Request, template: str, roles: tuple[str, ...], *,
                     extra: dict | None = None) -> Response:
    """A staff page rendered for a signed-in member of ``roles`` (others: sign in, or 403);
    ``extra`` goes to the template."""
    try:
        session = await require_staff(request, roles=roles)
    except NotSignedIn:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    except StaffRefused:
        return Response(f"This page is for {' and '.join(r + 's' for r in roles)}.", status_code=403)
    return request.app.state.templates.TemplateResponse(request, template, {
        "agent": agent_public(session.agent), "locale": page_locale(request, session.agent),
        "locale_choice": session.agent.locale or "", "locales": LOCALES,
        "csrf_token": request.app.state.signer.csrf_token(session.session_id), **(extra or {})})


async def desk(request: Request) -> Response:
    agent = await current_agent(request)
    if agent is not None and agent.role == "planner":
        return RedirectResponse("/planner", status_code=303)
    if agent is not None and not takes_calls(agent):
        # Opening the desk would log them in for routing and list them on the wall.
        return RedirectResponse("/supervisor", status_code=303)
    return await staff_page(request, "desk.html", STAFF_ROLES)


async def supervisor(request: Request) -> Response:
    return await staff_page(request, "supervisor.html", SUPERVISOR_ROLES)


async def planner(request: Request) -> Response:
    """The planner's workspace: the catalogue of actions, publishing, tests and results."""
    return await staff_page(request, "planner.html", ("planner", "admin"))


async def visitor_token(request: Request) -> Response:
    """Issue (or confirm) the widget's signed visitor token.

    Anyone may ask, so new tokens come from a budget per client address (behind trusted
    proxies, the address they forward): ``new_visitors_per_minute`` tokens issued in any
    minute; a refused request spends nothing and is told when to retry (``Retry-After``).
    """
    body = await read_body(request, VISITOR_BODY_LIMIT)
    if body is None:
        return JSONResponse({"code": "too_large", "message": f"the body is over {VISITOR_BODY_LIMIT} bytes"},
                            status_code=413)
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    signer = request.app.state.signer
    token = data.get("token") if isinstance(data, dict) else None
    visitor_id = signer.read_visitor(token if isinstance(token, str) else None)
    if visitor_id is not None and await request.app.state.repo.visitor_revoked(visitor_id):
        visitor_id = None  # signed out or erased: a new anonymous visitor, never the old one
    if visitor_id is None:
        wait = await request.app.state.bus.take(
            f"visitor-tokens:{client_address(request)}", window=60.0,
            limit=request.app.state.settings.new_visitors_per_minute)
        if wait > 0:
            return JSONResponse({"code": "rate_limited", "retry_after": math.ceil(wait),
                                 "message": "too many new visitors from this address; try again "
                                            f"{describe_wait(wait)}"},
                                status_code=429, headers=retry_after_header(wait))
        visitor_id = secrets.token_hex(12)
        token = signer.visitor_token(visitor_id)
    return JSONResponse({"token": token, "visitor_id": visitor_id})


#: /widget.js is the one URL sites embed, so it can't be cached for good: a short lifetime, then
#: a revalidation (304); what it loads has a hashed name and is cached for good.
WIDGET_SCRIPT_CACHE = "public, max-age=300, stale-while-revalidate=86400"


async def widget_script(request: Request) -> Response:
    """The widget's loader: the built one (pointing at the hashed bundle) while it is fresh."""
    built = request.app.state.widget_build.loader()
    return request.app.state.static.send(built or STATIC_DIR / "widget" / "loader.js", request.scope,
                                         cache_control=WIDGET_SCRIPT_CACHE)


async def favicon(request: Request) -> Response:
    # Browsers ask for /favicon.ico whatever a page links (a shop's page, a PDF, the API's JSON).
    return RedirectResponse("/static/common/favicon.svg", status_code=301)


async def healthz(request: Request) -> Response:
    state = request.app.state
    voice = getattr(state, "voice", None)
    return JSONResponse({"ok": True, "process": state.settings.process_id,
                         "leader": state.routing.is_leader, "at": time.time(),
                         # The SIP trunk's registration (off, static, registering, registered, failed).
                         "sip": voice.phones.public() if voice is not None else None})


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/desk", desk),
    Route("/supervisor", supervisor),
    Route("/planner", planner),
    Route("/api/visitor", visitor_token, methods=["POST"]),
    Route("/widget.js", widget_script),
    Route("/healthz", healthz),
    Route("/favicon.ico", favicon),
]
