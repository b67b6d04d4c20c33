"""``/api/v1/admin/urgent-words``, ``/widget`` and ``/sites``: the console's centre settings.

- urgent words per language (en, zh-CN, zh-TW): a request whose topic or message holds one
  is routed first (``desktop/routing/priority.py``; Chinese words match inside a run of text);
- the widget's look: its colour (``#rrggbb``), corner and greeting per language;
- the sites (``scheme://host[:port]``) whose pages may embed the widget.

Each change is stored and audited in one transaction (``desktop/repository/centre.py``), then
every process reads the settings again (``desktop/leader/live_centre.py``): the router's
urgent words, the widget's welcome and the origin checks follow at once, with no restart.
Until an admin first saves one, the environment's value holds (``OTODESK_URGENT_WORDS``,
``OTODESK_ALLOWED_ORIGINS``). Bad input is a 422 naming the item (``invalid``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.staff import StaffSession
from desktop.centre.config import (
    LANGUAGES, MAX_GREETING, MAX_ORIGINS, MAX_WORD, MAX_WORDS, CentreSettingError, check_origins,
    check_urgent_words, check_widget,
)
from desktop.web.admin import actor_of, admin_endpoint, admin_operations
from desktop.web.client import ApiError, json_body

__all__ = ["BODIES", "openapi_components", "openapi_paths", "routes"]

Word = Annotated[str, msgspec.Meta(max_length=MAX_WORD)]
Words = Annotated[list[Word], msgspec.Meta(max_length=MAX_WORDS)]
Greeting = Annotated[str, msgspec.Meta(max_length=MAX_GREETING)]


class UrgentWordsIn(msgspec.Struct, forbid_unknown_fields=True):
    #: Every language's list (en, zh-CN, zh-TW); a language left out has no urgent words.
    words: dict[Literal["en", "zh-CN", "zh-TW"], Words]


class WidgetLookIn(msgspec.Struct, forbid_unknown_fields=True):
    accent: Annotated[str, msgspec.Meta(max_length=7)]
    position: Literal["bottom-right", "bottom-left"] = "bottom-right"
    greeting: dict[Literal["en", "zh-CN", "zh-TW"], Greeting] = {}


class SitesIn(msgspec.Struct, forbid_unknown_fields=True):
    origins: Annotated[list[Annotated[str, msgspec.Meta(max_length=300)]], msgspec.Meta(max_length=MAX_ORIGINS)]


BODIES = (UrgentWordsIn, WidgetLookIn, SitesIn)


def _words_json(config) -> dict[str, Any]:
    return {"words": {language: list(config.urgent_words[language]) for language in LANGUAGES}}


def _sites_json(config) -> dict[str, Any]:
    return {"origins": list(config.origins)}


async def _save(request: Request, session: StaffSession, key: str, value: Any, default: Any):
    """Store, audit (``default``: what a key never saved holds), and have every process (this
    one first) read the settings again."""
    state = request.app.state
    await state.repo.admin_save_setting(key, value, actor=actor_of(session), default=default)
    await state.centre.announce()
    return state.centre.current()


def _checked(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except CentreSettingError as exc:
        raise ApiError(422, "invalid", str(exc)) from None


async def get_urgent_words(request: Request, session: StaffSession) -> Response:
    return JSONResponse(_words_json(request.app.state.centre.current()))


async def put_urgent_words(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, UrgentWordsIn)
    words = _checked(check_urgent_words, data.words)
    default = _words_json(request.app.state.centre.defaults())["words"]
    return JSONResponse(_words_json(await _save(request, session, "urgent_words", words, default)))


async def get_widget(request: Request, session: StaffSession) -> Response:
    return JSONResponse(request.app.state.centre.current().widget_json())


async def put_widget(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, WidgetLookIn)
    look = _checked(check_widget, accent=data.accent, position=data.position, greeting=data.greeting)
    default = request.app.state.centre.defaults().widget_json()
    return JSONResponse((await _save(request, session, "widget", look, default)).widget_json())


async def get_sites(request: Request, session: StaffSession) -> Response:
    return JSONResponse(_sites_json(request.app.state.centre.current()))


async def put_sites(request: Request, session: StaffSession) -> Response:
    data = await json_body(request, SitesIn)
    origins = _checked(check_origins, data.origins)
    default = _sites_json(request.app.state.centre.defaults())["origins"]
    return JSONResponse(_sites_json(await _save(request, session, "origins", origins, default)))


routes = [
    Route("/api/v1/admin/urgent-words", admin_endpoint(get_urgent_words), methods=["GET"]),
    Route("/api/v1/admin/urgent-words", admin_endpoint(put_urgent_words), methods=["PUT"]),
    Route("/api/v1/admin/widget", admin_endpoint(get_widget), methods=["GET"]),
    Route("/api/v1/admin/widget", admin_endpoint(put_widget), methods=["PUT"]),
    Route("/api/v1/admin/sites", admin_endpoint(get_sites), methods=["GET"]),
    Route("/api/v1/admin/sites", admin_endpoint(put_sites), methods=["PUT"]),
]


def openapi_paths(op: Callable[..., dict[str, Any]], ok: Callable[..., dict[str, Any]],
                  ref: Callable[[str], dict[str, Any]], path: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    invalid = {"422": ok("A bad item, named in the message (code invalid)", ref("Error"))}
    paths = {
        "/api/v1/admin/urgent-words": {
            "get": op("The urgent words of each language", {"200": ok("Urgent words", ref("AdminUrgentWords"))}),
            "put": op("Replace the urgent words; the router uses them at once",
                      {"200": ok("Saved", ref("AdminUrgentWords")), **invalid}, body="UrgentWordsIn"),
        },
        "/api/v1/admin/widget": {
            "get": op("The widget's colour, corner and greetings", {"200": ok("The look", ref("AdminWidgetLook"))}),
            "put": op("Change the widget's look; widgets opened from now on show it",
                      {"200": ok("Saved", ref("AdminWidgetLook")), **invalid}, body="WidgetLookIn"),
        },
        "/api/v1/admin/sites": {
            "get": op("The sites whose pages may embed the widget", {"200": ok("Sites", ref("AdminSites"))}),
            "put": op("Replace the sites (scheme://host[:port]); every process's origin checks follow at once",
                      {"200": ok("Saved", ref("AdminSites")), **invalid}, body="SitesIn"),
        },
    }
    return admin_operations(paths)


def openapi_components() -> dict[str, Any]:
    strings = {"type": "array", "items": {"type": "string"}}
    per_language = {language: strings for language in LANGUAGES}
    return {
        "AdminUrgentWords": {"type": "object", "required": ["words"], "properties": {
            "words": {"type": "object", "properties": per_language}}},
        "AdminWidgetLook": {"type": "object", "required": ["accent", "position", "greeting"], "properties": {
            "accent": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
            "position": {"enum": ["bottom-right", "bottom-left"]},
            "greeting": {"type": "object", "properties": {language: {"type": "string"} for language in LANGUAGES}}}},
        "AdminSites": {"type": "object", "required": ["origins"], "properties": {"origins": strings}},
    }
