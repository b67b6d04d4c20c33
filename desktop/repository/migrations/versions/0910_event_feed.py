"""The contacts' change feed: ``contact_events.xid`` on PostgreSQL.

Timeline entries are only ever inserted (never updated), so "changed since" is "added
since". On SQLite one transaction writes at a time and ids are handed out under its lock:
id order is commit order. On PostgreSQL a transaction that took id 7 may commit after one
that took 8, so each row also keeps the id of the transaction that wrote it
(``pg_current_xact_id()``); the feed returns only rows of transactions older than every
one still running (``pg_snapshot_xmin``), in ``(xid, id)`` order, so a reader who has seen
a row never later finds one before it appear (``desktop/repository/changes.py``). No
counter row to lock: page views and callbacks keep writing in parallel.

Revision ID: 0910
Revises: 0870
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0910"
down_revision: str | None = "0870"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE contact_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute("CREATE INDEX ix_contact_events_xid_id ON contact_events (xid, id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_contact_events_xid_id")
    op.execute("ALTER TABLE contact_events DROP COLUMN xid")
