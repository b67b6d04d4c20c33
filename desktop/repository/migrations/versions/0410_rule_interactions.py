"""The interaction history of suggestions: impressions, presentations, acceptances, refusals.

Revision ID: 0410
Revises: 0400
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0410"
down_revision: str | None = "0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rule_interactions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("callback_id", sa.String(), nullable=False),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("action_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("product", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rule_interactions"),
        sa.UniqueConstraint("callback_id", "action_id", "version", "outcome",
                            name="uq_rule_interactions_callback_id"),
    )
    op.create_index("ix_rule_interactions_customer_id_at", "rule_interactions", ["customer_id", "at"])
    op.create_index("ix_rule_interactions_at", "rule_interactions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_rule_interactions_at", table_name="rule_interactions")
    op.drop_index("ix_rule_interactions_customer_id_at", table_name="rule_interactions")
    op.drop_table("rule_interactions")
