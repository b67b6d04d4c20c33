"""A second factor for local-password staff accounts: ``staff_totp`` (the sealed secret, the
last step accepted) and ``staff_recovery_codes`` (HMAC digests, each used once). Both go with
their account (``ON DELETE CASCADE``).

Revision ID: 0940
Revises: 0930
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0940"
down_revision: str | None = "0930"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_totp",
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("secret", sa.String(), nullable=True),
        sa.Column("pending", sa.String(), nullable=True),
        sa.Column("enrolled_at", sa.Double(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_staff_totp_agent_id_agents",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", name="pk_staff_totp"),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_staff_recovery_codes_agent_id_agents",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "digest", name="pk_staff_recovery_codes"),
    )


def downgrade() -> None:
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_totp")
