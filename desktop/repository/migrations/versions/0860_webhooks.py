"""Webhooks (an outbox delivered at least once) and a change feed on customers.

- ``webhook_subscriptions``: a receiver's URL, the event types it wants and its signing secret.
- ``webhook_events``: what happened, written in the same transaction as the change it tells
  of (the outbox); its ``data`` is redacted when the customer is erased.
- ``webhook_deliveries``: one row per event and subscription: pending until a 2xx, with its
  attempts, the next try and a lease (the process sending it); ``order_key`` (the callback, else
  the customer) keeps a subscription's deliveries of one key in order.
- ``webhook_attempts``: the delivery log (status code, error, duration).
- ``change_counter`` and ``customers.change_seq``: every insert or update of a customer takes
  the next number of one counter row, by trigger (so no write path can forget); on
  PostgreSQL at commit (a deferred constraint trigger). The counter's row lock is held to
  commit, so numbers become visible in order: a reader paging by ``change_seq`` misses
  nothing (a plain sequence would let a later number commit first).

Revision ID: 0860
Revises: 0700
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0860"
down_revision: str | None = "0700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# PostgreSQL: deferred to commit, when the transaction already holds every row lock it will
# take, so it takes the counter last and holds it only while committing. Taken at the write
# instead, the counter could deadlock with a transaction that writes two customers (it
# holds the counter and waits for a row another one locked before it waited for the counter).
_PG_FUNCTION = """
CREATE FUNCTION otodesk_change_seq() RETURNS trigger AS $$
DECLARE
    n bigint;
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE name = 'changes' RETURNING value INTO n;
    UPDATE customers SET change_seq = n WHERE id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = ("CREATE CONSTRAINT TRIGGER customers_change_seq AFTER INSERT OR UPDATE ON customers "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (pg_trigger_depth() < 1) "
               "EXECUTE FUNCTION otodesk_change_seq()")
# SQLite writes one transaction at a time: the counter is enough. The inner UPDATE does not
# fire the update trigger again (recursive triggers are off; the WHEN guard says why anyway).
_SQLITE_BODY = """
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE name = 'changes';
    UPDATE customers SET change_seq = (SELECT value FROM change_counter WHERE name = 'changes')
        WHERE id = NEW.id;
END
"""
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER customers_change_seq_insert AFTER INSERT ON customers" + _SQLITE_BODY,
    "CREATE TRIGGER customers_change_seq_update AFTER UPDATE ON customers "
    "WHEN NEW.change_seq IS OLD.change_seq" + _SQLITE_BODY,
)


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_change_counter"),
    )
    op.execute("INSERT INTO change_counter (name, value) VALUES ('changes', 0)")
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
    op.create_index("ix_customers_change_seq", "customers", ["change_seq"])
    # Existing rows get numbers in id order, then triggers keep them coming.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE customers SET change_seq = numbered.n FROM (SELECT id, row_number() OVER "
                   "(ORDER BY id) AS n FROM customers) AS numbered WHERE customers.id = numbered.id")
        op.execute("UPDATE change_counter SET value = (SELECT count(*) FROM customers)")
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute("UPDATE customers SET change_seq = (SELECT count(*) FROM customers AS c "
                   "WHERE c.id <= customers.id)")
        op.execute("UPDATE change_counter SET value = (SELECT count(*) FROM customers)")
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", Json, nullable=False),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("disabled_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("subject_customer", sa.String(), nullable=True),
        sa.Column("subject_callback", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
    )
    op.create_index("ix_webhook_events_subject_customer", "webhook_events", ["subject_customer"])
    op.create_index("ix_webhook_events_subject_callback", "webhook_events", ["subject_callback"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("order_key", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"],
                                name="fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        sa.ForeignKeyConstraint(["event_id"], ["webhook_events.id"],
                                name="fk_webhook_deliveries_event_id_webhook_events"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_state_next_at", "webhook_deliveries", ["state", "next_at"])
    op.create_index("ix_webhook_deliveries_subscription_id_order_key_state", "webhook_deliveries",
                    ["subscription_id", "order_key", "state"])
    op.create_index("ix_webhook_deliveries_event_id", "webhook_deliveries", ["event_id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("delivery_id", BigId, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"],
                                name="fk_webhook_attempts_delivery_id_webhook_deliveries"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_subscriptions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER customers_change_seq ON customers")
        op.execute("DROP FUNCTION otodesk_change_seq()")
    else:
        op.execute("DROP TRIGGER customers_change_seq_insert")
        op.execute("DROP TRIGGER customers_change_seq_update")
    op.drop_index("ix_customers_change_seq", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("change_seq")
    op.drop_table("change_counter")
