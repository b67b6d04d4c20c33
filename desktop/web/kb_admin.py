"""The knowledge base in the admin API (``/api/v1/admin/kb/articles``), for the admin console.

As the rest of ``/api/v1/admin``: an admin's desk session (and ``X-CSRF-Token`` on changes),
JSON errors, every change audited in its own transaction (``kb.add``, ``kb.update``,
``kb.publish``, ``kb.unpublish``, ``kb.delete``; target ``kb:<id>``). An article's body is
Markdown, stored with its sanitised HTML (``desktop/kb/markdown.py``); the widget reads only
published articles (``desktop/web/kb_widget.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.staff import StaffSession
from desktop.kb.pages import PatternError, check_pattern
from desktop.web.admin import Name, actor_of, admin_endpoint, admin_operations
from desktop.web.client import ApiError, json_body

__all__ = ["ArticleIn", "openapi_components", "openapi_paths", "routes"]

Language = Literal["en", "zh-CN", "zh-TW"]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"\S")]
Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    #: Markdown (CommonMark, tables, strikethrough; no HTML, no images; links http, https, mailto).
    body: Annotated[str, msgspec.Meta(max_length=20_000)]
    language: Language
    tags: Annotated[list[Tag], msgspec.Meta(max_length=20)] = []
    #: Site pages it belongs to: paths (``/checkout*``) or http(s) URLs, ``*`` any characters.
    pages: Annotated[list[Pattern], msgspec.Meta(max_length=20)] = []
    #: Queues it belongs to; empty: all.
    queues: Annotated[list[Name], msgspec.Meta(max_length=30)] = []
    published: bool = False


BODIES = (ArticleIn,)


async def _values(request: Request) -> dict[str, Any]:
    data = await json_body(request, ArticleIn)
    try:
        pages = list(dict.fromkeys(check_pattern(p) for p in data.pages))
    except PatternError as exc:
        raise ApiError(422, "invalid", f"pages: {exc}") from None
    known = {q.name for q in await request.app.state.repo.list_queues()}
    unknown = sorted(set(data.queues) - known)
    if unknown:
        raise ApiError(422, "invalid", f"queues: no queue named {', '.join(unknown)}")
    return {"title": data.title.strip(), "body": data.body, "language": data.language,
            "tags": list(dict.fromkeys(t.strip() for t in data.tags)), "pages": pages,
            "queues": sorted(set(data.queues)), "published": data.published}


async def list_articles(request: Request, session: StaffSession) -> Response:
    language = request.query_params.get("language") or None
    if language not in (None, "en", "zh-CN", "zh-TW"):
        raise ApiError(422, "invalid", "language is en, zh-CN or zh-TW")
    return JSONResponse({"items": await request.app.state.repo.kb_articles(language=language)})


async def get_article(request: Request, session: StaffSession) -> Response:
    article = await request.app.state.repo.kb_article(request.path_params["article_id"])
    if article is None:
        raise ApiError(404, "not_found", "no such article")
    return JSONResponse(article)


async def add_article(request: Request, session: StaffSession) -> Response:
    _, after = await request.app.state.repo.kb_save_article(await _values(request), actor=actor_of(session))
    return JSONResponse(after, status_code=201)


async def put_article(request: Request, session: StaffSession) -> Response:
    _, after = await request.app.state.repo.kb_save_article(
        await _values(request), article_id=request.path_params["article_id"], actor=actor_of(session))
    return JSONResponse(after)


async def publish(request: Request, session: StaffSession) -> Response:
    return JSONResponse(await request.app.state.repo.kb_set_published(
        request.path_params["article_id"], True, actor=actor_of(session)))


async def unpublish(request: Request, session: StaffSession) -> Response:
    return JSONResponse(await request.app.state.repo.kb_set_published(
        request.path_params["article_id"], False, actor=actor_of(session)))


async def delete_article(request: Request, session: StaffSession) -> Response:
    await request.app.state.repo.kb_delete_article(request.path_params["article_id"], actor=actor_of(session))
    return Response(status_code=204)


_A = "/api/v1/admin/kb/articles"
_ONE = _A + "/{article_id}"
routes = [
    Route(_A, admin_endpoint(list_articles), methods=["GET"]),
    Route(_A, admin_endpoint(add_article), methods=["POST"]),
    Route(_ONE, admin_endpoint(get_article), methods=["GET"]),
    Route(_ONE, admin_endpoint(put_article), methods=["PUT"]),
    Route(_ONE, admin_endpoint(delete_article), methods=["DELETE"]),
    Route(f"{_ONE}/publish", admin_endpoint(publish), methods=["POST"]),
    Route(f"{_ONE}/unpublish", admin_endpoint(unpublish), methods=["POST"]),
]


def openapi_paths(op: Callable[..., dict[str, Any]], ok: Callable[..., dict[str, Any]],
                  ref: Callable[[str], dict[str, Any]], path: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """The knowledge base's admin paths, built with the document's own helpers."""
    article, one = ref("KbArticle"), [path("article_id")]
    items = {"type": "object", "properties": {"items": {"type": "array", "items": article}}}
    paths = {
        _A: {
            "get": op("Every knowledge-base article (without its body)", {"200": ok("Articles", items)},
                      parameters=[{"name": "language", "in": "query", "required": False,
                                   "schema": {"enum": ["en", "zh-CN", "zh-TW"]}}]),
            "post": op("Add an article (Markdown body, sanitised)", {"201": ok("Added", article)}, body="ArticleIn"),
        },
        _ONE: {
            "get": op("One article, with its Markdown and its sanitised HTML", {"200": ok("Article", article)},
                      parameters=one),
            "put": op("Replace an article", {"200": ok("Replaced", article)}, body="ArticleIn", parameters=one),
            "delete": op("Delete an article (its figures stay in the reports)",
                         {"204": {"description": "Deleted"}}, parameters=one),
        },
        f"{_ONE}/publish": {"post": op("Publish: the widget suggests it", {"200": ok("Published", article)},
                                       parameters=one)},
        f"{_ONE}/unpublish": {"post": op("Unpublish: the widget no longer shows it",
                                         {"200": ok("Unpublished", article)}, parameters=one)},
    }
    return admin_operations(paths)


def openapi_components() -> dict[str, Any]:
    strings = {"type": "array", "items": {"type": "string"}}
    return {"KbArticle": {"type": "object", "required": ["id", "title", "language", "published"], "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "language": {"enum": ["en", "zh-CN", "zh-TW"]},
        "tags": strings, "pages": strings, "queues": strings, "published": {"type": "boolean"},
        "summary": {"type": "string"}, "body": {"type": "string"}, "html": {"type": "string"},
        "created_at": {"type": "number"}, "updated_at": {"type": "number"}}}}
