"""The planner's REST API (``/api/v1/rules/...``): actions, validation, publishing, tests.

Request bodies are in :mod:`desktop.web.api.schemas`.

Staff only (the desk's session cookie; changes carry ``X-CSRF-Token``): planners and
admins may change the catalogue, supervisors may read it. Errors are the API's JSON,
``{"error": {"code", "message"}}``; a condition or script that is wrong answers 422 with
``code: "invalid_condition"`` and ``errors: [{field, position, line, column, message}]``, the
position being a 0-based offset into that field's text.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.contacts.snapshot import customer_snapshot
from desktop.repository.errors import Conflict, NotFound
from desktop.rules import (
    Action, Catalogue, ConditionError, FIELD_TYPES, Snapshot, compile_condition, render_script, validate_action,
)
from desktop.rules.script import script_errors
from desktop.rules.snapshot import FIELD_HELP
from desktop.auth.staff import BadCsrf, NotAllowed, NotSignedIn, StaffSession, require_staff
from desktop.web.api.common import ApiError, error_response, json_body
from desktop.web.api.schemas import CatalogueIn, PreviewIn, PublishIn, RuleTestIn, ValidateIn

__all__ = ["routes", "EDITORS", "READERS"]

EDITORS = ("planner", "admin")
READERS = ("planner", "admin", "supervisor")
MAX_IMPORT = 8 * 1024 * 1024  # a catalogue of a few thousand actions


def _invalid(errors: list[ConditionError]) -> JSONResponse:
    first = errors[0]
    return JSONResponse({"error": {"code": "invalid_condition", "message": str(first),
                                   "errors": [e.as_dict() for e in errors]}}, status_code=422)


def _json(value: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


Handler = Callable[[Request, StaffSession], Awaitable[Response]]


def planner(handler: Handler, *, edit: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """A staff endpoint: editors change, readers also read; expected failures as JSON 4xx."""
    allowed = EDITORS if edit else READERS

    async def run(request: Request) -> Response:
        try:
            if any("\x00" in str(value) for value in (request.url.path, *request.query_params.values(),
                                                        *request.path_params.values())):
                raise ApiError(400, "bad_request", "NUL characters are not accepted")
            try:
                session = await require_staff(request, roles=allowed, csrf=request.method not in ("GET", "HEAD"))
            except NotSignedIn:
                raise ApiError(401, "unauthorized", "log in as a planner first (API keys are not accepted here)") from None
            except NotAllowed:
                raise ApiError(403, "forbidden", f"the rules are for {' and '.join(allowed)} accounts") from None
            except BadCsrf:
                raise ApiError(403, "csrf", "a request that changes something needs X-CSRF-Token") from None
            return await handler(request, session)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except NotFound as exc:
            return error_response(404, "not_found", str(exc))
        except Conflict as exc:
            return error_response(409, "conflict", str(exc))

    return run


def _who(session: StaffSession) -> str:
    return f"agent:{session.agent.id}"


async def fields(request: Request, caller: StaffSession) -> Response:
    return _json([{"name": name, "type": _type_name(kind), "help": FIELD_HELP.get(name, "")}
                  for name, kind in FIELD_TYPES.items()])


def _type_name(kind: Any) -> str:
    name = getattr(kind, "name", str(kind)).lower()
    return "list of text" if name == "array" else "text" if name == "string" else \
        "number" if name == "float" else "yes/no" if name == "boolean" else "map of text" if name == "mapping" else name


async def list_actions(request: Request, caller: StaffSession) -> Response:
    return _json({"items": await request.app.state.repo.rule_actions()})


async def _checked(request: Request) -> Action | Response:
    action = await json_body(request, Action)
    errors = validate_action(action)
    return _invalid(errors) if errors else action


async def create_action(request: Request, caller: StaffSession) -> Response:
    action = await _checked(request)
    if isinstance(action, Response):
        return action
    await request.app.state.repo.save_rule_action(action, by=_who(caller), create=True)
    return _json(action, 201)


async def get_action(request: Request, caller: StaffSession) -> Response:
    return _json(await request.app.state.repo.rule_action(request.path_params["action_id"]))


async def put_action(request: Request, caller: StaffSession) -> Response:
    action = await _checked(request)
    if isinstance(action, Response):
        return action
    if action.id != request.path_params["action_id"]:
        raise ApiError(422, "invalid", "the body's id differs from the path's (ids don't change)")
    await request.app.state.repo.save_rule_action(action, by=_who(caller), create=False)
    return _json(action)


async def delete_action(request: Request, caller: StaffSession) -> Response:
    await request.app.state.repo.delete_rule_action(request.path_params["action_id"], by=_who(caller))
    return Response(status_code=204)


async def validate(request: Request, caller: StaffSession) -> Response:
    given = await json_body(request, ValidateIn)
    errors: list[ConditionError] = []
    for field in ("eligibility", "applicability", "suitability"):
        text = getattr(given, field)
        if text is not None:
            try:
                compile_condition(text, field=field)
            except ConditionError as error:
                errors.append(error)
    if given.script is not None:
        errors += [ConditionError(message, text=given.script, position=position, field="script")
                   for position, message in script_errors(given.script)]
    return _json({"ok": not errors, "errors": [e.as_dict() for e in errors]})


async def _snapshot_for(request: Request, customer_id: str | None, snapshot: Snapshot | None,
                        queue: str | None = None) -> Snapshot:
    if snapshot is not None:
        return snapshot
    built = await customer_snapshot(request.app.state.repo, customer_id, now=time.time(),
                                    contact={"queue": queue} if queue else None)
    if built is None:
        raise NotFound(f"no customer {customer_id!r}")
    return built


async def preview(request: Request, caller: StaffSession) -> Response:
    given = await json_body(request, PreviewIn)
    snapshot = await _snapshot_for(request, given.customer_id, given.snapshot)
    text = render_script(given.script, msgspec.structs.asdict(snapshot), product=given.product_name)
    return _json({"text": text, "errors": [{"position": p, "message": m} for p, m in script_errors(given.script)]})


async def publish(request: Request, caller: StaffSession) -> Response:
    given = await json_body(request, PublishIn)
    repo = request.app.state.repo
    drafts = await repo.rule_actions()
    try:  # saved drafts were checked one by one; the whole must compile too (ids, scripts)
        Catalogue.compile(drafts)
    except ConditionError as error:
        return _invalid([error])
    except ValueError as error:
        raise ApiError(422, "invalid", str(error)) from None
    version = await repo.publish_rules(by=_who(caller), note=given.note)
    announced = await request.app.state.rules.announce(version)
    return _json({"version": version, "actions": len(drafts), "announced": announced}, 201)


def _version_json(record, *, with_actions: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"version": record.version, "published_at": record.published_at,
                            "published_by": record.published_by, "note": record.note, "count": record.count}
    if with_actions:
        data["actions"] = msgspec.to_builtins(record.actions)
        data["settings"] = msgspec.to_builtins(record.settings)
    return data


async def versions(request: Request, caller: StaffSession) -> Response:
    live = request.app.state.rules.current().version
    return _json({"live": live, "items": [_version_json(v, with_actions=False)
                                          for v in await request.app.state.repo.rule_versions()]})


async def version(request: Request, caller: StaffSession) -> Response:
    text = request.path_params["version"]
    if not text.isdigit():
        raise ApiError(422, "invalid", "a version is a positive integer")
    return _json(_version_json(await request.app.state.repo.rule_version(int(text)), with_actions=True))


async def audit(request: Request, caller: StaffSession) -> Response:
    action_id = request.query_params.get("action_id")
    rows = await request.app.state.repo.rule_audit(action_id=action_id, limit=200)
    return _json({"items": [{"id": r.id, "at": r.at, "by": r.by, "what": r.what, "action_id": r.action_id,
                             "version": r.version, "before": r.before, "after": r.after} for r in rows]})


async def export_catalogue(request: Request, caller: StaffSession) -> Response:
    actions = await request.app.state.repo.rule_actions()
    response = _json({"actions": actions})
    response.headers["content-disposition"] = 'attachment; filename="otodesk-rules.json"'
    return response


async def import_catalogue(request: Request, caller: StaffSession) -> Response:
    given = await json_body(request, CatalogueIn, MAX_IMPORT)
    errors = [error for action in given.actions for error in validate_action(action)]
    if errors:
        return _invalid(errors[:50])
    count = await request.app.state.repo.import_rule_actions(given.actions, by=_who(caller))
    return _json({"imported": count})


async def test_customer(request: Request, caller: StaffSession) -> Response:
    """Which actions would show for this customer now, in what order, and why not the others."""
    given = await json_body(request, RuleTestIn)
    if given.customer_id is None and given.snapshot is None:
        raise ApiError(422, "invalid", "give a customer_id or a snapshot")
    repo = request.app.state.repo
    snapshot = await _snapshot_for(request, given.customer_id, given.snapshot, given.queue)
    if given.version == 0:
        try:
            catalogue = Catalogue.compile(await repo.rule_actions(), version=0)
        except (ConditionError, ValueError) as error:
            raise ApiError(422, "invalid", f"the drafts don't compile: {error}") from None
    elif given.version is not None:
        record = await repo.rule_version(given.version)
        catalogue = Catalogue.compile(record.actions, version=record.version, settings=record.settings)
    else:
        catalogue = request.app.state.rules.current()
    history = []
    # The desk's interaction history (branch i11-desk) feeds the contact policies when present.
    impressions = getattr(repo, "rule_impressions", None)
    if impressions is not None and snapshot.customer_id:
        history = await impressions(snapshot.customer_id)
    decision = catalogue.match(snapshot, history, now=time.time(), queue=given.queue, budget=None)
    return _json({"version": decision.version, "snapshot": snapshot, "suggestions": decision.suggestions,
                  "excluded": decision.excluded, "errors": decision.errors})


_R = "/api/v1/rules"
routes = [
    Route(f"{_R}/fields", planner(fields, edit=False), methods=["GET"]),
    Route(f"{_R}/actions", planner(list_actions, edit=False), methods=["GET"]),
    Route(f"{_R}/actions", planner(create_action), methods=["POST"]),
    Route(f"{_R}/actions/{{action_id}}", planner(get_action, edit=False), methods=["GET"]),
    Route(f"{_R}/actions/{{action_id}}", planner(put_action), methods=["PUT"]),
    Route(f"{_R}/actions/{{action_id}}", planner(delete_action), methods=["DELETE"]),
    Route(f"{_R}/validate", planner(validate), methods=["POST"]),
    Route(f"{_R}/preview", planner(preview), methods=["POST"]),
    Route(f"{_R}/publish", planner(publish), methods=["POST"]),
    Route(f"{_R}/versions", planner(versions, edit=False), methods=["GET"]),
    Route(f"{_R}/versions/{{version}}", planner(version, edit=False), methods=["GET"]),
    Route(f"{_R}/audit", planner(audit, edit=False), methods=["GET"]),
    Route(f"{_R}/export", planner(export_catalogue, edit=False), methods=["GET"]),
    Route(f"{_R}/import", planner(import_catalogue), methods=["POST"]),
    Route(f"{_R}/test", planner(test_customer, edit=False), methods=["POST"]),
]
