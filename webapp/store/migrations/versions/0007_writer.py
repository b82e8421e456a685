"""Who drew each drawing, as a keyed hash of the student's address (never the address itself), so that
fine-tuning holds out every student's drawings, not one student's (webapp/store/held_out.py).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("drawings", sa.Column("writer", sa.Text))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch copy of the table would lose its AUTOINCREMENT and
    # its unnamed CHECKs, and ids could then be given out again.
    op.drop_column("drawings", "writer")
