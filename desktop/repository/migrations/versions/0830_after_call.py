"""After the contact: the agent's summary for the customer, their rating, "not solved".

On ``callbacks`` (all NULL for contacts before this):

- ``summary``: what the agent wrote for the customer at wrap-up (shown in the widget, e-mailed);
- ``locale``: the widget's language when the customer asked (the e-mail's language);
- ``rating`` (1-5) and ``rated_at``: the customer's answer to "how did we do?";
- ``reopened_at`` / ``reopened_as``: the customer pressed "not solved", and the request it made;
- ``follow_up_of``: on that new request, the contact it follows up;
- ``summary_mailed_at``: the e-mail was claimed for sending (once per contact, any process).

Revision ID: 0830
Revises: 0700
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0830"
down_revision: str | None = "0860"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(), nullable=True))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rated_at", sa.Double(), nullable=True))
        batch.add_column(sa.Column("reopened_at", sa.Double(), nullable=True))
        batch.add_column(sa.Column("reopened_as", sa.String(), nullable=True))
        batch.add_column(sa.Column("follow_up_of", sa.String(), nullable=True))
        batch.add_column(sa.Column("summary_mailed_at", sa.Double(), nullable=True))
    # The reports read ratings and reopens by when the contact was wrapped up.
    op.create_index("ix_callbacks_wrapped_up_at", "callbacks", ["wrapped_up_at"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_wrapped_up_at", table_name="callbacks")
    with op.batch_alter_table("callbacks") as batch:
        for column in ("summary_mailed_at", "follow_up_of", "reopened_as", "reopened_at", "rated_at",
                       "rating", "locale", "summary"):
            batch.drop_column(column)
