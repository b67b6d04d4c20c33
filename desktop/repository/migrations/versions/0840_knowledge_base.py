"""The knowledge base: articles, their full-text index, what visitors did with them.

- ``kb_articles``: title, Markdown body and its sanitised HTML, language, tags, pages,
  queues, published; ``terms`` is what the index holds (``desktop/kb/terms.py``).
- the index: on SQLite an FTS5 table ``kb_fts`` (the article's id and terms, kept by the
  repository in the article's transaction); on PostgreSQL a generated ``tsvector`` column
  ``search`` (every term, no positions; configuration ``simple``) with a GIN index, and
  ``search_title`` (the title's and tags' terms) to rank title matches first.
- ``kb_events``: views, "solved", "still want a call", calls asked after reading.

Revision ID: 0840
Revises: 0830 (main's head at the merge: 0700 -> 0860 -> 0830)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0840"
down_revision: str | None = "0830"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("tags", Json, nullable=False),
        sa.Column("pages", Json, nullable=False),
        sa.Column("queues", Json, nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
    )
    op.create_index("ix_kb_articles_language_published", "kb_articles", ["language", "published"])
    op.create_table(
        "kb_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(), nullable=False),
        sa.Column("visitor_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_events"),
    )
    op.create_index("ix_kb_events_at_article_id", "kb_events", ["at", "article_id"])
    op.create_index("ix_kb_events_visitor_id_at", "kb_events", ["visitor_id", "at"])
    if op.get_bind().dialect.name == "postgresql":
        # The title's terms are the first line of ``terms`` (see desktop/repository/kb.py).
        # Matching: every term, stripped of positions (a third of the size: rows stay small and
        # uncompressed, which is what ranking thousands of matches costs). Ranking the title
        # first: its own small vector.
        op.execute("ALTER TABLE kb_articles ADD COLUMN search tsvector GENERATED ALWAYS AS ("
                   "strip(to_tsvector('simple', terms))) STORED")
        op.execute("ALTER TABLE kb_articles ADD COLUMN search_title tsvector GENERATED ALWAYS AS ("
                   "to_tsvector('simple', split_part(terms, E'\\n', 1))) STORED")
        op.execute("CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search)")
    else:
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(id UNINDEXED, title, body, tokenize = 'unicode61', detail = 'column')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE kb_fts")
    op.drop_index("ix_kb_events_visitor_id_at", table_name="kb_events")
    op.drop_index("ix_kb_events_at_article_id", table_name="kb_events")
    op.drop_table("kb_events")
    op.drop_index("ix_kb_articles_language_published", table_name="kb_articles")
    op.drop_table("kb_articles")
