"""Each drawing kept once: the SHA-256 of its 28x28 input, unique; and an index to count what one device sent of
one label recently (webapp/store/drawings.py's per-device cap).

Drawings kept before this revision get their hash; of drawings already kept twice, the first keeps it and the
later copies keep none (nothing is deleted).

Revision ID: 0010
Revises: 0009
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    op.add_column("drawings", sa.Column("input_sha256", sa.Text))
    bind = op.get_bind()
    seen: set[str] = set()
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, input FROM drawings WHERE id > :last ORDER BY id LIMIT :batch"),
                            {"last": last, "batch": BATCH}).fetchall()
        if not rows:
            break
        hashes = []
        for drawing_id, pixels in rows:
            digest = hashlib.sha256(bytes(pixels)).hexdigest()
            if digest not in seen:
                seen.add(digest)
                hashes.append({"id": drawing_id, "hash": digest})
        if hashes:
            bind.execute(sa.text("UPDATE drawings SET input_sha256 = :hash WHERE id = :id"), hashes)
        last = rows[-1][0]
    op.create_index("drawings_by_input", "drawings", ["input_sha256"], unique=True)
    op.create_index("drawings_by_writer", "drawings", ["writer", "label", "created"])


def downgrade() -> None:
    op.drop_index("drawings_by_writer", "drawings")
    op.drop_index("drawings_by_input", "drawings")
    op.drop_column("drawings", "input_sha256")   # a plain DROP COLUMN: see 0007's downgrade
