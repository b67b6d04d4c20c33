"""Settings an admin edits in the console, and the first admin's one-time link.

- ``centre_settings``: urgent words per language, the widget's look, the sites that may embed
  it; a key without a row keeps its ``OTODESK_*`` value.
- ``setup_links``: the hash of each one-time link printed on a fresh install's first start,
  its expiry and when it was used.

Revision ID: 0880
Revises: 0890 (written on 0850; main's head when main was last merged into h-site: 0890)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0880"
down_revision: str | None = "0890"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "centre_settings",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", Json, nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_centre_settings")),
    )
    op.create_table(
        "setup_links",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("issued_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_links")),
    )


def downgrade() -> None:
    op.drop_table("setup_links")
    op.drop_table("centre_settings")
