"""Administration: disabled accounts, per-queue timings and hours, the admin audit log.

- ``agents.disabled_at``: a disabled account can't sign in and its sessions are ended;
  the row stays (history points at it) and can be re-enabled.
- ``queues.offer_timeout`` / ``queues.wrapup_timeout`` (seconds; NULL: the process-wide
  setting), ``queues.hours`` (JSON, see ``desktop/routing/hours.py``; NULL: always open) and
  ``queues.dispositions`` (the wrap-up outcomes agents choose from; NULL: the default list).
- ``admin_audit``: every change made in the admin console or API, who, when, what, the
  values before and after. Append-only.

Revision ID: 0700
Revises: 0500
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0700"
down_revision: str | None = "0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("disabled_at", sa.Double(), nullable=True))
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("offer_timeout", sa.Double(), nullable=True))
        batch.add_column(sa.Column("wrapup_timeout", sa.Double(), nullable=True))
        batch.add_column(sa.Column("hours", Json, nullable=True))
        batch.add_column(sa.Column("dispositions", Json, nullable=True))
    op.create_table(
        "admin_audit",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("before", Json, nullable=True),
        sa.Column("after", Json, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_admin_audit"),
    )
    op.create_index("ix_admin_audit_at", "admin_audit", ["at"])
    op.create_index("ix_admin_audit_target", "admin_audit", ["target"])


def downgrade() -> None:
    op.drop_index("ix_admin_audit_target", table_name="admin_audit")
    op.drop_index("ix_admin_audit_at", table_name="admin_audit")
    op.drop_table("admin_audit")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("dispositions")
        batch.drop_column("hours")
        batch.drop_column("wrapup_timeout")
        batch.drop_column("offer_timeout")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("disabled_at")
