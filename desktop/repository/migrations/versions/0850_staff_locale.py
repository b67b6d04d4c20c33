"""A staff member's language: ``agents.locale``.

A BCP 47 tag the staff pages speak (``en``, ``zh-CN``, ``zh-TW``: desktop/web/locales.py);
NULL until the member or an admin chooses one, and then the browser's Accept-Language decides.

Revision ID: 0850
Revises: 0820 (main's head at merge: 0700, 0860, 0830, 0840, 0800, 0820)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0850"
down_revision: str | None = "0820"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("locale", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("locale")
