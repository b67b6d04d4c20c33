"""A staff member's own sign-in security (``/profile/security``, from the top bar's menu) and its
API, ``/api/v1/me/second-factor``: turn two-step sign-in on (a secret and its QR code, confirmed
by a current code, then ten recovery codes shown once) or off (a current code, a recovery code or
the password); ten new recovery codes for a current code. The secret is returned only while the enrolment is pending; once confirmed no
answer carries it again.

Every call needs the member's session and, for changes, the page's ``X-CSRF-Token``. Errors are
``{"error": {code, message}}``: ``sso_account`` (the company's sign-in asks its own second step),
``already_enrolled``, ``not_enrolled``, ``enrolment_expired`` (nothing pending, or restarted in
another tab), ``wrong_code``, ``code_used``, ``wrong_password``, ``totp_required`` (the member's
role must keep it: ``OTODESK_REQUIRE_TOTP``), ``rate_limited`` (wrong codes and passwords count
in the sign-in's throttle).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth import totp
from desktop.auth.agents import STAFF_ROLES
from desktop.auth.second_factor import CodeCheck, check_code, confirm_enrolment, must_enrol, start_enrolment
from desktop.auth.staff import (
    BadCsrf, LoginRefused, LoginThrottle, NotSignedIn, StaffSession, current_agent, require_staff,
    retry_after_header,
)
from desktop.repository.errors import NotFound
from desktop.web.client import ApiError, client_address, error_response, json_body
from desktop.web.pages import staff_page

__all__ = ["routes"]

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class CodeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code


class DisableIn(msgspec.Struct, forbid_unknown_fields=True):
    """One of the two: a current code (or a recovery code), or the account's password."""

    code: Code | None = None
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


Handler = Callable[[Request, StaffSession], Awaitable[Response]]


def _member(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            session = await require_staff(request, roles=STAFF_ROLES, csrf=request.method != "GET")
            return await handler(request, session)
        except NotSignedIn:
            return error_response(401, "unauthorized", "sign in first")
        except BadCsrf:
            return error_response(403, "csrf", "a change needs X-CSRF-Token (the page's token)")
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, detail=exc.detail)
        except NotFound as exc:
            return error_response(404, "not_found", str(exc))

    return run


async def _status(request: Request, agent) -> dict:
    factor = None if agent.sso else await request.app.state.repo.second_factor(agent.id)
    enrolled = factor is not None and factor.enrolled
    return {"enrolled": enrolled, "enrolled_at": factor.enrolled_at if enrolled else None,
            "recovery_codes_left": factor.recovery_left if enrolled else 0, "sso": agent.sso,
            "required": must_enrol(request.app.state.settings, agent)}


def _local_account(session: StaffSession) -> None:
    if session.agent.sso:
        raise ApiError(409, "sso_account", "this account signs in through the company's identity provider, "
                       "which asks for its own second step")


async def get_status(request: Request, session: StaffSession) -> Response:
    return JSONResponse(await _status(request, session.agent))


async def setup(request: Request, session: StaffSession) -> Response:
    """A new secret to add to an app (replacing any pending one), until ``confirm``."""
    _local_account(session)
    if (await _status(request, session.agent))["enrolled"]:
        raise ApiError(409, "already_enrolled", "two-step sign-in is already on; turn it off first")
    enrolment = await start_enrolment(request.app.state, session.agent, now=time.time())
    return JSONResponse(enrolment.public(), headers={"cache-control": "no-store"})


async def confirm(request: Request, session: StaffSession) -> Response:
    _local_account(session)
    data = await json_body(request, CodeIn)
    codes = await confirm_enrolment(request.app.state, session.agent, data.code, now=time.time(),
                                    actor=f"agent:{session.agent.id}")
    if codes is CodeCheck.WRONG:
        raise ApiError(422, "wrong_code", "that is not the app's current code for this key; check the app "
                       "and the phone's clock")
    if codes is None:
        raise ApiError(409, "enrolment_expired", "nothing is waiting for a code: set up again")
    return JSONResponse({**await _status(request, session.agent), "recovery_codes": codes},
                        headers={"cache-control": "no-store"})


async def disable(request: Request, session: StaffSession) -> Response:
    _local_account(session)
    data = await json_body(request, DisableIn)
    state, agent = request.app.state, session.agent
    if (data.code is None) == (data.password is None):
        raise ApiError(422, "invalid", "send either code (the app's or a recovery code) or password")
    if must_enrol(state.settings, agent):
        raise ApiError(409, "totp_required", f"the {agent.role} role must keep two-step sign-in")
    if not (await _status(request, agent))["enrolled"]:
        raise ApiError(409, "not_enrolled", "two-step sign-in is not on")
    try:
        attempt = await LoginThrottle(state.bus, state.settings).attempt(agent.username, client_address(request))
    except LoginRefused as refused:
        return _throttled(refused)
    if data.password is not None:
        if await state.repo.authenticate(agent.username, data.password) is None:
            raise ApiError(422, "wrong_password", "that is not this account's password")
    else:
        result = await check_code(state, agent.id, data.code, now=time.time())
        if result is CodeCheck.REUSED:
            raise ApiError(409, "code_used", "that code was already used; wait for the next one")
        if not result.accepted:
            raise ApiError(422, "wrong_code", "that is neither the app's current code nor an unused recovery code")
    await attempt.succeeded()
    await state.repo.remove_second_factor(agent.id, actor=f"agent:{agent.id}", action="user.second_factor_off")
    return JSONResponse(await _status(request, agent))


async def new_recovery_codes(request: Request, session: StaffSession) -> Response:
    """Ten new recovery codes (the old ones stop working), for a current code from the app."""
    _local_account(session)
    data = await json_body(request, CodeIn)
    state, agent = request.app.state, session.agent
    if not (await _status(request, agent))["enrolled"]:
        raise ApiError(409, "not_enrolled", "two-step sign-in is not on")
    try:
        attempt = await LoginThrottle(state.bus, state.settings).attempt(agent.username, client_address(request))
    except LoginRefused as refused:
        return _throttled(refused)
    if not totp.looks_like_totp(data.code):
        raise ApiError(422, "wrong_code", "give the app's current code (six digits), not a recovery code")
    result = await check_code(state, agent.id, data.code, now=time.time())
    if result is CodeCheck.REUSED:
        raise ApiError(409, "code_used", "that code was already used; wait for the next one")
    if not result.accepted:
        raise ApiError(422, "wrong_code", "that is not the app's current code")
    await attempt.succeeded()
    codes = totp.new_recovery_codes()
    await state.repo.replace_recovery_codes(
        agent.id, [state.totp_box.recovery_digest(agent.id, totp.normalise_recovery_code(c)) for c in codes])
    return JSONResponse({**await _status(request, agent), "recovery_codes": codes},
                        headers={"cache-control": "no-store"})


def _throttled(refused: LoginRefused) -> Response:
    # The page says when to retry (static/common/errors.js reads retry_after).
    return JSONResponse({"error": {"code": "rate_limited", "message": str(refused),
                                   "retry_after": math.ceil(refused.retry_after)}},
                        status_code=429, headers=retry_after_header(refused.retry_after))


async def security_page(request: Request) -> Response:
    agent = await current_agent(request)  # (staff_page sends anyone else to sign in)
    status = await _status(request, agent) if agent is not None else {}
    return await staff_page(request, "account.html", STAFF_ROLES, extra={"status": status})


_ME = "/api/v1/me/second-factor"
routes = [
    Route("/profile/security", security_page),
    Route(_ME, _member(get_status), methods=["GET"]),
    Route(f"{_ME}/setup", _member(setup), methods=["POST"]),
    Route(f"{_ME}/confirm", _member(confirm), methods=["POST"]),
    Route(f"{_ME}/disable", _member(disable), methods=["POST"]),
    Route(f"{_ME}/recovery-codes", _member(new_recovery_codes), methods=["POST"]),
]
