"""A queue's languages, the widget's topics for it and its recording policy.

- ``queues.languages``: the languages its agents speak (BCP 47 tags, best first); the widget
  picks the first queue serving its language when the site names none. NULL: not said.
- ``queues.topics``: the topic choices the widget shows for the queue, each
  ``{"text": ..., "translations": {"zh-CN": ...}}``; NULL: none (a free topic only).
- ``queues.recording``: ``off``, ``consent`` (the customer is asked first) or ``on``; NULL:
  ``OTODESK_VOICE_RECORDING`` decides (desktop/voice/records.py).

Revision ID: 0870
Revises: 0900 (main's head at merge)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0870"
down_revision: str | None = "0900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column("languages", Json, nullable=True))
        batch.add_column(sa.Column("topics", Json, nullable=True))
        batch.add_column(sa.Column("recording", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("recording")
        batch.drop_column("topics")
        batch.drop_column("languages")
