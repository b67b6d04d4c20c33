"""Rules of calling for phone callbacks: a queue's calling hours, a request's consent record.

- ``queues.calling_hours``: when a customer's phone may ring for this queue, ``HH:MM-HH:MM``
  in the called number's local time (``desktop/routing/calling.py``); NULL: the process-wide
  ``OTODESK_CALLING_HOURS``; ``*``: any time.
- ``callbacks.consent``: what the customer agreed to when asking to be called on their phone
  (``{at, address, page, text, locale}``); NULL for browser callbacks and older requests.
  Stripped with the rest of the person's data on erasure.

Revision ID: 0820
Revises: 0840
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0820"
down_revision: str | None = "0800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("calling_hours", sa.String(), nullable=True))
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("consent", Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("consent")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("calling_hours")
