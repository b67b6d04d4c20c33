"""Server-side staff sessions: a desk sign-in is valid only while its row is.

The signed cookie alone stayed valid for its 12 hours after ``POST /logout``;
now every desk page, REST call and socket also looks its session up here, and
sign-out (or an expired row) ends it everywhere at once. Existing cookies have
no row: staff sign in again once after the upgrade.

Revision ID: 0200
Revises: 0100
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0200"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_staff_sessions_agent_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
    )
    op.create_index("ix_staff_sessions_agent_id", "staff_sessions", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_agent_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
