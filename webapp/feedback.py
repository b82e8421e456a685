"""The drawings people labelled, kept in SQLite so the app can learn from them.

Each row is one drawing as it was sent (so its input can be computed again when
the preprocessing improves), the 28x28 input the model saw, the digit the person
says it is, and what the model answered. Every call borrows a
connection from the store's pool, so no two threads use one at the same time
and worker processes never share one; WAL lets readers go on while one writer
writes; `BEGIN IMMEDIATE` takes the write lock before anything is read, so two
writers queue up (and retry when the wait runs out) instead of failing half way.

WAL with `synchronous=NORMAL` never corrupts the file and loses nothing when the
app crashes; only a power cut may drop the last commits. FULL would sync the
disk on every commit: 8 ms per drawing here instead of 0.2 ms.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from webapp.images import to_uint8
from webapp.report import confusion_matrix

INPUT_SIZE = 28
BUSY_TIMEOUT_SECONDS = 10.0
WRITE_ATTEMPTS = 5

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
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer Digit Draw; opening it here could damage it."""


@dataclass
class Drawing:
    """One stored drawing without its original bytes (pages never need those)."""

    id: int
    created: str
    label: int
    prediction: int | None
    model: str | None
    model_version: str | None
    mode: str
    probabilities: list[float] | None
    pixels: np.ndarray   # the 28x28 uint8 model input


@dataclass
class ModelScore:
    """How one model does on the collected drawings."""

    name: str
    version: str
    total: int
    errors: int
    accuracy: float | None
    confusion_matrix: list[list[int]]   # rows are the people's labels, columns the model's answers


class FeedbackStore:
    """The `drawings` table of one SQLite file, created and migrated on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._write_lock = threading.Lock()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._pid = os.getpid()

    def add(self, *, image: bytes, pixels: np.ndarray, label: int, model: str | None = None,
            model_version: str | None = None, prediction: int | None = None,
            probabilities=None, mode: str = "digit") -> int:
        """Store one labelled drawing; returns its id (never reused, even after a delete)."""
        model_input = to_uint8(np.asarray(pixels)).reshape(INPUT_SIZE, INPUT_SIZE)
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        row = (created, bytes(image), model_input.tobytes(), int(label), model, model_version,
               None if prediction is None else int(prediction),
               None if probabilities is None else json.dumps([round(float(p), 6) for p in probabilities]),
               mode)
        return self._write(lambda connection: connection.execute(
            "INSERT INTO drawings (created, image, input, label, model, model_version, prediction,"
            " probabilities, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid)

    def delete(self, drawing_id: int) -> bool:
        """Remove one drawing; False when there was none with that id."""
        return self._write(lambda connection: connection.execute(
            "DELETE FROM drawings WHERE id = ?", (drawing_id,)).rowcount) > 0

    def count(self, label: int | None = None) -> int:
        where, parameters = label_filter(label)
        return self._read(f"SELECT count(*) FROM drawings {where}", parameters)[0][0]

    def page(self, limit: int, offset: int = 0, label: int | None = None) -> list[Drawing]:
        """Newest first, optionally only the drawings the people labelled `label`."""
        where, parameters = label_filter(label)
        rows = self._read(
            "SELECT id, created, label, prediction, model, model_version, mode, probabilities, input"
            f" FROM drawings {where} ORDER BY id DESC LIMIT ? OFFSET ?", (*parameters, limit, offset))
        return [Drawing(id=row[0], created=row[1], label=row[2], prediction=row[3], model=row[4],
                        model_version=row[5], mode=row[6],
                        probabilities=None if row[7] is None else json.loads(row[7]),
                        pixels=pixels_from_blob(row[8])) for row in rows]

    def label_counts(self) -> list[int]:
        """How many drawings carry each label 0-9."""
        counts = [0] * 10
        for label, number in self._read("SELECT label, count(*) FROM drawings GROUP BY label"):
            counts[label] = number
        return counts

    def labelled_inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every drawing in id order as (ids, x uint8 Nx28x28, y uint8 N): Keras' MNIST layout."""
        rows = self._read("SELECT id, input, label FROM drawings ORDER BY id")
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        x = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.uint8).reshape(-1, INPUT_SIZE, INPUT_SIZE)
        y = np.array([row[2] for row in rows], dtype=np.uint8)
        return ids, x, y

    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    @contextmanager
    def _connection(self):
        """An idle connection of the pool, or a new one; it goes back to the pool afterwards.

        Connections stay open because closing the last one on a WAL file checkpoints
        the file and deletes the WAL: a disk sync on every call. They are in
        autocommit mode: transactions are begun explicitly.
        """
        if self._pid != os.getpid():   # a forked worker must not touch its parent's connections
            self._idle, self._pid = queue.SimpleQueue(), os.getpid()
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA synchronous=NORMAL")
        try:
            yield connection
        finally:
            self._idle.put(connection)

    def _read(self, sql: str, parameters=()) -> list[tuple]:
        self._ensure_schema()
        with self._connection() as connection:
            return connection.execute(sql, parameters).fetchall()

    def _write(self, work):
        self._ensure_schema()
        return self._transaction(work)

    def _transaction(self, work):
        """Run `work(connection)` in one write transaction, again from the start while the file is busy.

        Threads of this process wait for each other on a lock: SQLite's own busy wait
        sleeps in steps of milliseconds, which would make them slower than one thread.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            with self._write_lock, self._connection() as connection:
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    result = work(connection)
                    connection.execute("COMMIT")
                    return result
                except sqlite3.OperationalError as error:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    if not is_busy(error) or attempt == WRITE_ATTEMPTS:
                        raise
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
            time.sleep(0.05 * attempt)

    def _ensure_schema(self) -> None:
        """Create or migrate the file once per store; a lock keeps threads from racing to do it."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as connection:
                connection.execute("PRAGMA journal_mode=WAL")   # stored in the file: once is enough
            self._transaction(migrate)
            self._schema_ready = True


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
    return np.frombuffer(blob, dtype=np.uint8).reshape(INPUT_SIZE, INPUT_SIZE)


class DrawingScorer:
    """How every loaded model does on the stored drawings: the accuracy that matters to people.

    Each model's answer to each drawing is computed once and remembered, keyed by the
    model file's version and the drawing's id: a stored input never changes, so only
    drawings added since the last look are run through the models.
    """

    def __init__(self):
        self._answers: dict[tuple[str, str], dict[int, int]] = {}

    def scores(self, registry, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[ModelScore]:
        return [self.score(registry.classifiers[name], ids, x, y) for name in registry.names]

    def score(self, classifier, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> ModelScore:
        answers = self._answers.setdefault((classifier.name, classifier.version), {})
        unseen = np.array([drawing_id not in answers for drawing_id in ids.tolist()], dtype=bool)
        if unseen.any():
            digits = classifier.predict(x[unseen].astype(np.float32) / 255.0).argmax(axis=1)
            answers.update(zip(ids[unseen].tolist(), digits.tolist()))
        predicted = np.array([answers[drawing_id] for drawing_id in ids.tolist()], dtype=np.int64)
        errors = int(np.sum(predicted != y))
        return ModelScore(name=classifier.name, version=classifier.version, total=len(y), errors=errors,
                          accuracy=round(1 - errors / len(y), 5) if len(y) else None,
                          confusion_matrix=confusion_matrix(y, predicted).tolist())
