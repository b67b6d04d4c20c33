"""``erased_customers``: the ids of erased customers, so a restored backup can erase them again.

An id is a random key with nothing of the person left behind it (the ``customer.erased``
webhook already carries the same ids). ``otodesk restore`` reads this list from the database
it replaces and erases every listed customer the backup still holds.

Revision ID: 0930
Revises: 0920
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0930"
down_revision: str | None = "0920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_customers",
        sa.Column("customer_id", sa.String(), primary_key=True),
        sa.Column("erased_at", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erased_customers")
