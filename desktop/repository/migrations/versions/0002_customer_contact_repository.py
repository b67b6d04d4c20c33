"""The Customer Contact Repository: identities, merges, products, orders, API keys, erasures.

Adds ``customers.merged_into`` (a merge keeps every row where it is), the
``identities`` and ``customer_merges`` tables, the site's ``products`` and
``orders`` (they feed the value tier), hashed ``api_keys`` and the anonymous
``erasures`` log; the timeline index gains ``id`` for its keyset order.
Nothing existing is rewritten: a populated database upgrades in place.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a nullable column with its REFERENCES in place; a batch
        # copy of ``customers`` would trip the foreign keys pointing at it.
        op.execute("ALTER TABLE customers ADD COLUMN merged_into VARCHAR REFERENCES customers (id)")
    else:
        op.add_column("customers", sa.Column("merged_into", sa.String(), nullable=True))
        op.create_foreign_key("fk_customers_merged_into_customers", "customers", "customers",
                              ["merged_into"], ["id"])
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"])
    # Finding a customer by phone or e-mail (the desk's search, the API's q).
    op.create_index("ix_customers_phone", "customers", ["phone"])
    op.create_index("ix_customers_email", "customers", ["email"])

    op.drop_index("ix_contact_events_customer_id_at", table_name="contact_events")
    op.create_index("ix_contact_events_customer_id_at_id", "contact_events",
                    ["customer_id", "at", "id"])

    op.create_table(
        "identities",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_identities_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_identities"),
        sa.UniqueConstraint("customer_id", "kind", "value",
                            name="uq_identities_customer_id_kind_value"),
    )
    op.create_index("ix_identities_customer_id", "identities", ["customer_id"])
    op.create_index("ix_identities_kind_value", "identities", ["kind", "value"])
    op.create_index("uq_identities_verified_kind_value", "identities", ["kind", "value"],
                    unique=True, sqlite_where=sa.text("verified"),
                    postgresql_where=sa.text("verified"))

    op.create_table(
        "customer_merges",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("target_id", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_merges"),
    )
    op.create_index("ix_customer_merges_source_id", "customer_merges", ["source_id"])
    op.create_index("ix_customer_merges_target_id", "customer_merges", ["target_id"])

    op.create_table(
        "products",
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("category", sa.String(), server_default="", nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("sku", name="pk_products"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("placed_at", sa.Double(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="placed", nullable=False),
        sa.Column("items", Json, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_orders_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index("ix_orders_customer_id_placed_at", "orders", ["customer_id", "placed_at"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.Column("last_used_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "erasures",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("counts", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_erasures"),
    )


def downgrade() -> None:
    for table in ("erasures", "api_keys", "orders", "products", "customer_merges", "identities"):
        op.drop_table(table)
    op.drop_index("ix_contact_events_customer_id_at_id", table_name="contact_events")
    op.create_index("ix_contact_events_customer_id_at", "contact_events", ["customer_id", "at"])
    op.drop_index("ix_customers_merged_into", table_name="customers")
    op.drop_index("ix_customers_phone", table_name="customers")
    op.drop_index("ix_customers_email", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("merged_into")
