"""The knowledge base's GIN indexes: one on the title's vector, none with a pending list (issue 14).

Search ranks a bounded set of candidates, not every match (desktop/repository/kb_search.py);
the articles whose title or tags have a term must be in that set, so they are found by an
index of their own (``search_title``), not by reading each match's row. SQLite's FTS5 finds
them with a column filter: nothing to add there.

``fastupdate = off`` on both: GIN's default keeps new entries in a pending list that every
search reads through until a vacuum merges it; after loading 10,000 articles that made one
index scan 7.8 ms instead of 0.07 ms (EXPLAIN ANALYZE). Articles are written by hand, rarely:
the slower write is the right trade.

Revision ID: 0890
Revises: 0910 (main's head at merge)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0890"
down_revision: str | None = "0910"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_kb_articles_search SET (fastupdate = off)")
        op.execute("SELECT gin_clean_pending_list('ix_kb_articles_search')")
        op.execute("CREATE INDEX ix_kb_articles_search_title ON kb_articles USING gin (search_title) "
                   "WITH (fastupdate = off)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_kb_articles_search_title")
        op.execute("ALTER INDEX ix_kb_articles_search RESET (fastupdate)")
