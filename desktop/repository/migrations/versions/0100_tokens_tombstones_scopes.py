"""Revocable visitor tokens, erasure tombstones, customers' corrections, API key scopes.

Adds ``revoked_visitors`` (visitor ids whose signed tokens no longer open
anything), ``erased_users`` (the site's HMAC of an erased customer's user id,
so ``identify`` can't recreate them), ``customers.corrected`` (fields the
customer corrected, which the site's hints no longer overwrite),
``customers.site`` and ``api_keys.scopes``. Existing keys keep every scope they
had (read, write, erase); existing customers belong to the ``default`` site.

Revision ID: 0100
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0100"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "revoked_visitors",
        sa.Column("visitor_id", sa.String(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("visitor_id", name="pk_revoked_visitors"),
    )
    op.create_table(
        "erased_users",
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("erased_at", sa.Double(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("user_key", name="pk_erased_users"),
    )
    op.add_column("customers", sa.Column("corrected", Json, nullable=True))
    op.add_column("customers", sa.Column("site", sa.String(), server_default="default", nullable=False))
    op.create_index("ix_customers_site", "customers", ["site"])
    op.add_column("api_keys", sa.Column("scopes", sa.String(), server_default="read write erase",
                                        nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scopes")
    op.drop_index("ix_customers_site", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("site")
        batch.drop_column("corrected")
    op.drop_table("erased_users")
    op.drop_table("revoked_visitors")
