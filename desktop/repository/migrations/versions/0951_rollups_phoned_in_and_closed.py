"""Inbound calls in the history rollups: ``phone_inbound`` (offered, by channel) and ``closed``.

The reports count the callbacks each queue was offered per channel: browser, phone and now
``phone_inbound`` (callers who phoned in), and apart from them the calls that reached a queue
while it was closed (``closed``: told so and hung up, never offered). The rollups are dropped:
the leader's next pass rebuilds them with the new sums (their fingerprint's version moved too).

Revision ID: 0951
Revises: 0950
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0951"
down_revision: str | None = "0950"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("phone_inbound", "closed")


def upgrade() -> None:
    op.execute("DELETE FROM history_rollups")
    op.execute("DELETE FROM history_rollup_marks")
    with op.batch_alter_table("history_rollups") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Double(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.execute("DELETE FROM history_rollups")
    op.execute("DELETE FROM history_rollup_marks")
    with op.batch_alter_table("history_rollups") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
