"""Index ``customers.merged_into`` only where it is set.

Almost every customer has ``merged_into`` NULL. With statistics (``ANALYZE``),
SQLite counted those NULLs as one key shared by every row, judged the full
index useless for ``merged_into = ?`` and scanned the whole table on every
opening of a customer (9 ms at 100,000 customers). A partial index holds the
few merged rows only; both engines use it for ``merged_into = ?`` / ``IN``,
which imply ``IS NOT NULL``. No data changes: a populated database upgrades in place.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SET = sa.text("merged_into IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_customers_merged_into", table_name="customers")
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"],
                    sqlite_where=_SET, postgresql_where=_SET)


def downgrade() -> None:
    op.drop_index("ix_customers_merged_into", table_name="customers")
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"])
