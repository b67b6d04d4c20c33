"""The knowledge base for the widget: suggestions, an article to read, "did this solve it?".

Anyone may ask, so, as the widget's other endpoints: the site's origin must be one the centre
accepts (the console's sites, ``desktop/web/origins.py``, or the centre's own), and each client address has
``kb_reads_per_minute`` reads (429 with ``Retry-After`` past it). Only published articles
are ever shown. What a visitor does is recorded when the widget sends its visitor token
(``X-Otodesk-Visitor``): the view and the answer land on their timeline and in the reports.

- ``GET /api/kb/suggest?q=&url=&locale=&queue=``: up to three articles in ``locale``: those
  matching the topic ``q`` (full-text, ``desktop/repository/kb.py``), the ones belonging to
  the page ``url`` first; with no topic, those belonging to the page;
- ``GET /api/kb/articles/{id}``: the article's sanitised HTML (a view);
- ``POST /api/kb/articles/{id}/feedback`` ``{"solved": true|false}``: the customer's answer
  (``false``: "No, I still want a call").
"""

from __future__ import annotations

import math
import time

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from desktop.auth.staff import retry_after_header
from desktop.kb.pages import matches
from desktop.web.client import ApiError, error_response, json_body
from desktop.web.client import client_address
from desktop.web.mydata import VISITOR_HEADER
from desktop.web.origins import site_allowed
from signaling.limits import describe_wait

__all__ = ["SUGGESTIONS", "routes"]

SUGGESTIONS = 3
MAX_QUERY = 200  # characters of a topic searched
LOCALES = ("en", "zh-CN", "zh-TW")


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    solved: bool


async def _guard(request: Request) -> None:
    state = request.app.state
    settings = state.settings
    if not site_allowed(request):
        raise ApiError(403, "origin", "this site's origin may not use the widget here")
    wait = await state.bus.take(f"kb-reads:{client_address(request)}", window=60.0,
                                limit=settings.kb_reads_per_minute)
    if wait > 0:
        raise _RateLimited(wait)


class _RateLimited(Exception):
    def __init__(self, wait: float):
        self.wait = wait


def _public(handler):
    async def run(request: Request) -> Response:
        try:
            await _guard(request)
            return await handler(request)
        except _RateLimited as limited:
            return JSONResponse({"error": {"code": "rate_limited", "retry_after": math.ceil(limited.wait),
                                           "message": f"too many reads; try again {describe_wait(limited.wait)}"}},
                                status_code=429, headers=retry_after_header(limited.wait))
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
    return run


def _locale(request: Request) -> str:
    locale = request.query_params.get("locale") or "en"
    if locale not in LOCALES:
        raise ApiError(422, "invalid", "locale is en, zh-CN or zh-TW")
    return locale


def _for_queue(article: dict, queue: str | None) -> bool:
    return not queue or not article["queues"] or queue in article["queues"]


async def suggest(request: Request) -> Response:
    params = request.query_params
    locale, topic = _locale(request), (params.get("q") or "")[:MAX_QUERY]
    url, queue = (params.get("url") or "")[:2048], params.get("queue") or None
    repo = request.app.state.repo
    if topic.strip():
        # The queue in the query: filtered after a bounded top 20, its articles could be lost.
        found = await repo.kb_search(topic, language=locale, queue=queue, limit=20)
        # The page's own articles first, then the rank (a stable sort keeps it within each).
        found.sort(key=lambda a: not matches(a["pages"], url))
    else:
        found = [a for a in await repo.kb_page_articles(language=locale) if matches(a["pages"], url)]
    items = [{"id": a["id"], "title": a["title"], "summary": a["summary"]}
             for a in found if _for_queue(a, queue)][:SUGGESTIONS]
    return JSONResponse({"items": items}, headers={"Cache-Control": "no-store"})


async def _visitor(request: Request) -> tuple[str, str] | None:
    """(visitor id, customer id) of the widget's visitor token, or None (not recorded)."""
    state = request.app.state
    visitor_id = state.signer.read_visitor(request.headers.get(VISITOR_HEADER))
    if visitor_id is None or await state.repo.visitor_revoked(visitor_id):
        return None
    # A signed token is a visitor, known yet or not (as the socket, which touches it too).
    visitor = await state.repo.touch_visitor(visitor_id, time.time())
    return visitor.id, visitor.customer_id


async def _published(request: Request) -> dict:
    article = await request.app.state.repo.kb_article(request.path_params["article_id"][:64])
    if article is None or not article["published"]:
        raise ApiError(404, "not_found", "no such article")
    return article


async def read_article(request: Request) -> Response:
    article = await _published(request)
    who = await _visitor(request)
    if who is not None:
        await request.app.state.repo.kb_record(article_id=article["id"], title=article["title"], visitor_id=who[0],
                                               customer_id=who[1], kind="view")
    return JSONResponse({key: article[key] for key in ("id", "title", "html", "language")},
                        headers={"Cache-Control": "no-store"})


async def feedback(request: Request) -> Response:
    article = await _published(request)
    body = await json_body(request, FeedbackIn, limit=1024)
    who = await _visitor(request)
    if who is None:
        raise ApiError(401, "unauthorized", "send the widget's visitor token in X-Otodesk-Visitor")
    await request.app.state.repo.kb_record(article_id=article["id"], title=article["title"], visitor_id=who[0],
                                           customer_id=who[1], kind="solved" if body.solved else "unsolved")
    return Response(status_code=204)


routes = [
    Route("/api/kb/suggest", _public(suggest), methods=["GET"]),
    Route("/api/kb/articles/{article_id}", _public(read_article), methods=["GET"]),
    Route("/api/kb/articles/{article_id}/feedback", _public(feedback), methods=["POST"]),
]
