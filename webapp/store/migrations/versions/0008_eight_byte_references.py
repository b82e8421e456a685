"""Every reference to an id is 8 bytes on PostgreSQL too. The store written before Alembic turned its SQLite
words into PostgreSQL's by text replacement, which made the ids 8-byte identity columns but the columns
pointing at them 4-byte INTEGERs; databases made since get BIGINT from revisions 0003 and 0005, so for them
this changes nothing. SQLite's integers are 8 bytes already.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

REFERENCES = (("answers", "drawing_id"), ("model_files", "version_id"), ("current_versions", "version_id"),
              ("model_versions", "parent_id"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    for table, column in REFERENCES:
        found = {c["name"]: c["type"] for c in inspector.get_columns(table)}[column]
        if not isinstance(found, sa.BigInteger):
            op.alter_column(table, column, type_=sa.BigInteger, existing_type=found)


def downgrade() -> None:
    pass   # the wider column holds everything the narrower one did: nothing to undo
