"""How many drawings there are and what they take (each kept image plus 1 KiB for its input, row and
answers), kept up to date by every write: PostgreSQL's files never shrink after a delete, so its quota
counts these; and no write counts every row.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drawings_usage",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO drawings_usage (name, value) SELECT 'rows', count(*) FROM drawings")
    op.execute("INSERT INTO drawings_usage (name, value)"
               " SELECT 'bytes', coalesce(sum(length(image) + 1024), 0) FROM drawings")


def downgrade() -> None:
    op.drop_table("drawings_usage")
