"""Contact-centre history: agents' state changes, wrap-up end and hold time of callbacks.

Revision ID: 0500
Revises: 0410
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0500"
down_revision: str | None = "0410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agent_states",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("presence", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent_states"),
    )
    op.create_index("ix_agent_states_agent_id_at", "agent_states", ["agent_id", "at"])
    op.create_index("ix_agent_states_at", "agent_states", ["at"])
    op.create_index("ix_agent_states_presence_agent_id_at", "agent_states", ["agent_id", "at"],
                    sqlite_where=sa.text("presence"), postgresql_where=sa.text("presence"))
    op.create_index("ix_agent_states_presence_at", "agent_states", ["at"],
                    sqlite_where=sa.text("presence"), postgresql_where=sa.text("presence"))
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("wrapped_up_at", sa.Double(), nullable=True))
        batch.add_column(sa.Column("held_seconds", sa.Double(), server_default="0", nullable=False))
    op.create_index("ix_callbacks_answered_at", "callbacks", ["answered_at"])
    op.create_index("ix_callbacks_enqueued_at", "callbacks", ["enqueued_at"])
    op.create_index("ix_offers_offered_at", "offers", ["offered_at"])


def downgrade() -> None:
    op.drop_index("ix_offers_offered_at", table_name="offers")
    op.drop_index("ix_callbacks_enqueued_at", table_name="callbacks")
    op.drop_index("ix_callbacks_answered_at", table_name="callbacks")
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("held_seconds")
        batch.drop_column("wrapped_up_at")
    op.drop_index("ix_agent_states_presence_at", table_name="agent_states")
    op.drop_index("ix_agent_states_presence_agent_id_at", table_name="agent_states")
    op.drop_index("ix_agent_states_at", table_name="agent_states")
    op.drop_index("ix_agent_states_agent_id_at", table_name="agent_states")
    op.drop_table("agent_states")
