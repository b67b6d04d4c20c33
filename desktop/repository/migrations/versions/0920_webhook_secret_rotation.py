"""A webhook's secret rotated with an overlap: ``previous_secret`` and ``previous_until``.

Until ``previous_until`` every delivery carries two signatures (``v1=`` under the new secret
and ``v1=`` under the previous one), so a receiver can switch to the new secret at its own
pace, as Stripe's rolling secrets do.

Revision ID: 0920
Revises: 0880
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0920"
down_revision: str | None = "0880"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("previous_secret", sa.String(), nullable=True))
        batch.add_column(sa.Column("previous_until", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.drop_column("previous_until")
        batch.drop_column("previous_secret")
