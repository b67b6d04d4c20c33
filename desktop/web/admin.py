"""The admin console (``/admin``) and its REST API (``/api/v1/admin/...``).

Only a signed-in admin may use either (a desk session; changes carry ``X-CSRF-Token``, the
page's token); an agent or supervisor gets 403, nobody signed in 401. API keys belong to
sites and never administer the centre. Every change is written with its audit row in one
transaction (``desktop/repository/admin.py``) and then takes effect everywhere at once:

- accounts: the leader re-reads the account (``agent_changed``: new skills route at once, a
  disabled agent is logged out); sessions ended (disable, password reset, "sign out
  everywhere") are revoked in the database, so every process refuses them from the next
  request, and a ``session_ended`` event per session closes their open desks;
- queues (``desktop/web/admin_queues.py``): the leader re-reads the queues (``queues_changed``):
  a new queue is routable without a restart; the widget reads queues and hours afresh on every
  open; a deleted queue's waiting customers move to a fallback (``queue_removed``).

Errors are JSON, ``{"error": {"code", "message"}}``, as in the rest of ``/api/v1``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.staff import BadCsrf, NotAllowed, NotSignedIn, StaffSession, require_staff
from desktop.repository.admin import user_json
from desktop.repository.errors import DuplicateUser, NotFound
from desktop.rooms import agent_room
from desktop.routing import commands
from desktop.routing.hours import HoursError
from desktop.web.client import ApiError, error_response, json_body
from desktop.web.pages import staff_page
from signaling.protocol.outbound import BusSessionEnded

__all__ = ["BODIES", "QUEUE_NAME", "Seconds", "Skills", "Title", "WrapSeconds", "actor_of", "admin_endpoint",
           "admin_operations", "openapi_paths", "routes"]

QUEUE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}\Z")

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")]
Skill = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Skills = Annotated[list[Skill], msgspec.Meta(max_length=30)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=200)]
Role = Literal["agent", "supervisor", "admin", "planner"]  # records.ROLES
#: The language of a member's staff pages (desktop/web/locales.py); "": their browser's.
Locale = Literal["", "en", "zh-CN", "zh-TW"]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]
WrapSeconds = Annotated[float, msgspec.Meta(ge=0, le=3600)]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Name
    password: Password
    display_name: Title
    role: Role = "agent"
    skills: Skills = []
    locale: Locale = ""


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    display_name: Title | None = None
    role: Role | None = None
    skills: Skills | None = None
    locale: Locale | None = None


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Password


BODIES = (UserIn, UserPatch, PasswordIn)


async def _admin(request: Request) -> StaffSession:
    """The one staff check (desktop/auth/staff.py), answered in this API's JSON errors."""
    try:
        return await require_staff(request, roles=("admin",), csrf=request.method not in ("GET", "HEAD"))
    except NotSignedIn:
        raise ApiError(401, "unauthorized", "sign in as an admin first") from None
    except NotAllowed:
        raise ApiError(403, "forbidden", "only an admin may do this") from None
    except BadCsrf:
        raise ApiError(403, "csrf", "a change needs X-CSRF-Token (the admin page's token)") from None


Handler = Callable[[Request, StaffSession], Awaitable[Response]]


def admin_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Only for an admin; every expected failure a JSON 4xx."""
    async def run(request: Request) -> Response:
        try:
            return await handler(request, await _admin(request))
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, detail=exc.detail)
        except NotFound as exc:
            return error_response(404, "not_found", str(exc))
        except DuplicateUser as exc:  # its own code: the console says it in the admin's language
            return error_response(409, "username_taken", str(exc))
        except HoursError as exc:
            return error_response(422, "invalid_hours", f"hours: {exc}")

    return run


def _actor(session: StaffSession) -> str:
    return f"agent:{session.agent.id}"


# -- users ------------------------------------------------------------------------------

async def list_users(request: Request, session: StaffSession) -> Response:
    repo = request.app.state.repo
    enrolled = await repo.second_factors_enrolled()
    return JSONResponse({"items": [{**user_json(a), "second_factor": a.id in enrolled, "sso": a.sso}
                                   for a in await repo.list_agents()]})


async def add_user(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, UserIn)
    agent = await request.app.state.repo.admin_add_user(
        username=data.username, password=data.password, display_name=data.display_name.strip(),
        role=data.role, skills=sorted(set(data.skills)), locale=data.locale or None, actor=_actor(session))
    return JSONResponse(user_json(agent), status_code=201)


async def patch_user(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, UserPatch)
    user_id = request.path_params["user_id"]
    if user_id == session.agent.id and data.role not in (None, "admin"):
        raise ApiError(409, "own_account", "you can't take the admin role from yourself; "
                         "ask another admin")
    display_name = data.display_name.strip() if data.display_name is not None else None
    return await _change(request, session, "user.update", display_name=display_name,
                         role=data.role, skills=data.skills, locale=data.locale)


async def disable_user(request: Request, session: StaffSession) -> Response:
    if request.path_params["user_id"] == session.agent.id:
        raise ApiError(409, "own_account", "you can't disable your own account")
    return await _change(request, session, "user.disable", disabled=True)


async def enable_user(request: Request, session: StaffSession) -> Response:
    return await _change(request, session, "user.enable", disabled=False)


async def reset_password(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, PasswordIn)
    return await _change(request, session, "user.password", password=data.password)


async def reset_second_factor(request: Request, session: StaffSession) -> Response:
    """A member lost their phone (and their recovery codes): their second factor goes, audited;
    they sign in with the password alone, or enrol again first if their role must have one."""
    state, user_id = request.app.state, request.path_params["user_id"]
    if not await state.repo.remove_second_factor(user_id, actor=_actor(session), action="user.second_factor_reset"):
        raise ApiError(409, "not_enrolled", "this user has no second factor to reset")
    agent = await state.repo.get_agent(user_id)
    return JSONResponse({**user_json(agent), "second_factor": False, "sso": agent.sso})


async def sign_out_user(request: Request, session: StaffSession) -> Response:
    return await _change(request, session, "user.sign_out", end_sessions=True)


async def _change(request: Request, session: StaffSession, action: str, **changes: Any) -> Response:
    state = request.app.state
    agent, ended = await state.repo.admin_change_user(
        request.path_params["user_id"], actor=_actor(session), action=action, **changes)
    # Committed: now every process refuses the ended sessions; close their open desks too.
    for tag in ended:  # the stored session id hash is the socket's Session.tag
        await state.bus.publish(agent_room(agent.id), BusSessionEnded(tag=tag).to_dict())
    if ended and agent.disabled_at is None:
        await state.router.notify(commands.SignedOut(agent_id=agent.id))
    await state.router.notify(commands.AgentChanged(agent_id=agent.id))
    return JSONResponse({**user_json(agent), "sessions_ended": len(ended)})


# -- audit ------------------------------------------------------------------------------

async def audit(request: Request, session: StaffSession) -> Response:
    params = request.query_params
    limit, before = params.get("limit", "100"), params.get("before")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise ApiError(422, "invalid", "limit must be an integer from 1 to 500")
    if before is not None and not before.isdigit():
        raise ApiError(422, "invalid", "before must be an audit row id")
    repo = request.app.state.repo
    rows = await repo.admin_audit(limit=int(limit), target=params.get("target") or None,
                                  before_id=int(before) if before else None)
    names = {f"agent:{a.id}": a.username for a in await repo.list_agents()}
    return JSONResponse({"items": [{**row, "actor_name": names.get(row["actor"])} for row in rows]})


# -- the page ---------------------------------------------------------------------------

async def admin_page(request: Request) -> Response:
    return await staff_page(request, "admin.html", ("admin",),
                            extra={"time_zone": request.app.state.settings.time_zone,
                                   "calling_hours": request.app.state.settings.calling_hours})


_U = "/api/v1/admin/users/{user_id}"
routes = [
    Route("/admin", admin_page),
    Route("/api/v1/admin/users", admin_endpoint(list_users), methods=["GET"]),
    Route("/api/v1/admin/users", admin_endpoint(add_user), methods=["POST"]),
    Route(_U, admin_endpoint(patch_user), methods=["PATCH"]),
    Route(f"{_U}/disable", admin_endpoint(disable_user), methods=["POST"]),
    Route(f"{_U}/enable", admin_endpoint(enable_user), methods=["POST"]),
    Route(f"{_U}/password", admin_endpoint(reset_password), methods=["POST"]),
    Route(f"{_U}/sign-out", admin_endpoint(sign_out_user), methods=["POST"]),
    Route(f"{_U}/second-factor/reset", admin_endpoint(reset_second_factor), methods=["POST"]),
    Route("/api/v1/admin/audit", admin_endpoint(audit), methods=["GET"]),
]


# -- OpenAPI ----------------------------------------------------------------------------

def openapi_paths(op: Callable[..., dict[str, Any]], ok: Callable[..., dict[str, Any]],
                  ref: Callable[[str], dict[str, Any]], path: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """The admin API's paths, built with the document's own helpers (desktop/web/openapi.py)."""
    user, items = ref("AdminUser"), {"type": "object", "properties": {"items": {"type": "array"}}}
    user_id = [path("user_id")]
    paths = {
        "/api/v1/admin/users": {
            "get": op("Every staff account", {"200": ok("Accounts", items)}),
            "post": op("Add an account", {"201": ok("Added", user)}, body="UserIn"),
        },
        _U: {"patch": op("Change an account's name, role, skills or language", {"200": ok("Changed", user)},
                         body="UserPatch", parameters=user_id)},
        f"{_U}/disable": {"post": op("Disable an account: no sign-in; its sessions and open desks end",
                                     {"200": ok("Disabled", user)}, parameters=user_id)},
        f"{_U}/enable": {"post": op("Re-enable an account", {"200": ok("Enabled", user)}, parameters=user_id)},
        f"{_U}/password": {"post": op("Set a new password (its sessions end)", {"200": ok("Reset", user)},
                                      body="PasswordIn", parameters=user_id)},
        f"{_U}/sign-out": {"post": op("End every session of the account, open desks included",
                                      {"200": ok("Signed out", user)}, parameters=user_id)},
        f"{_U}/second-factor/reset": {"post": op(
            "Remove the account's second factor (TOTP and recovery codes); 409 not_enrolled when it has none",
            {"200": ok("Reset", user)}, parameters=user_id)},
        "/api/v1/admin/audit": {"get": op("The admin audit, newest first", {"200": ok("Audit rows", items)},
                                          parameters=[
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
            {"name": "before", "in": "query", "required": False, "schema": {"type": "integer"},
             "description": "rows older than this id"},
            {"name": "target", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "user:<id> or queue:<name>"}])},
    }
    return admin_operations(paths)


def admin_operations(paths: dict[str, Any]) -> dict[str, Any]:
    """``paths`` with every operation marked as the admin console's (scope, who may call it)."""
    for operations in paths.values():
        for operation in operations.values():
            operation["x-otodesk-scope"] = "admin"
            operation["description"] = "An admin's desk session (cookie, and X-CSRF-Token on changes); " \
                                       "API keys are refused. Audited."
    return paths


def openapi_components() -> dict[str, Any]:
    nullable_number = {"type": ["number", "null"]}
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "AdminUser": {"type": "object", "required": ["id", "username", "role"], "properties": {
            "id": {"type": "string"}, "username": {"type": "string"}, "display_name": {"type": "string"},
            "role": {"enum": ["agent", "supervisor", "admin", "planner"]}, "skills": strings,
            "disabled": {"type": "boolean"}, "disabled_at": nullable_number, "state": {"type": "string"},
            "created_at": {"type": "number"}, "sessions_ended": {"type": "integer"},
            "second_factor": {"type": "boolean", "description": "two-step sign-in (TOTP) is on"},
            "sso": {"type": "boolean", "description": "signs in through the company's identity provider"},
            "locale": {"type": ["string", "null"], "description": "the staff pages' language; null: the browser's"}}},
    }


#: For the admin API's other resources (``desktop/web/kb_admin.py``): who acts, as audited.
actor_of = _actor
