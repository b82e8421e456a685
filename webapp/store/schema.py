"""The store's tables, defined once for SQLite and PostgreSQL (SQLAlchemy Core).

The types mean the same on both: ids and every reference to one are 8-byte integers (SQLite's INTEGER
PRIMARY KEY is its 8-byte row id; PostgreSQL's identity columns are BIGINT), binary is BLOB/BYTEA, Unix
times are double precision, and timestamps are ISO-8601 text as they always were. Ids are never reused
after a delete (SQLite's AUTOINCREMENT, PostgreSQL's identity sequences), so an id seen before a clearing
names no new drawing. The schema is changed only by an Alembic revision (webapp/store/migrations/); a test
reads both live databases back with SQLAlchemy's inspector and checks that they agree.
"""

from __future__ import annotations

import sqlalchemy as sa

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")   # SQLite's INTEGER PRIMARY KEY is 8 bytes
metadata = sa.MetaData()


def id_column() -> sa.Column:
    return sa.Column("id", Id, sa.Identity(), primary_key=True)


# The drawings people labelled: a small re-encoded copy, the 28x28 input the model read, the label, what the
# model the person saw answered, and who drew it (a keyed hash of the address, never the address).
drawings = sa.Table(
    "drawings", metadata,
    id_column(),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("image", sa.LargeBinary, nullable=False),
    sa.Column("input", sa.LargeBinary, sa.CheckConstraint("length(input) = 784"), nullable=False),
    sa.Column("label", sa.Integer, sa.CheckConstraint("label BETWEEN 0 AND 9"), nullable=False),
    sa.Column("model", sa.Text),
    sa.Column("prediction", sa.Integer, sa.CheckConstraint("prediction BETWEEN 0 AND 9")),
    sa.Column("probabilities", sa.Text),
    sa.Column("model_version", sa.Text),
    sa.Column("mode", sa.Text, nullable=False, server_default="digit"),
    sa.Column("writer", sa.Text),
    sa.Column("input_sha256", sa.Text),   # the 28x28 input's SHA-256: the same drawing is kept once
    sa.Column("round_id", Id),            # the class round it was sent in (rounds.id), None outside rounds
    sa.Column("nickname", sa.Text),       # the sending device's friendly nickname, in rounds only
    sa.Column("held_out", sa.Boolean),    # in a round: kept out of every fine-tuning run (its fixed fifth)
    sa.Index("drawings_by_label", "label", "id"),
    sa.Index("drawings_by_round", "round_id", "id"),
    sa.Index("drawings_by_input", "input_sha256", unique=True),
    sa.Index("drawings_by_writer", "writer", "label", "created"),   # what one device sent of a label recently
    sqlite_autoincrement=True,
)

# Each model version's answer to each drawing, and how often each label got each answer.
answers = sa.Table(
    "answers", metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("drawing_id", Id, primary_key=True),
    sa.Column("digit", sa.Integer, sa.CheckConstraint("digit BETWEEN 0 AND 9"), nullable=False),
    sa.Index("answers_by_drawing", "drawing_id"),
    sqlite_with_rowid=False,
)
confusion = sa.Table(
    "confusion", metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("label", sa.Integer, primary_key=True),
    sa.Column("digit", sa.Integer, primary_key=True),
    sa.Column("count", sa.Integer, sa.CheckConstraint("count >= 0"), nullable=False),
    sqlite_with_rowid=False,
)

# What the teacher decided for everyone (collecting on or off) and the app's shared signing key.
classroom = sa.Table(
    "classroom", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

# Every published version of every model with its files, and which one each model serves.
model_versions = sa.Table(
    "model_versions", metadata,
    id_column(),
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
model_files = sa.Table(
    "model_files", metadata,
    sa.Column("version_id", Id, sa.ForeignKey("model_versions.id"), primary_key=True),
    sa.Column("suffix", sa.Text, primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)
current_versions = sa.Table(
    "current_versions", metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("version_id", Id, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("changed", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

# Fine-tuning runs started from the teacher's page, their progress and result.
finetune_jobs = sa.Table(
    "finetune_jobs", metadata,
    id_column(),
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

# How many drawings there are and what they take, kept up to date by every write (the quota reads these:
# PostgreSQL's files never shrink after a delete, and no write counts every row).
drawings_usage = sa.Table(
    "drawings_usage", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Every teacher sign-in that is still good: the signed cookie carries a random id, this table a hash of it, so
# signing out (here, or everywhere) ends it on every worker and instance, and a copy of the database gives no
# cookie a live id. `expires` is Unix time; rows past it count as ended and are deleted at later sign-ins.
teacher_sessions = sa.Table(
    "teacher_sessions", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("expires", sa.Double, nullable=False),
    sa.Index("teacher_sessions_by_expiry", "expires"),
    sqlite_with_rowid=False,
)

# The class's rounds: the teacher asks everyone for a digit ("digit", with `digit`) or any digit they choose
# ("any"), either to be read or to fool the model (`fool`); one is open or paused at a time. `changes` goes up
# at every pause, resumption, end or hidden drawing, so a wall following the round learns of them with the
# drawings it reads. Times are Unix times.
rounds = sa.Table(
    "rounds", metadata,
    id_column(),
    sa.Column("kind", sa.Text, sa.CheckConstraint("kind IN ('digit', 'any')"), nullable=False),
    sa.Column("digit", sa.Integer, sa.CheckConstraint("digit BETWEEN 0 AND 9")),
    sa.Column("state", sa.Text, sa.CheckConstraint("state IN ('open', 'paused', 'ended')"), nullable=False),
    sa.Column("started", sa.Double, nullable=False),
    sa.Column("ended", sa.Double),
    sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fool", sa.Boolean, nullable=False, server_default=sa.false()),   # "fool the model" round
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),   # drawings taken, hidden ones included
    sa.Index("rounds_by_state", "state"),
    sqlite_autoincrement=True,
)

# The drawings the teacher hid from a round (they are deleted from the store): a wall that was away when one
# was hidden learns it when it comes back.
round_hidden = sa.Table(
    "round_hidden", metadata,
    sa.Column("round_id", Id, primary_key=True),
    sa.Column("drawing_id", Id, primary_key=True),
    sqlite_with_rowid=False,
)

# The devices following a round, by a keyed hash of their address, and when each last asked for it (at most
# every few seconds): the wall's "devices connected".
round_devices = sa.Table(
    "round_devices", metadata,
    sa.Column("round_id", Id, primary_key=True),
    sa.Column("device", sa.Text, primary_key=True),
    sa.Column("seen", sa.Double, nullable=False),
    sqlite_with_rowid=False,
)
