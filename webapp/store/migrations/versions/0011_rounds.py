"""The class's rounds: the rounds, the drawings the teacher hid from them, the devices following them, and on
each drawing the round it was sent in and its sender's nickname.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rounds",
        sa.Column("id", Id, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, sa.CheckConstraint("kind IN ('digit', 'any')"), nullable=False),
        sa.Column("digit", sa.Integer, sa.CheckConstraint("digit BETWEEN 0 AND 9")),
        sa.Column("state", sa.Text, sa.CheckConstraint("state IN ('open', 'paused', 'ended')"), nullable=False),
        sa.Column("started", sa.Double, nullable=False),
        sa.Column("ended", sa.Double),
        sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
        sqlite_autoincrement=True,
    )
    op.create_index("rounds_by_state", "rounds", ["state"])
    op.create_table(
        "round_hidden",
        sa.Column("round_id", Id, primary_key=True),
        sa.Column("drawing_id", Id, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "round_devices",
        sa.Column("round_id", Id, primary_key=True),
        sa.Column("device", sa.Text, primary_key=True),
        sa.Column("seen", sa.Double, nullable=False),
        sqlite_with_rowid=False,
    )
    op.add_column("drawings", sa.Column("round_id", Id))
    op.add_column("drawings", sa.Column("nickname", sa.Text))
    op.create_index("drawings_by_round", "drawings", ["round_id", "id"])


def downgrade() -> None:
    op.drop_index("drawings_by_round", "drawings")
    op.drop_column("drawings", "nickname")   # a plain DROP COLUMN: see 0007's downgrade
    op.drop_column("drawings", "round_id")
    op.drop_table("round_devices")
    op.drop_table("round_hidden")
    op.drop_index("rounds_by_state", "rounds")
    op.drop_table("rounds")
