"""The drawings people labelled, kept in SQLite so the app can learn from them.

Each row is a small re-encoded copy of the drawing (webapp/vision/kept_images.py), the
28x28 input the model saw, the digit the person says it is, and what the model
answered; beside it every loaded model's answer and, per model version, how often
each label got each answer (webapp/feedback/drawing_scores.py reads those). Every call
borrows a connection from the store's pool (webapp/feedback/sqlite_pool.py), so no two
threads use one at the same time and worker processes never share one; WAL lets
readers go on while one writer writes; `BEGIN IMMEDIATE` takes the write lock
before anything is read, so two writers queue up (and retry when the wait runs
out) instead of failing half way.

WAL with `synchronous=NORMAL` never corrupts the file and loses nothing when the
app crashes; only a power cut may drop the last commits. FULL would sync the
disk on every commit: 8 ms per drawing here instead of 0.2 ms.

The store never takes more than its quota (rows and bytes, checked inside the
write transaction, so concurrent writers cannot overshoot it together), and a
store that cannot write (read-only or full disk, a damaged file) raises
StoreRefused with a sentence and the HTTP status to answer, never a bare
sqlite3 error.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import sqlite3
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from webapp.feedback.sqlite_pool import ConnectionPool
from webapp.mnist_format import CLASSES, IMAGE_SIDE
from webapp.vision.images import to_uint8

WRITE_ATTEMPTS = 5
ROW_OVERHEAD_BYTES = 1024           # a drawing's 28x28 input, its row, its answers and their index entries
MIN_FREE_DISK_BYTES = 1024 * 1024   # less free space than this and the next write may fail half way

# The schema, one step per version; PRAGMA user_version counts the steps applied.
# Add a step at the end to change the schema; never edit a step that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the drawings and what the model said about them
    ("""CREATE TABLE drawings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created TEXT NOT NULL,
            image BLOB NOT NULL,
            input BLOB NOT NULL CHECK (length(input) = 784),
            label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
            model TEXT,
            prediction INTEGER CHECK (prediction BETWEEN 0 AND 9),
            probabilities TEXT)""",),
    # 2: which file of the model answered and in which mode; an index for the label filter
    ("ALTER TABLE drawings ADD COLUMN model_version TEXT",
     "ALTER TABLE drawings ADD COLUMN mode TEXT NOT NULL DEFAULT 'digit'",
     "CREATE INDEX drawings_by_label ON drawings (label, id)"),
    # 3: each model version's answer to each drawing, and how often each label got each answer
    ("""CREATE TABLE answers (
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            drawing_id INTEGER NOT NULL,
            digit INTEGER NOT NULL CHECK (digit BETWEEN 0 AND 9),
            PRIMARY KEY (model, version, drawing_id)) WITHOUT ROWID""",
     "CREATE INDEX answers_by_drawing ON answers (drawing_id)",
     """CREATE TABLE confusion (
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            label INTEGER NOT NULL,
            digit INTEGER NOT NULL,
            count INTEGER NOT NULL CHECK (count >= 0),
            PRIMARY KEY (model, version, label, digit)) WITHOUT ROWID"""),
    # 4: what the teacher decided for everyone (e.g. whether drawings are collected at all)
    ("""CREATE TABLE classroom (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL) WITHOUT ROWID""",),
    # 5: every published version of every model with its files, and which one each model serves
    #    (webapp/feedback/model_versions.py)
    ("""CREATE TABLE model_versions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            number INTEGER NOT NULL,
            created TEXT NOT NULL,
            parent_id INTEGER REFERENCES model_versions (id),
            sha256 TEXT NOT NULL,
            trained_on TEXT NOT NULL,
            report TEXT NOT NULL,
            UNIQUE (model, sha256),
            UNIQUE (model, number))""",
     """CREATE TABLE model_files (
            version_id INTEGER NOT NULL REFERENCES model_versions (id),
            suffix TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            content BLOB NOT NULL,
            PRIMARY KEY (version_id, suffix)) WITHOUT ROWID""",
     """CREATE TABLE current_versions (
            model TEXT PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES model_versions (id),
            changed TEXT NOT NULL) WITHOUT ROWID""",
     # fine-tuning runs started from the teacher's page, their progress and result (training/finetune.py)
     """CREATE TABLE finetune_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('running', 'published', 'refused', 'failed')),
            started TEXT NOT NULL,
            updated REAL NOT NULL,
            host TEXT,
            pid INTEGER,
            progress TEXT NOT NULL DEFAULT '',
            result TEXT)"""),
)
SCHEMA_VERSION = len(MIGRATIONS)

ModelKey = tuple[str, str]   # (model name, model version): a model file's answers never change


class StoreRefused(Exception):
    """The store cannot take this write (or read); the message is a sentence for the person."""

    status = 503


class StoreUnavailable(StoreRefused):
    """The file cannot be written or read: a read-only disk or file, a damaged file, a long lock."""


class StoreFull(StoreRefused):
    """The quota is reached, or the disk is full."""

    status = 507


class SchemaTooNew(StoreUnavailable):
    """The file was written by a newer Digit Draw; opening it here could damage it."""


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
    """The drawings of one SQLite file, created and migrated on first use, within a quota.

    `max_rows` and `max_bytes` (the file's used pages) of None mean no quota;
    `wal_limit` (bytes) is the size the WAL is truncated back to after a checkpoint.
    """

    def __init__(self, path: str | Path, *, max_rows: int | None = None, max_bytes: int | None = None,
                 wal_limit: int | None = None):
        self.path = Path(path)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._write_lock = threading.Lock()
        self._pool = ConnectionPool(self.path, wal_limit, prepare=self._prepare_file)

    def add(self, *drawings: NewDrawing) -> list[int]:
        """Keep the drawings, all or none, with their models' answers; their ids (never reused)."""
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")

        def insert(connection: sqlite3.Connection) -> list[int]:
            ids, answered = [], Counter()
            for drawing in drawings:
                drawing_id = connection.execute(
                    "INSERT INTO drawings (created, image, input, label, model, model_version, prediction,"
                    " probabilities, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row_of(drawing, created)).lastrowid
                connection.executemany(
                    "INSERT INTO answers (model, version, drawing_id, digit) VALUES (?, ?, ?, ?)",
                    [(name, version, drawing_id, int(digit)) for (name, version), digit in drawing.answers.items()])
                answered.update((name, version, int(drawing.label), int(digit))
                                for (name, version), digit in drawing.answers.items())
                ids.append(drawing_id)
            add_to_confusion(connection, answered)
            self._check_quota(connection)
            return ids

        return self.transaction(insert)

    def delete(self, drawing_id: int) -> bool:
        """Remove one drawing and take its answers out of the confusion counts; False when there was none."""
        def remove(connection: sqlite3.Connection) -> int:
            connection.execute(
                "UPDATE confusion SET count = count - 1 WHERE (model, version, label, digit) IN"
                " (SELECT answers.model, answers.version, drawings.label, answers.digit FROM answers"
                "  JOIN drawings ON drawings.id = answers.drawing_id WHERE answers.drawing_id = ?)", (drawing_id,))
            connection.execute("DELETE FROM answers WHERE drawing_id = ?", (drawing_id,))
            return connection.execute("DELETE FROM drawings WHERE id = ?", (drawing_id,)).rowcount

        return self.transaction(remove) > 0

    def clear(self) -> int:
        """Remove every drawing with its answers and confusion counts; how many drawings there were.

        Row ids are never reused (AUTOINCREMENT), so an id seen before the clearing names no new drawing.
        """
        def remove_all(connection: sqlite3.Connection) -> int:
            connection.execute("DELETE FROM confusion")
            connection.execute("DELETE FROM answers")
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

        def make(connection: sqlite3.Connection) -> str:
            connection.execute("INSERT OR IGNORE INTO classroom (name, value) VALUES ('secret_key', ?)",
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
        def insert(connection: sqlite3.Connection) -> None:
            answered = Counter()
            for drawing_id, label, digit in zip(ids.tolist(), labels.tolist(), digits.tolist()):
                if connection.execute(
                        "INSERT OR IGNORE INTO answers (model, version, drawing_id, digit)"
                        " SELECT ?, ?, id, ? FROM drawings WHERE id = ?", (*model, digit, drawing_id)).rowcount:
                    answered[(*model, label, digit)] += 1
            add_to_confusion(connection, answered)

        self.transaction(insert)

    def usage(self) -> tuple[int, int]:
        """(drawings, bytes of the file in use) now."""
        with self._connection() as connection:
            return (connection.execute("SELECT count(*) FROM drawings").fetchone()[0], used_bytes(connection))

    def health(self) -> dict:
        """The store's state for /api/health: `failing` when a write would fail, `full` at the quota."""
        try:
            rows, used = self.usage()   # opens (and on first use creates) the file and its folder
            problem = self.write_problem()
        except StoreRefused as error:
            rows, used, problem = None, None, self.write_problem() or str(error)
        full = rows is not None and self.is_over_quota(rows, used, self.typical_drawing_bytes())
        report = {"status": "failing" if problem else "full" if full else "ok",
                  "rows": rows, "bytes": used, "max_rows": self.max_rows, "max_bytes": self.max_bytes}
        return {**report, "problem": problem} if problem else report

    def write_problem(self) -> str | None:
        """Why a write would fail now, found without writing (the file is never opened outside SQLite:
        closing another descriptor of it would drop SQLite's locks)."""
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
            return "The drawings file is read-only, so no drawing can be kept."
        if not self.path.parent.is_dir():
            return "The folder of the drawings file does not exist and cannot be made."
        if not os.access(self.path.parent, os.W_OK):
            return "The folder of the drawings file is read-only, so no drawing can be kept."
        disk = os.statvfs(self.path.parent)
        if disk.f_bavail * disk.f_frsize < MIN_FREE_DISK_BYTES:
            return "The disk holding the drawings is full, so no drawing can be kept."
        return None

    def is_over_quota(self, rows: int, used: int, next_drawing: int = 0) -> bool:
        """True when the next drawing, of about `next_drawing` bytes, would not fit: a write that passes the
        quota is refused and rolled back, so the file itself never reaches it."""
        return ((self.max_rows is not None and rows >= self.max_rows)
                or (self.max_bytes is not None and used + next_drawing > self.max_bytes))

    def typical_drawing_bytes(self) -> int:
        """About what one more drawing takes: the recent kept copies' average size, its 28x28 input and
        its row and answers (a small sample: health checks stay cheap at any size)."""
        average = self.read("SELECT avg(length(image)) FROM (SELECT image FROM drawings ORDER BY id DESC"
                             " LIMIT 100)")[0][0]
        return int(average or 0) + ROW_OVERHEAD_BYTES if average else 0

    def _check_quota(self, connection: sqlite3.Connection) -> None:
        """After this transaction's inserts: refuse them all when they took the store past its quota."""
        if self.max_rows is not None:
            rows = connection.execute("SELECT count(*) FROM drawings").fetchone()[0]
            if rows > self.max_rows:
                raise StoreFull(f"The drawings store is full: it keeps at most {self.max_rows:,} "
                                f"drawing{'' if self.max_rows == 1 else 's'}. "
                                "A teacher can export the drawings and delete some to make room.")
        if self.max_bytes is not None and used_bytes(connection) > self.max_bytes:
            raise StoreFull(f"The drawings store is full: it may use at most {self.max_bytes / 2**20:g} MiB. "
                            "A teacher can export the drawings and delete some to make room.")

    def _connection(self):
        """A pooled connection; whatever fails while it is used is raised as StoreRefused."""
        return refusing_on_failure(self._pool)

    def read(self, sql: str, parameters=()) -> list[tuple]:
        """The rows of one query, on a pooled connection."""
        with self._connection() as connection:
            return connection.execute(sql, parameters).fetchall()

    def transaction(self, work):
        """Run `work(connection)` in one write transaction, again from the start while the file is busy.

        Threads of this process wait for each other on a lock: SQLite's own busy wait
        sleeps in steps of milliseconds, which would make them slower than one thread.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            with self._write_lock, self._connection() as connection:
                try:
                    return run_in_transaction(connection, work)
                except sqlite3.OperationalError as error:
                    if not is_busy(error) or attempt == WRITE_ATTEMPTS:
                        raise
            time.sleep(0.05 * attempt)

    def _prepare_file(self, connection: sqlite3.Connection) -> None:
        """Turn on WAL (stored in the file: once is enough) and create or migrate the schema."""
        connection.execute("PRAGMA journal_mode=WAL")
        run_in_transaction(connection, migrate)


def run_in_transaction(connection: sqlite3.Connection, work):
    """`work(connection)` between BEGIN IMMEDIATE and COMMIT; rolled back if anything fails."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
        connection.execute("COMMIT")
        return result
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def migrate(connection: sqlite3.Connection) -> None:
    """Apply the steps this file has not had yet, inside the caller's transaction (all or nothing)."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(f"The drawings database has schema version {version}; this Digit Draw "
                           f"knows versions up to {SCHEMA_VERSION}. Update the app to open it.")
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in statements:
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {number}")


def is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


def label_filter(label: int | None) -> tuple[str, tuple]:
    return ("", ()) if label is None else ("WHERE label = ?", (int(label),))


def pixels_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)


@contextmanager
def refusing_on_failure(pool: ConnectionPool):
    """A connection of `pool`; SQLite's and the file system's failures become StoreRefused sentences.

    A CHECK constraint failing is a bug in the caller, not a state of the disk: it stays as it is.
    """
    try:
        with pool.connection() as connection:
            yield connection
    except sqlite3.IntegrityError:
        raise
    except (sqlite3.Error, OSError) as error:
        raise refusal_for(error) from error


def refusal_for(error: sqlite3.Error | OSError) -> StoreRefused:
    """The sentence and status for a failed read or write; predictions never depend on the store."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or getattr(error, "errno", None) == errno.ENOSPC:
        return StoreFull("The server's disk is full, so the drawing cannot be kept. Predictions still work.")
    if isinstance(error, sqlite3.OperationalError) and is_busy(error):
        return StoreUnavailable("The drawings store is busy; please try again in a moment.")
    if name.startswith("SQLITE_READONLY"):
        return StoreUnavailable("The drawings store is read-only on this server, so nothing can be kept. "
                                "Predictions still work.")
    return StoreUnavailable("The drawings store cannot be used on this server right now "
                            f"({name or error.__class__.__name__}). Predictions still work.")


def row_of(drawing: NewDrawing, created: str) -> tuple:
    model_input = to_uint8(np.asarray(drawing.pixels)).reshape(IMAGE_SIDE, IMAGE_SIDE)
    probabilities = (None if drawing.probabilities is None
                     else json.dumps([round(float(p), 6) for p in drawing.probabilities]))
    prediction = None if drawing.prediction is None else int(drawing.prediction)
    return (created, bytes(drawing.image), model_input.tobytes(), int(drawing.label), drawing.model,
            drawing.model_version, prediction, probabilities, drawing.mode)


def add_to_confusion(connection: sqlite3.Connection, answered: Counter) -> None:
    """Add counts keyed by (model, version, label, digit) to the confusion table."""
    connection.executemany(
        "INSERT INTO confusion (model, version, label, digit, count) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO UPDATE SET count = count + excluded.count",
        [(*key, number) for key, number in answered.items()])


def used_bytes(connection: sqlite3.Connection) -> int:
    """The pages of the file that hold data (free pages left by deletes are reused before it grows)."""
    pages, free, size = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                         for name in ("page_count", "freelist_count", "page_size"))
    # Model versions live in the same file but are not drawings: the quota is the drawings'.
    models = connection.execute("SELECT coalesce(sum(length(content)), 0) FROM model_files").fetchone()[0]
    return max(0, (pages - free) * size - models)


def inputs_of(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, input, label) rows as (ids int64, x uint8 Nx28x28, y uint8 N)."""
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    x = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    y = np.array([row[2] for row in rows], dtype=np.uint8)
    return ids, x, y
