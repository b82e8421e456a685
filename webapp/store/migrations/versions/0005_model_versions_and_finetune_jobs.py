"""Every published version of every model with its files, which one each model serves, and the teacher's
fine-tuning runs.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", Id, sa.Identity(), primary_key=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("parent_id", Id, sa.ForeignKey("model_versions.id")),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("trained_on", sa.Text, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.UniqueConstraint("model", "sha256"),
        sa.UniqueConstraint("model", "number"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "model_files",
        sa.Column("version_id", Id, sa.ForeignKey("model_versions.id"), primary_key=True),
        sa.Column("suffix", sa.Text, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "current_versions",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("version_id", Id, sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("changed", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "finetune_jobs",
        sa.Column("id", Id, sa.Identity(), primary_key=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("state", sa.Text, sa.CheckConstraint("state IN ('running', 'published', 'refused', 'failed')"),
                  nullable=False),
        sa.Column("started", sa.Text, nullable=False),
        sa.Column("updated", sa.Double, nullable=False),
        sa.Column("host", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.Column("progress", sa.Text, nullable=False, server_default=""),
        sa.Column("result", sa.Text),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("finetune_jobs", "current_versions", "model_files", "model_versions"):
        op.drop_table(table)
