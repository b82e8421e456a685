"""The drawings people labelled, kept so the app can learn from them.

Each row is a small re-encoded copy of the drawing (webapp/vision/kept_images.py), the
28x28 input the model saw, the digit the person says it is, and what the model
answered; beside it every loaded model's answer and, per model version, how often
each label got each answer (webapp/feedback/drawing_scores.py reads those). The
same store also keeps the model versions, the fine-tuning runs and the teacher's
choices, so every worker and instance sharing it agrees on them.

The database is one SQLite file (webapp/feedback/sqlite_database.py: the default,
for one machine) or a PostgreSQL server (webapp/feedback/postgres_database.py: for
several instances): `open_database` picks by the DATABASE setting. The SQL here is
the same for both; each call borrows a pooled connection, and `transaction` runs
its work holding the database's one write lock, so writers queue up instead of
failing half way.

The store never takes more than its quota (rows and bytes, checked inside the
write transaction, so concurrent writers cannot overshoot it together), and a
store that cannot write (read-only or full disk, a damaged file, a server that
cannot be reached) raises StoreRefused with a sentence and the HTTP status to
answer, never a bare database error.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np

from webapp.feedback.postgres_database import PostgresDatabase
from webapp.feedback.refusals import SchemaTooNew, StoreFull, StoreRefused, StoreUnavailable
from webapp.feedback.schema import SCHEMA_VERSION
from webapp.feedback.sqlite_database import SqliteDatabase
from webapp.mnist_format import CLASSES, IMAGE_SIDE
from webapp.vision.images import to_uint8

__all__ = ["FeedbackStore", "NewDrawing", "Drawing", "Labelled", "StoreRefused", "StoreUnavailable", "StoreFull",
           "SchemaTooNew", "SCHEMA_VERSION", "open_database", "is_server_url"]

ROW_OVERHEAD_BYTES = 1024           # a drawing's 28x28 input, its row, its answers and their index entries

ModelKey = tuple[str, str]   # (model name, model version): a model file's answers never change


@dataclass
class NewDrawing:
    """One labelled drawing to keep, with every loaded model's answer to it."""

    image: bytes                 # the small re-encoded copy, never the upload itself
    pixels: np.ndarray           # the 28x28 model input, [0, 1] floats or uint8
    label: int
    model: str | None = None     # the model the person saw answer, and its answer
    model_version: str | None = None
    prediction: int | None = None
    probabilities: np.ndarray | list[float] | None = None
    mode: str = "digit"
    answers: dict[ModelKey, int] = field(default_factory=dict)
    writer: str | None = None    # who drew it: a keyed hash of the student's address (webapp/http/drawings.py)


class Labelled(NamedTuple):
    """Every drawing in id order as Keras' MNIST layout, with who drew each (None: not recorded)."""

    ids: np.ndarray       # int64 N
    x: np.ndarray         # uint8 Nx28x28
    y: np.ndarray         # uint8 N
    writers: list[str | None]


@dataclass
class Drawing:
    """One stored drawing without its image (pages never need it)."""

    id: int
    created: str
    label: int
    prediction: int | None
    model: str | None
    model_version: str | None
    mode: str
    probabilities: list[float] | None
    pixels: np.ndarray   # the 28x28 uint8 model input


class FeedbackStore:
    """The drawings of one database (a SQLite file or a PostgreSQL server), created and migrated on first use,
    within a quota.

    `max_rows` and `max_bytes` (the drawings' share of the database) of None mean no quota;
    `wal_limit` (bytes, SQLite only) is the size the WAL is truncated back to after a checkpoint.
    """

    def __init__(self, database: str | Path, *, max_rows: int | None = None, max_bytes: int | None = None,
                 wal_limit: int | None = None):
        self.database = open_database(database, wal_limit)
        self.max_rows = max_rows
        self.max_bytes = max_bytes

    @property
    def path(self) -> Path | None:
        """The SQLite file; None when the store is on a PostgreSQL server."""
        return getattr(self.database, "path", None)

    def exists(self) -> bool:
        """Whether anything was ever kept here (a SQLite file is created by the first write or read)."""
        return self.database.exists()

    def add(self, *drawings: NewDrawing) -> list[int]:
        """Keep the drawings, all or none, with their models' answers; their ids (never reused)."""
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")

        def insert(connection) -> list[int]:
            ids, answered = [], Counter()
            for drawing in drawings:
                drawing_id = connection.execute(
                    "INSERT INTO drawings (created, image, input, label, model, model_version, prediction,"
                    " probabilities, mode, writer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    row_of(drawing, created)).fetchone()[0]
                connection.executemany(
                    "INSERT INTO answers (model, version, drawing_id, digit) VALUES (?, ?, ?, ?)",
                    [(name, version, drawing_id, int(digit)) for (name, version), digit in drawing.answers.items()])
                answered.update((name, version, int(drawing.label), int(digit))
                                for (name, version), digit in drawing.answers.items())
                ids.append(drawing_id)
            add_to_confusion(connection, answered)
            count_usage(connection, len(drawings), sum(len(drawing.image) + ROW_OVERHEAD_BYTES for drawing in drawings))
            self._check_quota(connection)
            return ids

        return self.transaction(insert)

    def delete(self, drawing_id: int) -> bool:
        """Remove one drawing and take its answers out of the confusion counts; False when there was none."""
        def remove(connection) -> int:
            connection.execute(
                "UPDATE confusion SET count = count - 1 WHERE (model, version, label, digit) IN"
                " (SELECT answers.model, answers.version, drawings.label, answers.digit FROM answers"
                "  JOIN drawings ON drawings.id = answers.drawing_id WHERE answers.drawing_id = ?)", (drawing_id,))
            connection.execute("DELETE FROM answers WHERE drawing_id = ?", (drawing_id,))
            removed = connection.execute("DELETE FROM drawings WHERE id = ? RETURNING length(image)",
                                         (drawing_id,)).fetchall()
            count_usage(connection, -len(removed), -sum(length + ROW_OVERHEAD_BYTES for (length,) in removed))
            return len(removed)

        return self.transaction(remove) > 0

    def clear(self) -> int:
        """Remove every drawing with its answers and confusion counts; how many drawings there were.

        Row ids are never reused (SQLite's AUTOINCREMENT, PostgreSQL's identity sequences), so an id seen
        before the clearing names no new drawing.
        """
        def remove_all(connection) -> int:
            connection.execute("DELETE FROM confusion")
            connection.execute("DELETE FROM answers")
            connection.execute("UPDATE drawings_usage SET value = 0")
            return connection.execute("DELETE FROM drawings").rowcount

        return self.transaction(remove_all)

    def original(self, drawing_id: int) -> bytes | None:
        """The kept copy of the drawing as uploaded (downscaled, re-encoded), or None when there is none."""
        rows = self.read("SELECT image FROM drawings WHERE id = ?", (drawing_id,))
        return bytes(rows[0][0]) if rows else None

    def classroom_setting(self, name: str, default: str) -> str:
        """A teacher's choice that holds for every worker and instance sharing this file."""
        rows = self.read("SELECT value FROM classroom WHERE name = ?", (name,))
        return rows[0][0] if rows else default

    def set_classroom_setting(self, name: str, value: str) -> None:
        self.transaction(lambda connection: connection.execute(
            "INSERT INTO classroom (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, value)))

    def shared_secret(self) -> str:
        """A random key made once for everything that shares this file (workers, instances, restarts)."""
        rows = self.read("SELECT value FROM classroom WHERE name = 'secret_key'")
        if rows:
            return rows[0][0]

        def make(connection) -> str:
            connection.execute("INSERT INTO classroom (name, value) VALUES ('secret_key', ?) ON CONFLICT DO NOTHING",
                               (secrets.token_hex(32),))
            return connection.execute("SELECT value FROM classroom WHERE name = 'secret_key'").fetchone()[0]

        return self.transaction(make)

    def count(self, label: int | None = None) -> int:
        where, parameters = label_filter(label)
        return self.read(f"SELECT count(*) FROM drawings {where}", parameters)[0][0]

    def page(self, limit: int, offset: int = 0, label: int | None = None) -> list[Drawing]:
        """Newest first, optionally only the drawings the people labelled `label`."""
        where, parameters = label_filter(label)
        rows = self.read(
            "SELECT id, created, label, prediction, model, model_version, mode, probabilities, input"
            f" FROM drawings {where} ORDER BY id DESC LIMIT ? OFFSET ?", (*parameters, limit, offset))
        return [Drawing(id=row[0], created=row[1], label=row[2], prediction=row[3], model=row[4],
                        model_version=row[5], mode=row[6],
                        probabilities=None if row[7] is None else json.loads(row[7]),
                        pixels=pixels_from_blob(row[8])) for row in rows]

    def label_counts(self) -> list[int]:
        """How many drawings carry each label 0-9."""
        counts = [0] * CLASSES
        for label, number in self.read("SELECT label, count(*) FROM drawings GROUP BY label"):
            counts[label] = number
        return counts

    def labelled_inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every drawing in id order as (ids, x uint8 Nx28x28, y uint8 N): Keras' MNIST layout."""
        return inputs_of(self.read("SELECT id, input, label FROM drawings ORDER BY id"))

    def labelled_drawings(self) -> Labelled:
        """Every drawing in id order with who drew it: what fine-tuning learns from and holds out."""
        rows = self.read("SELECT id, input, label, writer FROM drawings ORDER BY id")
        return Labelled(*inputs_of([row[:3] for row in rows]), [row[3] for row in rows])

    def collected(self) -> dict:
        """How many drawings each label has and how many students drew them (the teacher's page)."""
        counts = self.label_counts()
        writers = self.read("SELECT count(DISTINCT writer) FROM drawings")[0][0]
        return {"drawings": sum(counts), "per_label": counts, "students": writers}

    def confusion(self, model: ModelKey) -> np.ndarray:
        """10x10 counts of this model version's answers: rows the people's labels, columns its digits."""
        matrix = np.zeros((CLASSES, CLASSES), np.int64)
        for label, digit, number in self.read(
                "SELECT label, digit, count FROM confusion WHERE model = ? AND version = ?", model):
            matrix[label, digit] = number
        return matrix

    def unanswered(self, model: ModelKey, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to `limit` drawings this model version has not answered yet, newest first, as (ids, x, y)."""
        return inputs_of(self.read(
            "SELECT id, input, label FROM drawings WHERE NOT EXISTS (SELECT 1 FROM answers"
            " WHERE answers.model = ? AND answers.version = ? AND answers.drawing_id = drawings.id)"
            " ORDER BY id DESC LIMIT ?", (*model, limit)))

    def add_answers(self, model: ModelKey, ids: np.ndarray, labels: np.ndarray, digits: np.ndarray) -> None:
        """Keep a model version's answers to drawings stored before it; counted once each, even when
        another worker answered the same drawings meanwhile or one was deleted."""
        def insert(connection) -> None:
            answered = Counter()
            for drawing_id, label, digit in zip(ids.tolist(), labels.tolist(), digits.tolist()):
                if connection.execute(
                        "INSERT INTO answers (model, version, drawing_id, digit)"
                        " SELECT ?, ?, id, ? FROM drawings WHERE id = ? ON CONFLICT DO NOTHING",
                        (*model, digit, drawing_id)).rowcount:
                    answered[(*model, label, digit)] += 1
            add_to_confusion(connection, answered)

        self.transaction(insert)

    def usage(self) -> tuple[int, int]:
        """(drawings, bytes they take in the database) now."""
        with self.database.connection() as connection:
            return stored_rows(connection), self.database.used_bytes(connection)

    def health(self) -> dict:
        """The store's state for /api/health: `failing` when a write would fail, `full` at the quota."""
        try:
            rows, used = self.usage()   # opens (and on first use creates) the database
            problem = self.write_problem()
        except StoreRefused as error:
            rows, used, problem = None, None, self.write_problem() or str(error)
        full = rows is not None and self.is_over_quota(rows, used, self.typical_drawing_bytes())
        report = {"status": "failing" if problem else "full" if full else "ok",
                  "rows": rows, "bytes": used, "max_rows": self.max_rows, "max_bytes": self.max_bytes}
        return {**report, "problem": problem} if problem else report

    def write_problem(self) -> str | None:
        """Why a write would fail now, found without writing (a read-only or full disk), or None."""
        return self.database.write_problem()

    def is_over_quota(self, rows: int, used: int, next_drawing: int = 0) -> bool:
        """True when the next drawing, of about `next_drawing` bytes, would not fit: a write that passes the
        quota is refused and rolled back, so the file itself never reaches it."""
        return ((self.max_rows is not None and rows >= self.max_rows)
                or (self.max_bytes is not None and used + next_drawing > self.max_bytes))

    def typical_drawing_bytes(self) -> int:
        """About what one more drawing takes: the recent kept copies' average size, its 28x28 input and
        its row and answers (a small sample: health checks stay cheap at any size)."""
        average = self.read("SELECT avg(length(image)) FROM (SELECT image FROM drawings ORDER BY id DESC"
                             " LIMIT 100) AS recent")[0][0]
        return int(average) + ROW_OVERHEAD_BYTES if average else 0

    def _check_quota(self, connection) -> None:
        """After this transaction's inserts: refuse them all when they took the store past its quota."""
        if self.max_rows is not None:
            rows = stored_rows(connection)
            if rows > self.max_rows:
                raise StoreFull(f"The drawings store is full: it keeps at most {self.max_rows:,} "
                                f"drawing{'' if self.max_rows == 1 else 's'}. "
                                "A teacher can export the drawings and delete some to make room.")
        if self.max_bytes is not None and self.database.used_bytes(connection) > self.max_bytes:
            raise StoreFull(f"The drawings store is full: it may use at most {self.max_bytes / 2**20:g} MiB. "
                            "A teacher can export the drawings and delete some to make room.")

    def read(self, sql: str, parameters=()) -> list[tuple]:
        """The rows of one query, on a pooled connection."""
        with self.database.connection() as connection:
            return connection.execute(sql, parameters).fetchall()

    def transaction(self, work):
        """Run `work(connection)` in one write transaction (again from the start while the database is busy):
        all of it is kept, or none."""
        return self.database.transaction(work)


def open_database(location: str | Path, wal_limit: int | None = None) -> SqliteDatabase | PostgresDatabase:
    """`postgresql://...` (or `postgres://...`): that PostgreSQL database; `sqlite:///path` or a path: that
    SQLite file."""
    text = str(location)
    if is_server_url(text):
        return PostgresDatabase(text)
    return SqliteDatabase(text.removeprefix("sqlite://"), wal_limit)


def is_server_url(location: str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def label_filter(label: int | None) -> tuple[str, tuple]:
    return ("", ()) if label is None else ("WHERE label = ?", (int(label),))


def pixels_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)


def row_of(drawing: NewDrawing, created: str) -> tuple:
    model_input = to_uint8(np.asarray(drawing.pixels)).reshape(IMAGE_SIDE, IMAGE_SIDE)
    probabilities = (None if drawing.probabilities is None
                     else json.dumps([round(float(p), 6) for p in drawing.probabilities]))
    prediction = None if drawing.prediction is None else int(drawing.prediction)
    return (created, bytes(drawing.image), model_input.tobytes(), int(drawing.label), drawing.model,
            drawing.model_version, prediction, probabilities, drawing.mode, drawing.writer)


def add_to_confusion(connection, answered: Counter) -> None:
    """Add counts keyed by (model, version, label, digit) to the confusion table."""
    connection.executemany(
        "INSERT INTO confusion (model, version, label, digit, count) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (model, version, label, digit) DO UPDATE SET count = confusion.count + excluded.count",
        [(*key, number) for key, number in answered.items()])


def count_usage(connection, rows: int, size: int) -> None:
    """Add to the drawings' counts (webapp/feedback/schema.py, step 6), in the caller's transaction."""
    connection.executemany("UPDATE drawings_usage SET value = value + ? WHERE name = ?",
                           [(rows, "rows"), (size, "bytes")])


def stored_rows(connection) -> int:
    return connection.execute("SELECT value FROM drawings_usage WHERE name = 'rows'").fetchone()[0]


def inputs_of(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, input, label) rows as (ids int64, x uint8 Nx28x28, y uint8 N)."""
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    x = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    y = np.array([row[2] for row in rows], dtype=np.uint8)
    return ids, x, y
