"""The admin console's queues: ``/api/v1/admin/queues`` (list, create or replace, delete).

A queue is its name, title, skills, answer target, offer and wrap-up times, outcomes, business
and calling hours, and (migration 0870) the **languages** its agents speak, the **topics** the
widget offers for it and its **recording** policy. Every change is audited in the transaction
that makes it and reaches every process at once: the leader re-reads the queues
(``queues_changed``), the widget reads them afresh on every open, and the voice anchor reads
a queue's recording policy when a call is set up.

**Deleting** a queue never loses a customer: in one transaction its waiting callbacks (scheduled,
queued or ringing) move to a fallback (the admin's choice, else ``general`` or the first other
queue), then the leader moves them in the router (``queue_removed``), offers them to the
fallback's agents and tells each customer (``callback_status.moved_from``). The only queue
can't be deleted (409 ``last_queue``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.staff import StaffSession
from desktop.repository.admin import LastQueue, queue_json
from desktop.routing import commands
from desktop.routing.calling import parse_window
from desktop.routing.hours import HoursError, parse_hours
from desktop.web.admin import (
    QUEUE_NAME, Seconds, Skills, Title, WrapSeconds, actor_of, admin_endpoint, admin_operations,
)
from desktop.web.client import ApiError, json_body

__all__ = ["BODIES", "canonical_language", "openapi_components", "openapi_paths", "routes"]

Disposition = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"\S")]
#: A BCP 47 tag as people write them: a language, then a script, a region or a variant.
LanguageTag = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
TopicText = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
Recording = Literal["off", "consent", "on"]


class Topic(msgspec.Struct, forbid_unknown_fields=True):
    """A topic the widget offers: ``text`` in any language the customer's has no translation for."""

    text: TopicText
    #: ``{"zh-CN": "付款失败"}``: the same topic in a language, by BCP 47 tag.
    translations: Annotated[dict[LanguageTag, TopicText], msgspec.Meta(max_length=10)] = {}


class QueueIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    skills: Skills = []
    service_level_target: Seconds = 30.0
    offer_timeout: Seconds | None = None
    wrapup_timeout: WrapSeconds | None = None
    #: ``desktop/routing/hours.py``: {"weekly": {...}, "exceptions": [...]}; null: always open.
    hours: dict[str, Any] | None = None
    sort_order: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    #: The wrap-up outcomes agents choose from; null: the default list.
    dispositions: Annotated[list[Disposition], msgspec.Meta(min_length=1, max_length=30)] | None = None
    #: When its phone callbacks may ring, ``HH:MM-HH:MM`` in the number's local time, ``*``
    #: any time; null: OTODESK_CALLING_HOURS (desktop/routing/calling.py).
    calling_hours: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    #: The languages its agents speak, best first; a widget in one of them picks this queue
    #: when the site names none.
    languages: Annotated[list[LanguageTag], msgspec.Meta(max_length=20)] = []
    #: The topics the widget offers for it (the customer may still type their own).
    topics: Annotated[list[Topic], msgspec.Meta(max_length=20)] = []
    #: ``off``, ``consent`` (asked first) or ``on``; null: OTODESK_VOICE_RECORDING decides.
    recording: Recording | None = None


class QueueDelete(msgspec.Struct, forbid_unknown_fields=True):
    #: Where its waiting customers go; null: ``general`` if there, else the first other queue.
    fallback: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")] | None = None


BODIES = (QueueIn, QueueDelete)


def canonical_language(tag: str) -> str:
    """``zh-cn`` → ``zh-CN``, ``ZH-hant-tw`` → ``zh-Hant-TW``: one spelling, so languages compare."""
    first, *rest = tag.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script
        elif len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # a region
        else:
            parts.append(part.lower())
    return "-".join(parts)


def _topics(topics: list[Topic]) -> list[dict[str, Any]] | None:
    out, seen = [], set()
    for topic in topics:
        text = topic.text.strip()
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        out.append({"text": text, "translations": {
            canonical_language(tag): words.strip() for tag, words in topic.translations.items()}})
    return out or None


async def list_queues(request: Request, session: StaffSession) -> Response:
    state = request.app.state
    return JSONResponse({"items": [queue_json(q) for q in await state.repo.list_queues()],
                         "time_zone": state.settings.time_zone})


async def put_queue(request: Request, session: StaffSession) -> Response:
    name = request.path_params["name"]
    if not QUEUE_NAME.match(name):
        raise ApiError(422, "invalid", "a queue name is 1 to 40 lowercase letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit")
    data = await json_body(request, QueueIn)
    hours = parse_hours(data.hours).to_json()  # checked, and stored in one canonical form
    calling_hours = None
    if data.calling_hours is not None:
        calling_hours = data.calling_hours.strip()
        try:
            parse_window(calling_hours)
        except HoursError as exc:
            raise ApiError(422, "invalid_hours", f"calling_hours: {exc}") from None
        calling_hours = calling_hours or "*"  # empty text: any time, as the setting reads it
    dispositions = None
    if data.dispositions is not None:
        dispositions = list(dict.fromkeys(item.strip() for item in data.dispositions))
    languages = list(dict.fromkeys(canonical_language(tag) for tag in data.languages)) or None
    values = dict(name=name, title=data.title.strip(), skills=sorted(set(data.skills)),
                  service_level_target=data.service_level_target, sort_order=data.sort_order,
                  offer_timeout=data.offer_timeout, wrapup_timeout=data.wrapup_timeout, hours=hours,
                  dispositions=dispositions, calling_hours=calling_hours, languages=languages,
                  topics=_topics(data.topics), recording=data.recording)
    before, after = await request.app.state.repo.admin_save_queue(values, actor=actor_of(session))
    await request.app.state.router.notify(commands.QueuesChanged())
    return JSONResponse(queue_json(after), status_code=200 if before else 201)


async def delete_queue(request: Request, session: StaffSession) -> Response:
    name = request.path_params["name"]
    body = await request.body()
    data = await json_body(request, QueueDelete) if body.strip() else QueueDelete()
    fallback = request.query_params.get("fallback") or data.fallback
    try:
        before, target, moved = await request.app.state.repo.admin_delete_queue(
            name, fallback=fallback, actor=actor_of(session))
    except LastQueue as exc:
        raise ApiError(409, "last_queue", str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    # Committed: the leader moves them in the router too and tells each customer.
    await request.app.state.router.notify(commands.QueueRemoved(name=name, fallback=target))
    return JSONResponse({"deleted": queue_json(before), "fallback": target, "moved": len(moved)})


_Q = "/api/v1/admin/queues/{name}"
routes = [
    Route("/api/v1/admin/queues", admin_endpoint(list_queues), methods=["GET"]),
    Route(_Q, admin_endpoint(put_queue), methods=["PUT"]),
    Route(_Q, admin_endpoint(delete_queue), methods=["DELETE"]),
]


def openapi_paths(op: Callable[..., dict[str, Any]], ok: Callable[..., dict[str, Any]],
                  ref: Callable[[str], dict[str, Any]], path: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """The queues' paths, built with the document's own helpers (desktop/web/api/openapi.py)."""
    items = {"type": "object", "properties": {"items": {"type": "array"}}}
    queue_name = [{**path("name"), "schema": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.-]{0,39}$"}}]
    deleted = {"type": "object", "required": ["fallback", "moved"], "properties": {
        "deleted": ref("AdminQueue"), "fallback": {"type": "string"},
        "moved": {"type": "integer", "description": "waiting callbacks moved to the fallback"}}}
    paths = {
        "/api/v1/admin/queues": {"get": op("Every queue, with the centre's time zone", {"200": ok("Queues", items)})},
        _Q: {"put": op("Create or replace a queue; the router takes it at once",
                       {"200": ok("Replaced", ref("AdminQueue")), "201": ok("Created", ref("AdminQueue"))},
                       body="QueueIn", parameters=queue_name),
             "delete": op("Delete a queue; its waiting callbacks move to the fallback (409 last_queue "
                          "for the only queue)", {"200": ok("Deleted", deleted)}, body="QueueDelete",
                          parameters=[*queue_name, {"name": "fallback", "in": "query", "required": False,
                                                    "schema": {"type": "string"},
                                                    "description": "as the body's fallback"}])},
    }
    paths[_Q]["delete"]["requestBody"]["required"] = False
    return admin_operations(paths)


def openapi_components() -> dict[str, Any]:
    nullable_number = {"type": ["number", "null"]}
    strings = {"type": "array", "items": {"type": "string"}}
    return {"AdminQueue": {"type": "object", "required": ["name", "title"], "properties": {
        "name": {"type": "string"}, "title": {"type": "string"}, "skills": strings,
        "service_level_target": {"type": "number"}, "sort_order": {"type": "integer"},
        "offer_timeout": nullable_number, "wrapup_timeout": nullable_number,
        "hours": {"type": ["object", "null"]}, "dispositions": {"type": ["array", "null"], "items": {"type": "string"}},
        "calling_hours": {"type": ["string", "null"]}, "languages": strings,
        "topics": {"type": "array", "items": {"$ref": "#/components/schemas/Topic"}},
        "recording": {"enum": ["off", "consent", "on", None],
                      "description": "null: OTODESK_VOICE_RECORDING decides"}}}}
