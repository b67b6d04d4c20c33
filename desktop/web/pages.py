"""HTTP routes: login, the desk and wall pages, the widget's token and script, health."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from desktop.cards import agent_public, takes_calls
from desktop.web.auth import SESSION_COOKIE, SESSION_MAX_AGE

__all__ = ["routes", "current_agent"]

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
LOGIN_CSRF_COOKIE = "otodesk_login_csrf"
VISITOR_BODY_LIMIT = 4096


async def current_agent(request: Request):
    """The logged-in agent record, or None."""
    data = request.app.state.signer.read_session(request.cookies.get(SESSION_COOKIE))
    if not data:
        return None
    return await request.app.state.repo.get_agent(data["agent"])


def _safe_next(value: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/desk"
    return value


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


async def login_page(request: Request) -> Response:
    token = secrets.token_urlsafe(16)
    response = request.app.state.templates.TemplateResponse(request, "login.html", {
        "error": None, "next": _safe_next(request.query_params.get("next")), "csrf_token": token})
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login(request: Request) -> Response:
    form = await request.form()
    next_url = _safe_next(str(form.get("next", "")))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, str(form.get("csrf_token", ""))):
        return await _login_failed(request, next_url, "Your session expired; please try again.", 400)
    agent = await request.app.state.repo.authenticate(str(form.get("username", ""))[:100],
                                                      str(form.get("password", ""))[:200])
    if agent is None:
        return await _login_failed(request, next_url, "Wrong username or password.", 401)
    if next_url == "/desk" and not takes_calls(agent):
        next_url = "/supervisor"
    response = RedirectResponse(next_url, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, request.app.state.signer.session_token(agent.id),
                SESSION_MAX_AGE)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


async def _login_failed(request: Request, next_url: str, error: str, status: int) -> Response:
    token = secrets.token_urlsafe(16)
    response = request.app.state.templates.TemplateResponse(
        request, "login.html", {"error": error, "next": next_url, "csrf_token": token}, status_code=status)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    data = request.app.state.signer.read_session(request.cookies.get(SESSION_COOKIE))
    if data and not request.app.state.signer.check_csrf(data["sid"], str(form.get("csrf_token", ""))):
        return Response("bad CSRF token", status_code=400)
    if data:
        # Off the wall and out of routing now, not after the desk's reconnect grace.
        await request.app.state.router.notify("signed_out", agent_id=data["agent"])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def _page(request: Request, template: str, roles: tuple[str, ...]) -> Response:
    agent = await current_agent(request)
    if agent is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if agent.role not in roles:
        return Response("This page is for supervisors.", status_code=403)
    data = request.app.state.signer.read_session(request.cookies.get(SESSION_COOKIE))
    return request.app.state.templates.TemplateResponse(request, template, {
        "agent": agent_public(agent), "csrf_token": request.app.state.signer.csrf_token(data["sid"])})


async def desk(request: Request) -> Response:
    agent = await current_agent(request)
    if agent is not None and not takes_calls(agent):
        # Opening the desk would log them in for routing and list them on the wall.
        return RedirectResponse("/supervisor", status_code=303)
    return await _page(request, "desk.html", ("agent", "supervisor", "admin"))


async def supervisor(request: Request) -> Response:
    return await _page(request, "supervisor.html", ("supervisor", "admin"))


async def visitor_token(request: Request) -> Response:
    """Issue (or confirm) the widget's signed visitor token.

    Anyone may ask, so new tokens are rate-limited per client address.
    """
    if int(request.headers.get("content-length") or 0) > VISITOR_BODY_LIMIT:
        return JSONResponse({"code": "too_large", "message": "body too large"}, status_code=413)
    try:
        body = await request.json()
    except ValueError:
        body = {}
    signer = request.app.state.signer
    token = body.get("token") if isinstance(body, dict) else None
    visitor_id = signer.read_visitor(token if isinstance(token, str) else None)
    if visitor_id is None:
        client = request.client.host if request.client else "unknown"
        if not await request.app.state.bus.hit(f"visitor-tokens:{client}", limit=request.app.state.settings.new_visitors_per_minute,
                                               window=60.0):
            return JSONResponse({"code": "rate_limited", "message": "too many new visitors from this "
                                 "address; try again in a minute"}, status_code=429,
                                headers={"Retry-After": "60"})
        visitor_id = secrets.token_hex(12)
        token = signer.visitor_token(visitor_id)
    return JSONResponse({"token": token, "visitor_id": visitor_id})


async def widget_script(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "widget" / "loader.js", media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300"})


async def healthz(request: Request) -> Response:
    state = request.app.state
    return JSONResponse({"ok": True, "process": state.settings.process_id,
                         "leader": state.routing.is_leader, "at": time.time()})


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/desk", desk),
    Route("/supervisor", supervisor),
    Route("/api/visitor", visitor_token, methods=["POST"]),
    Route("/widget.js", widget_script),
    Route("/healthz", healthz),
]
