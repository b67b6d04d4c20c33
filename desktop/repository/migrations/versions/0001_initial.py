"""The first schema: agents, queues, customers, visitors, callbacks, offers, contact events.

Hand-written to match ``desktop/repository/models.py`` as of this revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("skills", Json, nullable=False),
        sa.Column("state", sa.String(), server_default="offline", nullable=False),
        sa.Column("state_reason", sa.String(), server_default="", nullable=False),
        sa.Column("state_since", sa.Double(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("username", name="uq_agents_username"),
    )
    op.create_table(
        "queues",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("skills", Json, nullable=False),
        sa.Column("service_level_target", sa.Double(), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_queues"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("tier", sa.String(), server_default="standard", nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("external_id", name="uq_customers_external_id"),
    )
    op.create_table(
        "visitors",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("last_seen_at", sa.Double(), nullable=False),
        sa.Column("context", Json, nullable=False),
        sa.Column("current_url", sa.Text(), nullable=True),
        sa.Column("current_title", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_visitors_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_visitors"),
    )
    op.create_index("ix_visitors_customer_id", "visitors", ["customer_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("visitor_id", sa.String(), nullable=True),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("topic", sa.Text(), server_default="", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("tier", sa.String(), server_default="standard", nullable=False),
        sa.Column("scheduled_at", sa.Double(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("enqueued_at", sa.Double(), nullable=True),
        sa.Column("offered_at", sa.Double(), nullable=True),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("command_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_callbacks_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_callbacks_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name="fk_callbacks_visitor_id_visitors"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_callbacks"),
        sa.UniqueConstraint("visitor_id", "command_id", name="uq_callbacks_visitor_id_command_id"),
    )
    op.create_index("ix_callbacks_state", "callbacks", ["state"])
    op.create_index("ix_callbacks_phone_created_at", "callbacks", ["phone", "created_at"])
    op.create_index(
        "ix_callbacks_visitor_id_created_at", "callbacks", ["visitor_id", "created_at"]
    )
    op.create_index("ix_callbacks_queue_enqueued_at", "callbacks", ["queue", "enqueued_at"])
    op.create_index("ix_callbacks_customer_id", "callbacks", ["customer_id"])
    op.create_table(
        "offers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("callback_id", sa.String(), nullable=False),
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("offered_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_offers_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["callbacks.id"], name="fk_offers_callback_id_callbacks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_offers"),
    )
    op.create_index("ix_offers_outcome", "offers", ["outcome"])
    op.create_index("ix_offers_callback_id", "offers", ["callback_id"])
    op.create_table(
        "contact_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("visitor_id", sa.String(), nullable=True),
        sa.Column("callback_id", sa.String(), nullable=True),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_contact_events_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contact_events"),
    )
    op.create_index("ix_contact_events_customer_id_at", "contact_events", ["customer_id", "at"])
    op.create_index("ix_contact_events_visitor_id_at", "contact_events", ["visitor_id", "at"])


def downgrade() -> None:
    op.drop_table("contact_events")
    op.drop_table("offers")
    op.drop_table("callbacks")
    op.drop_table("visitors")
    op.drop_table("customers")
    op.drop_table("queues")
    op.drop_table("agents")
