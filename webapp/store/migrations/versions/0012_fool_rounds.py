"""Fool-the-model rounds and each round's fixed held-out fifth: on each round whether students try to fool the
model (`fool`) and how many drawings it has taken (`sent`, never lowered, so a drawing's turn is never given
twice); on each drawing sent in a round whether it is held out of every fine-tuning run (`held_out`).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rounds", sa.Column("fool", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("rounds", sa.Column("sent", sa.Integer, nullable=False, server_default="0"))
    op.add_column("drawings", sa.Column("held_out", sa.Boolean))
    # A round open at the upgrade goes on counting from the drawings it has (its earlier drawings stay as
    # every drawing was before: each run decides whether it holds them out).
    op.execute("UPDATE rounds SET sent = (SELECT count(*) FROM drawings WHERE drawings.round_id = rounds.id)")


def downgrade() -> None:
    op.drop_column("drawings", "held_out")   # plain DROP COLUMNs: see 0007's downgrade
    op.drop_column("rounds", "sent")
    op.drop_column("rounds", "fool")
