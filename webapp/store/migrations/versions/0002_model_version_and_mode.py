"""Which file of the model answered and in which mode; an index for the label filter.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("drawings", sa.Column("model_version", sa.Text))
    op.add_column("drawings", sa.Column("mode", sa.Text, nullable=False, server_default="digit"))
    op.create_index("drawings_by_label", "drawings", ["label", "id"])


def downgrade() -> None:
    op.drop_index("drawings_by_label", "drawings")
    op.drop_column("drawings", "mode")   # plain DROP COLUMNs: see 0007's downgrade
    op.drop_column("drawings", "model_version")
