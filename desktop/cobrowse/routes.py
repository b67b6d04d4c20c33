"""HTTP routes of co-browse: the supervisor's watch page and the document library.

``POST /api/documents?name=<file name>`` (agents; the raw file as the body, the desk's CSRF
token in ``X-CSRF-Token``) → 201 and the document, or 413 / 415 / 400 with
``{"error": code, "message": ...}``; ``&customer_id=<id>`` makes it that customer's own
(pushed only to them, erased with them). ``GET /api/documents[?customer_id=<id>]`` lists
the site-wide library (and that customer's documents first).
``GET /documents/<id>`` serves one to an agent (session cookie) or a customer (``?t=``,
the signed link a push carries).
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from desktop.auth.locales import page_locale
from desktop.auth.agents import SUPERVISOR_ROLES, agent_public
from desktop.auth.staff import BadCsrf, NotSignedIn, StaffRefused, StaffSession, current_agent, staff_only
from desktop.cobrowse.documents import (
    DocumentError,
    DocumentLibrary,
    DocumentTooLarge,
    LinkSigner,
)

__all__ = ["routes"]


def _watch_refused(request: Request, refusal: StaffRefused) -> Response:
    if isinstance(refusal, NotSignedIn):
        return RedirectResponse(f"/login?next={request.url.path}%3F{request.url.query}", status_code=303)
    return Response("Watching a co-browse from this page is for supervisors; agents use the desk.",
                    status_code=403)


@staff_only(roles=SUPERVISOR_ROLES, refused=_watch_refused)
async def watch(request: Request, session: StaffSession) -> Response:
    """``/cobrowse/watch?visitor=<id>``: a live mirror of that customer's shared page."""
    agent = session.agent
    visitor = request.query_params.get("visitor", "")[:200]
    return request.app.state.templates.TemplateResponse(request, "cobrowse_watch.html", {
        "agent": agent_public(agent), "visitor": visitor, "locale": page_locale(request, agent),
        "locale_choice": agent.locale or "",
        "csrf_token": request.app.state.signer.csrf_token(session.session_id)})


def library(request: Request) -> DocumentLibrary:
    return DocumentLibrary(request.app.state.settings.var_dir / "documents")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _refused(request: Request, refusal: StaffRefused) -> Response:
    if isinstance(refusal, BadCsrf):
        return _error(403, "bad_csrf", "missing or wrong X-CSRF-Token")
    return _error(401, "unauthorized", "log in first")


@staff_only(csrf=True, refused=_refused)
async def upload(request: Request, session: StaffSession) -> Response:
    agent = session.agent
    documents = library(request)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > documents.max_bytes:
        return _error(413, DocumentTooLarge.code, f"the file has {declared} bytes; at most {documents.max_bytes} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > documents.max_bytes:
            return _error(413, DocumentTooLarge.code, f"the file is larger than {documents.max_bytes} bytes")
    name = request.query_params.get("name", "document")[:200]
    customer_id = request.query_params.get("customer_id") or None
    if customer_id is not None:
        customer = await request.app.state.repo.resolve_customer(customer_id[:64])
        if customer is None:
            return _error(404, "not_found", "no such customer")
        customer_id = customer.id  # a merged record's documents go to the surviving one
    try:
        document = await asyncio.to_thread(documents.add, bytes(body), name=name, uploaded_by=agent.id,
                                           customer_id=customer_id)
    except DocumentError as exc:
        return _error(exc.status, exc.code, str(exc))
    return JSONResponse(document.public(), status_code=201)


@staff_only(refused=_refused)
async def list_documents(request: Request, session: StaffSession) -> Response:
    customer_id = request.query_params.get("customer_id") or None
    documents = await asyncio.to_thread(library(request).list, customer_id=customer_id)
    return JSONResponse({"documents": [d.public() for d in documents]})


def _disposition(kind: str, name: str) -> str:
    """``inline`` / ``attachment`` with the name: an ASCII fallback and the UTF-8 name (RFC 6266);
    headers are Latin-1, so a name in another script must not reach them raw (it was a 500)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f'{kind}; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'


async def download(request: Request) -> Response:
    document_id = request.path_params["document_id"]
    token = request.query_params.get("t")
    allowed = LinkSigner(request.app.state.settings.secret_key).check(document_id, token) if token \
        else await current_agent(request) is not None
    if not allowed:
        return _error(403, "forbidden", "this link has expired or is not valid")
    documents = library(request)
    document = await asyncio.to_thread(documents.get, document_id)
    if document is None:
        return _error(404, "not_found", "no such document")
    disposition = "attachment" if request.query_params.get("download") else "inline"
    return FileResponse(documents.path(document), media_type=document.media_type, headers={
        "Content-Disposition": _disposition(disposition, document.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
        "Access-Control-Allow-Origin": "*",  # widgets on other origins fetch it (the link is the key)
    })


routes = [
    Route("/cobrowse/watch", watch, methods=["GET"]),
    Route("/api/documents", upload, methods=["POST"]),
    Route("/api/documents", list_documents, methods=["GET"]),
    Route("/documents/{document_id}", download, methods=["GET"]),
]
