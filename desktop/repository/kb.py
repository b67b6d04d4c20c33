"""The knowledge base at rest: articles with their audit, full-text search, what visitors did.

Search is the database's own full-text index over the terms of :mod:`desktop.kb.terms`
(words, and CJK bigrams), written in the article's own transaction (the query:
:mod:`desktop.repository.kb_search`):

- SQLite: the FTS5 table ``kb_fts`` (id, title terms, body terms), ranked by ``bm25`` with the
  title counting four times the body;
- PostgreSQL: the generated ``search`` tsvector (every term, without positions) under a GIN
  index, ranked by ``ts_rank`` of the title's own vector (``search_title``, under its own GIN
  index to find the title's candidates) first, then of ``search``.

A query asks for all of its terms (AND), then, when too few have them all, for any (OR); the
last word also as a prefix while it is being typed; the rank puts the articles that have more
of them, and in the title, first, over a bounded set of candidates.

What a visitor does with an article is a ``kb_events`` row (the reports) and an entry on the
customer's timeline (``kb_view``, ``kb_solved``, ``kb_unsolved``, ``kb_call``), in one transaction.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import String, bindparam, cast, delete, desc, select, text, update
from sqlalchemy.engine import Connection

from desktop.kb.markdown import plain_text, render
from desktop.kb.terms import index_terms, query_terms
from desktop.repository import models
from desktop.repository._store import ADMIN_AUDIT, CONTACT_EVENTS, Store
from desktop.repository.errors import NotFound
from desktop.repository.kb_search import search

__all__ = ["EVENT_KINDS", "LANGUAGES", "KnowledgeBase", "article_json", "derived_columns", "index_article"]

ARTICLES = models.KbArticle.__table__
EVENTS = models.KbEvent.__table__
LANGUAGES = ("en", "zh-CN", "zh-TW")
#: What a visitor did, and the timeline entry it makes.
EVENT_KINDS = {"view": "kb_view", "solved": "kb_solved", "unsolved": "kb_unsolved", "call": "kb_call"}
SUMMARY_CHARS = 160
CALL_WINDOW = 3600.0  # seconds: a call asked this soon after reading an article counts for it
# Every call_me asks it: built once (no construction nor cache key to work out each time).
_READ_BEFORE_CALL = select(EVENTS.c.article_id).where(
    EVENTS.c.visitor_id == bindparam("visitor_id"), EVENTS.c.kind == "view",
    EVENTS.c.at >= bindparam("since")).group_by(EVENTS.c.article_id)


def article_json(row: Any, *, full: bool = True) -> dict[str, Any]:
    """An article as the admin API shows it (``full``: with its body and HTML)."""
    m = row._mapping
    out = {"id": m["id"], "title": m["title"], "language": m["language"], "tags": list(m["tags"]),
           "pages": list(m["pages"]), "queues": list(m["queues"]), "published": bool(m["published"]),
           "summary": m["summary"], "created_at": m["created_at"], "updated_at": m["updated_at"]}
    if full:
        out.update(body=m["body"], html=m["html"])
    return out


def _audit_json(article: dict[str, Any] | None) -> dict[str, Any] | None:
    if article is None:
        return None
    return {key: value for key, value in article.items() if key not in ("html", "summary")}


def derived_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The stored forms made from what the admin typed: HTML, summary, index terms."""
    words = plain_text(values["body"])
    title_terms = index_terms(" ".join([values["title"], *values["tags"]]))
    # First line: the title's (and tags') terms, weighted higher (see the migration).
    return {"html": render(values["body"]), "summary": plain_text(values["body"], limit=SUMMARY_CHARS),
            "terms": f"{title_terms}\n{index_terms(words, singles=False)}"}


def index_article(conn: Connection, article_id: str, terms: str | None, *, new: bool = False) -> None:
    """Keep SQLite's FTS5 table in step (PostgreSQL's column is generated). ``new``: nothing to
    remove first (the id is an unindexed column: removing scans the table, so a load of
    10,000 new articles did it 10,000 times, 225 s)."""
    if conn.dialect.name == "postgresql":
        return
    if not new:
        conn.execute(text("DELETE FROM kb_fts WHERE id = :id"), {"id": article_id})
    if terms is not None:
        title, _, body = terms.partition("\n")
        conn.execute(text("INSERT INTO kb_fts (id, title, body) VALUES (:id, :title, :body)"),
                     {"id": article_id, "title": title, "body": body})


def _audit(conn: Connection, now: float, actor: str, action: str, article_id: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    conn.execute(ADMIN_AUDIT.insert().values(at=now, actor=actor, action=action, target=f"kb:{article_id}",
                                             before=_audit_json(before), after=_audit_json(after)))


def _get(conn: Connection, article_id: str) -> Any:
    row = conn.execute(select(ARTICLES).where(ARTICLES.c.id == article_id)).first()
    if row is None:
        raise NotFound(f"No article with id {article_id!r}")
    return row


class KnowledgeBase(Store):
    async def kb_save_article(self, values: dict[str, Any], *, actor: str, article_id: str | None = None,
                              now: float | None = None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Create (``article_id`` None) or replace an article: ``values`` holds title, body,
        language, tags, pages, queues, published. Returns (before, after); audited
        (``kb.add`` / ``kb.update``). :class:`NotFound` for an unknown id."""
        now = time.time() if now is None else now
        stored = {**values, **derived_columns(values), "updated_at": now}

        def write(conn: Connection) -> tuple[dict[str, Any] | None, dict[str, Any]]:
            if article_id is None:
                new_id = uuid.uuid4().hex
                row = conn.execute(ARTICLES.insert().values(id=new_id, created_at=now, **stored)
                                   .returning(ARTICLES)).one()
                before = None
            else:
                before = article_json(_get(conn, article_id))
                row = conn.execute(update(ARTICLES).where(ARTICLES.c.id == article_id).values(stored)
                                   .returning(ARTICLES)).one()
            after = article_json(row)
            index_article(conn, after["id"], stored["terms"], new=before is None)
            _audit(conn, now, actor, "kb.add" if before is None else "kb.update", after["id"], before, after)
            return before, after

        return await self._db.write(write)

    async def kb_set_published(self, article_id: str, published: bool, *, actor: str,
                               now: float | None = None) -> dict[str, Any]:
        """Publish or unpublish (audited ``kb.publish`` / ``kb.unpublish``)."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> dict[str, Any]:
            before = article_json(_get(conn, article_id))
            row = conn.execute(update(ARTICLES).where(ARTICLES.c.id == article_id)
                               .values(published=published, updated_at=now).returning(ARTICLES)).one()
            after = article_json(row)
            _audit(conn, now, actor, "kb.publish" if published else "kb.unpublish", article_id, before, after)
            return after

        return await self._db.write(write)

    async def kb_delete_article(self, article_id: str, *, actor: str, now: float | None = None) -> dict[str, Any]:
        """Delete an article and its index entry (audited ``kb.delete``, with what it was).
        Its events stay: the reports keep counting what it did."""
        now = time.time() if now is None else now

        def write(conn: Connection) -> dict[str, Any]:
            before = article_json(_get(conn, article_id))
            conn.execute(delete(ARTICLES).where(ARTICLES.c.id == article_id))
            index_article(conn, article_id, None)
            _audit(conn, now, actor, "kb.delete", article_id, before, None)
            return before

        return await self._db.write(write)

    async def kb_articles(self, *, language: str | None = None) -> list[dict[str, Any]]:
        """Every article (no body), newest change first; for the admin console."""
        query = select(*[c for c in ARTICLES.c if c.name not in ("body", "html", "terms")]) \
            .order_by(desc(ARTICLES.c.updated_at))
        if language is not None:
            query = query.where(ARTICLES.c.language == language)
        rows = await self._db.read(lambda conn: list(conn.execute(query)))
        return [article_json(row, full=False) for row in rows]

    async def kb_article(self, article_id: str) -> dict[str, Any] | None:
        row = await self._db.read_fast(lambda conn: conn.execute(
            select(ARTICLES).where(ARTICLES.c.id == article_id)).first())
        return article_json(row) if row is not None else None

    async def kb_search(self, query: str, *, language: str, queue: str | None = None,
                        limit: int = 20) -> list[dict[str, Any]]:
        """Published articles in ``language`` matching ``query``, best first (no body); with
        ``queue``, only those for it (naming it, or no queue at all)."""
        terms, prefix = query_terms(query)
        if not terms:
            return []
        return await self._db.read(search, terms, prefix, language, limit, queue=queue)  # a transaction: see search()

    async def kb_page_articles(self, *, language: str) -> list[dict[str, Any]]:
        """Published articles in ``language`` that name pages (no body), newest first: the
        caller matches the customer's page against them (``desktop/kb/pages.py``)."""
        c = ARTICLES.c
        query = (select(c.id, c.title, c.summary, c.pages, c.queues, c.updated_at)
                 .where(c.language == language, c.published.is_(True), cast(c.pages, String) != "[]")
                 .order_by(desc(c.updated_at)).limit(500))
        rows = await self._db.read_fast(lambda conn: list(conn.execute(query)))
        return [dict(row._mapping) for row in rows]

    async def kb_record(self, *, article_id: str, title: str, visitor_id: str, customer_id: str, kind: str,
                        now: float | None = None) -> None:
        """Note what a visitor did with an article (``view``, ``solved``, ``unsolved``): for
        the reports and on the customer's timeline."""
        if kind not in EVENT_KINDS or kind == "call":
            raise ValueError(f"{kind!r} is not view, solved or unsolved")
        now = time.time() if now is None else now

        def write(conn: Connection) -> None:
            conn.execute(EVENTS.insert().values(article_id=article_id, visitor_id=visitor_id, kind=kind, at=now))
            conn.execute(CONTACT_EVENTS.insert().values(
                customer_id=customer_id, visitor_id=visitor_id, callback_id=None, agent_id=None,
                kind=EVENT_KINDS[kind], channel="web", at=now,
                data={"article_id": article_id, "title": title, "summary": title}))

        await self._db.write(write)

    async def kb_note_call(self, *, visitor_id: str, customer_id: str, callback_id: str,
                           now: float | None = None, window: float = CALL_WINDOW) -> list[str]:
        """A call was asked: count it for each article the visitor read in the last ``window``
        seconds (returns their ids; usually none)."""
        now = time.time() if now is None else now

        def views(conn: Connection) -> list[str]:
            return list(conn.execute(_READ_BEFORE_CALL, {"visitor_id": visitor_id, "since": now - window}).scalars())

        # Looked up first, without a transaction: usually nothing was read, and then a write
        # transaction (BEGIN IMMEDIATE on SQLite: the write lock) would be spent on one SELECT.
        if not await self._db.read_fast(views):
            return []

        def write(conn: Connection) -> list[str]:
            read = views(conn)
            titles = dict(conn.execute(select(ARTICLES.c.id, ARTICLES.c.title).where(ARTICLES.c.id.in_(read)))
                          .all()) if read else {}
            for article_id in read:
                conn.execute(EVENTS.insert().values(article_id=article_id, visitor_id=visitor_id, kind="call", at=now))
                title = titles.get(article_id, "")
                conn.execute(CONTACT_EVENTS.insert().values(
                    customer_id=customer_id, visitor_id=visitor_id, callback_id=callback_id, agent_id=None,
                    kind="kb_call", channel="web", at=now,
                    data={"article_id": article_id, "title": title, "summary": title}))
            return read

        return await self._db.write(write)

    async def kb_deflection(self, start: float, end: float) -> list[dict[str, Any]]:
        """Per article, over ``[start, end)``: views, readers (distinct visitors), and the
        visitors who said solved, said they still wanted a call, and asked for one after
        reading; ``deflected``: readers who asked for no call (and ``solved_rate``,
        ``deflection_rate`` of readers). Most read first."""
        def read(conn: Connection) -> list[dict[str, Any]]:
            e = EVENTS.c
            rows = conn.execute(select(e.article_id, e.kind, e.visitor_id).where(e.at >= start, e.at < end)
                                .group_by(e.article_id, e.kind, e.visitor_id)).all()
            views = dict(conn.execute(select(e.article_id, text("count(*)")).select_from(EVENTS)
                                      .where(e.at >= start, e.at < end, e.kind == "view")
                                      .group_by(e.article_id)).all())
            ids = {row.article_id for row in rows}
            found = conn.execute(select(ARTICLES.c.id, ARTICLES.c.title, ARTICLES.c.language)
                                 .where(ARTICLES.c.id.in_(ids))).all() if ids else []
            return _deflection(rows, views, {row.id: (row.title, row.language) for row in found})

        return await self._db.read(read)


def _deflection(rows: list[Any], views: dict[str, int], titles: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    visitors: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        visitors[row.article_id][row.kind].add(row.visitor_id)
    out = []
    for article_id, kinds in visitors.items():
        readers = kinds["view"]
        called = kinds["call"]
        title, language = titles.get(article_id, ("(deleted)", ""))
        out.append({
            "article_id": article_id, "title": title, "language": language, "views": int(views.get(article_id, 0)),
            "readers": len(readers), "solved": len(kinds["solved"]), "still_wanted_call": len(kinds["unsolved"]),
            "calls_after_reading": len(called), "deflected": len(readers - called),
            "solved_rate": len(kinds["solved"] & readers) / len(readers) if readers else None,
            "deflection_rate": len(readers - called) / len(readers) if readers else None,
        })
    out.sort(key=lambda r: (-r["readers"], r["title"]))
    return out

