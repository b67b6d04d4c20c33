"""History rollups: the reports' sums per 15 UTC minutes and per local day, for closed periods.

- ``history_rollups``: ``(level, kind, at, key, detail)`` and the sums, per 15 UTC minutes
  (queues) and per local day (queues, agents, offers, dispositions, staffed time) (see
  ``desktop.repository.history_rollups``).
- ``history_rollup_marks``: how far they reach and under which settings.

Revision ID: 0800
Revises: 0860
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0800"
down_revision: str | None = "0840"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = (
    "offered", "answered", "answered_within_target", "abandoned", "short_abandoned", "wait_seconds",
    "handled", "talk_seconds", "hold_seconds", "wrap_up_seconds", "scheduled_kept",
    "scheduled_missed_late", "scheduled_missed_unanswered", "browser", "phone",
    "offers", "accepted", "declined", "missed", "withdrawn", "contacts", "staffed_seconds",
)


def upgrade() -> None:
    op.create_table(
        "history_rollups",
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        *(sa.Column(name, sa.Double(), nullable=False, server_default="0") for name in SUMS),
        sa.PrimaryKeyConstraint("level", "kind", "at", "key", "detail", name="pk_history_rollups"),
    )
    op.create_table(
        "history_rollup_marks",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("slots_until", sa.Double(), nullable=False),
        sa.Column("days_until", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_history_rollup_marks"),
    )


def downgrade() -> None:
    op.drop_table("history_rollup_marks")
    op.drop_table("history_rollups")
