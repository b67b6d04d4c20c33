"""One waiting phone request per number, enforced by the database.

"Call my phone" refused a second request for a number that already had one waiting, but
only by a look before the insert: two requests in the same few milliseconds both passed.
A unique index on ``callbacks.phone`` over the phone requests still waiting (``scheduled``,
``queued``, ``offered``) makes the second insert fail, on SQLite and PostgreSQL alike
(``desktop.repository.models.WAITING_PHONE``).

A database that already holds two waiting requests for one number (that race, before this)
keeps the oldest; the later ones are cancelled here, or the index could not be made.

Revision ID: 0950
Revises: 0940
Create Date: 2026-12-03
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0950"
down_revision: str | None = "0940"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING_PHONE = "channel = 'phone' AND state IN ('scheduled', 'queued', 'offered')"


def upgrade() -> None:
    op.get_bind().execute(sa.text(
        "UPDATE callbacks SET state = 'cancelled', ended_at = :now "
        f"WHERE {WAITING_PHONE} AND EXISTS (SELECT 1 FROM callbacks AS older "
        "WHERE older.phone = callbacks.phone AND older.channel = 'phone' "
        "AND older.state IN ('scheduled', 'queued', 'offered') "
        "AND (older.created_at < callbacks.created_at "
        "OR (older.created_at = callbacks.created_at AND older.id < callbacks.id)))"), {"now": time.time()})
    op.create_index("uq_callbacks_waiting_phone", "callbacks", ["phone"], unique=True,
                    sqlite_where=sa.text(WAITING_PHONE), postgresql_where=sa.text(WAITING_PHONE))


def downgrade() -> None:
    op.drop_index("uq_callbacks_waiting_phone", table_name="callbacks")
