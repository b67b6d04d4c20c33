"""The sign-in's second step: a code from the member's authenticator app (or a recovery code),
or, for a role that must have one (``OTODESK_REQUIRE_TOTP``), enrolling it first.

After the right password :func:`password_accepted` opens no session when a second factor is
due: it sets a signed cookie good for :data:`SECOND_STEP_MAX_AGE` seconds on ``/login`` only,
whose salt no staff check reads (``Signer.second_step_token``), so a half-signed-in browser
reaches no staff page, API or socket. ``POST /login/code`` checks the code (wrong ones count in
the same throttle as wrong passwords; a code accepted once is refused after) and only then
opens the session. ``/login/enrol`` shows a new secret and its QR code, confirms it with a code
and shows the recovery codes once, the session opened with that page.
"""

from __future__ import annotations

import math
import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.second_factor import CodeCheck, check_code, confirm_enrolment, has_second_factor, must_enrol, \
    start_enrolment
from desktop.auth.staff import LoginRefused, LoginThrottle, retry_after_header
from desktop.auth.tokens import tokens_equal
from desktop.web.client import client_address
from desktop.web.signin import (
    LOGIN_CSRF_COOKIE, SECOND_STEP_COOKIE, landing, login_page_response, read_form, set_cookie, signed_in,
)

__all__ = ["SECOND_STEP_MAX_AGE", "password_accepted", "routes"]

#: Seconds from the right password to the code: long enough to find the phone.
SECOND_STEP_MAX_AGE = 300

#: What the second step's page says, by code (``login.error.<code>`` in the catalogues).
ERRORS = {
    "wrong_code": "That code is not right; check your authenticator app and try again.",
    "code_used": "That code was already used; wait for the next one in your app.",
    "step_expired": "Signing in took too long; enter your password again.",
    "enrol_restarted": "The key changed in another window; scan the new one.",
}


async def password_accepted(request: Request, agent, next_url: str) -> Response:
    """After the right password: the session, or the second step (a code, or enrolment first)."""
    state = request.app.state
    if await has_second_factor(state, agent):
        purpose = "code"
    elif must_enrol(state.settings, agent):
        purpose = "enrol"
    else:
        return await signed_in(request, agent, next_url)
    response = RedirectResponse(f"/login/{purpose}", status_code=303)
    token = state.signer.second_step_token(agent.id, agent.username, purpose=purpose, next_url=next_url)
    set_cookie(request, response, SECOND_STEP_COOKIE, token, SECOND_STEP_MAX_AGE, path="/login")
    return response


async def _pending(request: Request, purpose: str):
    """(the token's dict, the account) of this browser's second step, or None (expired, forged,
    or the account disabled meanwhile)."""
    state = request.app.state
    data = state.signer.read_second_step(request.cookies.get(SECOND_STEP_COOKIE), max_age=SECOND_STEP_MAX_AGE)
    if data is None or data["purpose"] != purpose:
        return None
    agent = await state.repo.get_agent(data["agent"])
    if agent is None or agent.disabled_at is not None:
        return None
    return data, agent


def _expired(request: Request) -> Response:
    response = login_page_response(request, next_url="/desk", error=ERRORS["step_expired"], code="step_expired",
                                   status=401)
    response.delete_cookie(SECOND_STEP_COOKIE, path="/login")
    return response


def _page(request: Request, template: str, data: dict, agent, *, code: str | None = None, status: int = 200,
          error: str | None = None, values: dict | None = None, headers: dict | None = None,
          extra: dict | None = None) -> Response:
    error = error or (ERRORS.get(code) if code else None)
    # In the account's own language (chosen in the staff menu), as the pages after it will be.
    return login_page_response(request, template=template, next_url=data["next"], error=error, code=code,
                               values=values, status=status, headers=headers, agent=agent,
                               extra={"username": data["username"], **(extra or {})})


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    return tokens_equal(request.cookies.get(LOGIN_CSRF_COOKIE) or "", str(form.get("csrf_token", "")))


# -- a code ----------------------------------------------------------------------------

async def code_page(request: Request) -> Response:
    pending = await _pending(request, "code")
    if pending is None:
        return _expired(request)
    return _page(request, "login_code.html", *pending)


async def code_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return Response("the form is too large", status_code=413)
    pending = await _pending(request, "code")
    if pending is None or not _csrf_ok(request, form):
        return _expired(request)
    data, agent = pending
    state = request.app.state
    try:
        attempt = await LoginThrottle(state.bus, state.settings).attempt(data["username"], client_address(request))
    except LoginRefused as refused:
        return _page(request, "login_code.html", data, agent, error=str(refused), code="throttled", status=429,
                     values={"minutes": max(1, math.ceil(refused.retry_after / 60))},
                     headers=retry_after_header(refused.retry_after))
    result = await check_code(state, agent.id, str(form.get("code", "")), now=time.time())
    if not result.accepted:  # the throttle's slot stays taken: a wrong code is a failed sign-in
        code = "code_used" if result is CodeCheck.REUSED else "wrong_code"
        return _page(request, "login_code.html", data, agent, code=code, status=401)
    await attempt.succeeded()
    return await signed_in(request, agent, data["next"])


# -- enrolment required before the first session ----------------------------------------

async def enrol_page(request: Request) -> Response:
    pending = await _pending(request, "enrol")
    if pending is None:
        return _expired(request)
    data, agent = pending
    enrolment = await start_enrolment(request.app.state, agent, now=time.time(), keep=True)
    return _page(request, "login_enrol.html", data, agent, extra={"enrolment": enrolment})


async def enrol_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return Response("the form is too large", status_code=413)
    pending = await _pending(request, "enrol")
    if pending is None or not _csrf_ok(request, form):
        return _expired(request)
    data, agent = pending
    state = request.app.state
    codes = await confirm_enrolment(state, agent, str(form.get("code", "")), now=time.time(),
                                    actor=f"agent:{agent.id}")
    if not isinstance(codes, list):
        enrolment = await start_enrolment(state, agent, now=time.time(), keep=True)
        return _page(request, "login_enrol.html", data, agent, code="wrong_code" if codes is CodeCheck.WRONG
                     else "enrol_restarted", status=422, extra={"enrolment": enrolment})
    # Enrolled: the session opens with the page that shows the recovery codes, once.
    page = _page(request, "login_recovery.html", data, agent, extra={"codes": codes, "landing_url": landing(agent, data["next"])})
    page.headers["cache-control"] = "no-store"
    return await signed_in(request, agent, data["next"], response=page)


routes = [
    Route("/login/code", code_page, methods=["GET"]),
    Route("/login/code", code_submit, methods=["POST"]),
    Route("/login/enrol", enrol_page, methods=["GET"]),
    Route("/login/enrol", enrol_submit, methods=["POST"]),
]
