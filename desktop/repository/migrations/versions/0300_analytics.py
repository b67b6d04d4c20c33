"""Analytics results: runs, per-customer scores and product association rules.

Revision ID: 0300
Revises: 0200
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0300"
down_revision: str | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("model_version", sa.String(), nullable=False),
        sa.Column("config", Json, nullable=False),
        sa.Column("summary", Json, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_runs"),
    )
    op.create_table(
        "customer_scores",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["analytics_runs.id"], ondelete="CASCADE",
                                name="fk_customer_scores_run_id_analytics_runs"),
        sa.PrimaryKeyConstraint("run_id", "customer_id", name="pk_customer_scores"),
    )
    op.create_index("ix_customer_scores_customer_id", "customer_scores", ["customer_id"])
    op.create_table(
        "product_rules",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("antecedent", Json, nullable=False),
        sa.Column("consequent", Json, nullable=False),
        sa.Column("support", sa.Double(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("lift", sa.Double(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["analytics_runs.id"], ondelete="CASCADE",
                                name="fk_product_rules_run_id_analytics_runs"),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_product_rules"),
    )


def downgrade() -> None:
    op.drop_table("product_rules")
    op.drop_index("ix_customer_scores_customer_id", table_name="customer_scores")
    op.drop_table("customer_scores")
    op.drop_table("analytics_runs")
