"""The knowledge base's full-text search: what a customer's topic finds, best first.

The terms come from :mod:`desktop.kb.terms` (words, and CJK bigrams). Two tiers:

1. articles that have **all** the terms (AND): what the customer asked, in full;
2. only when that finds fewer than ``limit``: articles with **any** of them (OR), after the
   first tier's. A Chinese sentence asks for the bigrams of its particles too (``我想退款怎么办``:
   ``想退``, ``怎么`` …), which no article has all of: it is tier 2 that finds it.

Each tier ranks a **bounded** set, never every match: a common word is in thousands of
articles and ranking reads each one's vector (~16 µs a row on PostgreSQL; p99 150 ms over
10,000 articles when every match was ranked). The set is the :data:`CANDIDATES` articles whose
title or tags have the most of the terms (found by the title's own index and ranked on the
title's small vector alone, so the best are in it), and :data:`CANDIDATES` more found by the
whole text's index (the first it gives on PostgreSQL, the newest written on SQLite). The
final rank is the same in both tiers: the title's matches first, then how many of the terms.
The widget's queue filters the candidates, before the bound (after it, a queue's articles
could all be below the top 20).

- PostgreSQL: GIN indexes on ``search`` (every term) and ``search_title``; ``ts_rank`` of the OR
  query, ``4 × title + whole``.
- SQLite: FTS5 ``kb_fts`` with the column filter ``{title}`` for the title's candidates;
  ``bm25`` with the title four times the body.

The last word, while being typed, is a prefix in both tiers (``paym`` → ``payment``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["CANDIDATES", "explain", "search"]

#: Articles ranked a tier, at most, for each of the title's index and the whole text's.
CANDIDATES = 100
_COLUMNS = "a.id, a.title, a.summary, a.pages, a.queues, a.updated_at"

# Only the indexes may find candidates: with "any 100 matches", PostgreSQL's planner takes a
# sequential scan that stops at the 100th, matching each row's vector on the way (~16 µs a
# row; 17 ms for a Chinese sentence of common bigrams, EXPLAIN ANALYZE), where the GIN
# bitmap stops after 100 rows' heap visits (0.7 ms). Sorting all the matches instead (the
# newest 100) reads every match's row: 15 ms when a particle's bigram is in 5,000 articles.
# So the search runs in a transaction with sequential scans off (SET LOCAL: that transaction
# only), and language and published are one expression (``(… AND language || '' = …) IS
# TRUE``) so that their b-tree is no way round either (each language's rows, matched one by
# one: what a tiny table's plan did). SQLite: FTS5 walks its index backwards by rowid
# (newest written first) for free.
# One text each, so the driver prepares it once (asyncpg's statement cache) and the planner
# sees the same shape: :match is the tier's query, :any the OR query (candidates' titles, rank).
_POSTGRES = text(
    f"SELECT {_COLUMNS}, 4 * ts_rank(a.search_title, q) + ts_rank(a.search, q) AS rank "
    "FROM kb_articles a, to_tsquery('simple', :any) q "
    "WHERE a.id IN ("
    " (SELECT t.id FROM kb_articles t WHERE t.search_title @@ to_tsquery('simple', :any)"
    "  AND t.search @@ to_tsquery('simple', :match) AND (t.published AND t.language || '' = :language) IS TRUE"
    "  AND (CAST(:queue AS text) IS NULL OR t.queues = '[]' OR jsonb_exists(t.queues, :queue))"
    "  ORDER BY ts_rank(t.search_title, to_tsquery('simple', :any)) DESC LIMIT :cap)"
    " UNION ALL"
    " (SELECT b.id FROM kb_articles b WHERE b.search @@ to_tsquery('simple', :match)"
    "  AND (b.published AND b.language || '' = :language) IS TRUE"
    "  AND (CAST(:queue AS text) IS NULL OR b.queues = '[]' OR jsonb_exists(b.queues, :queue)) LIMIT :cap)) "
    "ORDER BY rank DESC, a.updated_at DESC LIMIT :limit")
# FTS5 scores each candidate where it is found: looked up again by rowid, each one would read
# the terms' whole lists once more (200-400 candidates: 25-67 ms). The title's candidates, found
# under the column filter, score their title alone (and, in tier 1, the whole text once more):
# an approximation that can only favour a title match, which is what the rank wants.
_SQLITE = text(
    f"SELECT {_COLUMNS}, c.rank FROM ("
    " SELECT id, min(rank) AS rank FROM ("
    "  SELECT * FROM (SELECT ta.id, bm25(kb_fts, 0.0, 4.0, 1.0) AS rank FROM kb_fts JOIN kb_articles ta"
    "   ON ta.id = kb_fts.id WHERE kb_fts MATCH :title_match AND ta.published AND ta.language = :language"
    "   AND (:queue IS NULL OR EXISTS (SELECT 1 FROM json_each(ta.queues) q WHERE q.value = :queue)"
    "    OR json_array_length(ta.queues) = 0)"
    "   ORDER BY rank LIMIT :cap)"
    "  UNION ALL"
    "  SELECT * FROM (SELECT ba.id, bm25(kb_fts, 0.0, 4.0, 1.0) AS rank FROM kb_fts JOIN kb_articles ba"
    "   ON ba.id = kb_fts.id WHERE kb_fts MATCH :match AND ba.published AND ba.language = :language"
    "   AND (:queue IS NULL OR EXISTS (SELECT 1 FROM json_each(ba.queues) q WHERE q.value = :queue)"
    "    OR json_array_length(ba.queues) = 0)"
    "   ORDER BY kb_fts.rowid DESC LIMIT :cap)"
    " ) GROUP BY id) c JOIN kb_articles a ON a.id = c.id "
    "ORDER BY c.rank, a.updated_at DESC LIMIT :limit")


_INDEXES_ONLY = text("SET LOCAL enable_seqscan = off")


def search(conn: Connection, terms: list[str], prefix: str | None, language: str, limit: int, *,
           queue: str | None = None, cap: int = CANDIDATES) -> list[dict[str, Any]]:
    """Published articles in ``language`` with the terms, best first, at most ``limit``.
    ``terms`` as :func:`desktop.kb.terms.query_terms` gives them (not empty); ``prefix`` the one
    of them still being typed, or None; ``queue``: only the articles for it (those that name
    no queue are for all), before the rank's bound, not after. Run it in a transaction
    (``Database.read``, not ``read_fast``): on PostgreSQL it turns sequential scans off for
    that transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(_INDEXES_ONLY)
    found = _tier(conn, terms, prefix, language, limit, cap, queue, every=True) if len(terms) > 1 else []
    if len(found) < limit:  # too few have them all: the ones with some, after those
        seen = {row["id"] for row in found}
        more = _tier(conn, terms, prefix, language, limit, cap, queue, every=False)
        found += [row for row in more if row["id"] not in seen][:limit - len(found)]
    return found


def explain(conn: Connection, terms: list[str], prefix: str | None, language: str, *, every: bool,
            queue: str | None = None, limit: int = 20, cap: int = CANDIDATES) -> str:
    """The database's plan for one tier (``every``: the AND tier), one line a step: to check
    that only the indexes find candidates. Same transaction rule as :func:`search`."""
    statement, params = _statement(conn, terms, prefix, language, limit, cap, queue, every=every)
    if conn.dialect.name == "postgresql":
        conn.execute(_INDEXES_ONLY)
        return "\n".join(row[0] for row in conn.execute(text("EXPLAIN " + statement.text), params))
    return "\n".join(row[3] for row in conn.execute(text("EXPLAIN QUERY PLAN " + statement.text), params))


def _statement(conn: Connection, terms: list[str], prefix: str | None, language: str, limit: int, cap: int,
               queue: str | None, *, every: bool) -> tuple[Any, dict[str, Any]]:
    if conn.dialect.name == "postgresql":
        # Terms are letters and digits only (desktop/kb/terms.py); quoted anyway.
        quoted = ["'" + term.replace("'", "''") + "'" + (":*" if term == prefix else "") for term in terms]
        params = {"any": " | ".join(quoted), "match": " & ".join(quoted) if every else " | ".join(quoted)}
        statement = _POSTGRES
    else:
        quoted = ['"' + term.replace('"', '""') + '"' + ("*" if term == prefix else "") for term in terms]
        any_ = " OR ".join(quoted)
        match = " AND ".join(quoted) if every else any_
        params = {"match": match, "title_match": f"{{title}} : ({any_})" + (f" AND ({match})" if every else "")}
        statement = _SQLITE
    return statement, {**params, "language": language, "queue": queue, "limit": limit, "cap": cap}


def _tier(conn: Connection, terms: list[str], prefix: str | None, language: str, limit: int, cap: int,
          queue: str | None, *, every: bool) -> list[dict[str, Any]]:
    statement, params = _statement(conn, terms, prefix, language, limit, cap, queue, every=every)
    out = []
    for row in conn.execute(statement, params):
        item = dict(row._mapping)
        item.pop("rank", None)
        for key in ("pages", "queues"):  # text() returns JSON as text on SQLite
            if isinstance(item[key], str):
                item[key] = json.loads(item[key])
        out.append(item)
    return out
