"""Business rules: draft actions, published versions and their audit log.

Revision ID: 0400
Revises: 0300
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0400"
down_revision: str | None = "0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rule_actions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_actions"),
    )
    op.create_table(
        "rule_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("published_at", sa.Double(), nullable=False),
        sa.Column("published_by", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("actions", Json, nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_rule_versions"),
    )
    op.create_table(
        "rule_audit",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("action_id", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("before", Json, nullable=True),
        sa.Column("after", Json, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rule_audit"),
    )
    op.create_index("ix_rule_audit_action_id", "rule_audit", ["action_id"])


def downgrade() -> None:
    op.drop_index("ix_rule_audit_action_id", table_name="rule_audit")
    op.drop_table("rule_audit")
    op.drop_table("rule_versions")
    op.drop_table("rule_actions")
