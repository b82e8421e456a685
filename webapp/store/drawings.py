"""The drawings people labelled, kept so the app can learn from them.

Each row is a small re-encoded copy of the drawing (webapp/vision/kept_images.py), the 28x28 input the model
saw, the digit the person says it is, what the model answered and who drew it (a keyed hash of the address);
beside it every loaded model's answer and, per model version, how often each label got each answer
(webapp/store/drawing_scores.py reads those). The same database keeps the model versions (versions.py), the
fine-tuning runs (jobs.py) and the teacher's choices (classroom.py), so every worker and instance sharing it
agrees on them.

The queries are SQLAlchemy Core on the tables of webapp/store/schema.py, the same for SQLite and PostgreSQL
(webapp/store/database.py); `transaction` runs its work holding the database's one write lock, so writers
queue up instead of failing half way. The store never takes more than its quota (rows and bytes, checked
inside the write transaction, so concurrent writers cannot overshoot it together), and a store that cannot
write (read-only or full disk, a damaged file, a server that cannot be reached) raises StoreRefused with a
sentence and the HTTP status to answer, never a bare database error.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa

from webapp.mnist_format import CLASSES, IMAGE_SIDE
from webapp.sentences import N_
from webapp.store.database import Database, open_database
from webapp.store.refusals import AlreadyKept, StoreFull, StoreRefused, TooManyFromOneDevice
from webapp.store.schema import answers, confusion, drawings, drawings_usage, round_hidden, rounds
from webapp.vision.images import to_uint8

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
    round_id: int | None = None  # the class round it was sent in (webapp/store/rounds.py)
    nickname: str | None = None  # the sending device's nickname, in a round
    held_out: bool | None = None  # in a round: one of its fixed held-out fifth (Rounds.add_drawing decides)


class Labelled(NamedTuple):
    """Every drawing in id order as Keras' MNIST layout, with who drew each (None: not recorded)."""

    ids: np.ndarray       # int64 N
    x: np.ndarray         # uint8 Nx28x28
    y: np.ndarray         # uint8 N
    writers: list[str | None]
    fixed: np.ndarray     # int8 N: 1 held out for good (a round's fifth), 0 never held out, -1 the run decides


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


class Store:
    """The drawings of one database (a SQLite file or a PostgreSQL server), created and migrated on first use,
    within a quota.

    `max_rows` and `max_bytes` (the drawings' share of the database) of None mean no quota;
    `max_per_label_hour`: the most drawings of one label one device (writer) may add in an hour, None: no cap;
    `wal_limit` (bytes, SQLite only) is the size the WAL is truncated back to after a checkpoint.
    """

    def __init__(self, database: str | Path, *, max_rows: int | None = None, max_bytes: int | None = None,
                 max_per_label_hour: int | None = None, wal_limit: int | None = None):
        self.database: Database = open_database(database, wal_limit)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.max_per_label_hour = max_per_label_hour

    @property
    def path(self) -> Path | None:
        """The SQLite file; None when the store is on a PostgreSQL server."""
        return getattr(self.database, "path", None)

    def exists(self) -> bool:
        """Whether anything was ever kept here (a SQLite file is created by the first write or read)."""
        return self.database.exists()

    def add(self, *new: NewDrawing, check=None) -> list[int]:
        """Keep the drawings, all or none, with their models' answers; their ids (never reused). AlreadyKept
        when one of them is kept already, TooManyFromOneDevice past a device's hourly cap for a label;
        `check(connection)` runs first in the same transaction and may refuse (a round that just ended)."""
        now = datetime.now(timezone.utc)
        created = now.isoformat(timespec="milliseconds")

        def insert(connection) -> list[int]:
            if check is not None:
                check(connection)
            self._check_device_cap(connection, new, now)
            ids, answered = [], Counter()
            for drawing in new:
                drawing_id = connection.execute(INSERT_DRAWING, row_of(drawing, created)).scalar()
                if drawing_id is None:
                    raise AlreadyKept(N_("This drawing is kept already: each drawing is kept once. Draw a new "
                                         "one to add another."))
                given = [{"model": name, "version": version, "drawing_id": drawing_id, "digit": int(digit)}
                         for (name, version), digit in drawing.answers.items()]
                if given:
                    connection.execute(INSERT_ANSWER, given)
                answered.update((name, version, int(drawing.label), int(digit))
                                for (name, version), digit in drawing.answers.items())
                ids.append(drawing_id)
            add_to_confusion(connection, answered)
            count_usage(connection, len(new), sum(len(drawing.image) + ROW_OVERHEAD_BYTES for drawing in new))
            self._check_quota(connection)
            return ids

        return self.transaction(insert)

    def delete(self, drawing_id: int) -> bool:
        """Remove one drawing and take its answers out of the confusion counts; False when there was none."""
        return self.transaction(lambda connection: delete_drawing(connection, drawing_id)) > 0

    def clear(self) -> int:
        """Remove every drawing with its answers and confusion counts; how many drawings there were.

        Row ids are never reused (SQLite's AUTOINCREMENT, PostgreSQL's identity sequences), so an id seen
        before the clearing names no new drawing.
        """
        def remove_all(connection) -> int:
            in_rounds = sa.select(drawings.c.round_id, drawings.c.id).where(drawings.c.round_id.is_not(None))
            connection.execute(round_hidden.insert().from_select(["round_id", "drawing_id"], in_rounds))
            connection.execute(rounds.update().where(rounds.c.id.in_(
                sa.select(drawings.c.round_id).where(drawings.c.round_id.is_not(None)).distinct()))
                .values(changes=rounds.c.changes + 1))
            connection.execute(confusion.delete())
            connection.execute(answers.delete())
            connection.execute(drawings_usage.update().values(value=0))
            return connection.execute(drawings.delete()).rowcount

        return self.transaction(remove_all)

    def original(self, drawing_id: int) -> bytes | None:
        """The kept copy of the drawing as uploaded (downscaled, re-encoded), or None when there is none."""
        rows = self.read(sa.select(drawings.c.image).where(drawings.c.id == drawing_id))
        return bytes(rows[0][0]) if rows else None

    def count(self, label: int | None = None, rounds: bool = True) -> int:
        """How many drawings (labelled `label`); `rounds=False`: not counting those sent in class rounds."""
        return self.read(with_label(sa.select(sa.func.count()).select_from(drawings), label, rounds))[0][0]

    def page(self, limit: int, offset: int = 0, label: int | None = None, rounds: bool = True) -> list[Drawing]:
        """Newest first, optionally only the drawings the people labelled `label`; `rounds=False`: without the
        drawings sent in class rounds (those only the teacher sees)."""
        c = drawings.c
        rows = self.read(with_label(sa.select(c.id, c.created, c.label, c.prediction, c.model, c.model_version,
                                              c.mode, c.probabilities, c.input), label, rounds)
                         .order_by(c.id.desc()).limit(limit).offset(offset))
        return [Drawing(id=row[0], created=row[1], label=row[2], prediction=row[3], model=row[4],
                        model_version=row[5], mode=row[6],
                        probabilities=None if row[7] is None else json.loads(row[7]),
                        pixels=pixels_from_blob(row[8])) for row in rows]

    def label_counts(self, rounds: bool = True) -> list[int]:
        """How many drawings carry each label 0-9 (`rounds=False`: not counting class rounds' drawings)."""
        counts = [0] * CLASSES
        for label, number in self.read(with_label(sa.select(drawings.c.label, sa.func.count()), None, rounds)
                                       .group_by(drawings.c.label)):
            counts[label] = number
        return counts

    def readings(self, ids: list[int], served: dict[str, str] | None = None) -> dict[int, dict[str, int]]:
        """Every model's reading of each of these drawings, by drawing id and model name: the version in
        `served` (model name -> version) where it read the drawing, else the earliest version that did (a
        model has several versions' answers once one was fine-tuned, compared or rolled back)."""
        found: dict[int, dict[str, int]] = {drawing_id: {} for drawing_id in ids}
        if not ids:
            return found
        served = served or {}
        rows = self.read(sa.select(answers.c.drawing_id, answers.c.model, answers.c.version, answers.c.digit)
                         .where(answers.c.drawing_id.in_(ids)).order_by(answers.c.version))
        for drawing_id, model, version, digit in rows:
            if model not in found[drawing_id] or served.get(model) == version:
                found[drawing_id][model] = digit
        return found

    def round_label_counts(self) -> list[int]:
        """How many drawings of class rounds carry each label 0-9 (read through the rounds' index)."""
        counts = [0] * CLASSES
        for label, number in self.read(sa.select(drawings.c.label, sa.func.count())
                                       .where(drawings.c.round_id.is_not(None)).group_by(drawings.c.label)):
            counts[label] = number
        return counts

    def labelled_inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every drawing in id order as (ids, x uint8 Nx28x28, y uint8 N): Keras' MNIST layout."""
        return inputs_of(self.read(sa.select(drawings.c.id, drawings.c.input, drawings.c.label)
                                   .order_by(drawings.c.id)))

    def labelled_drawings(self) -> Labelled:
        """Every drawing in id order with who drew it and whether a round fixed it as held out: what fine-tuning
        learns from and holds out."""
        c = drawings.c
        rows = self.read(sa.select(c.id, c.input, c.label, c.writer, c.held_out).order_by(c.id))
        fixed = np.array([-1 if row[4] is None else int(bool(row[4])) for row in rows], np.int8)
        return Labelled(*inputs_of([row[:3] for row in rows]), [row[3] for row in rows], fixed)

    def senders(self) -> list[tuple[int, str | None, int]]:
        """(label, writer, drawings) for each label and device: who supplied what (webapp/store/one_device.py)."""
        c = drawings.c
        return [tuple(row) for row in self.read(sa.select(c.label, c.writer, sa.func.count())
                                                .group_by(c.label, c.writer))]


    def confusion(self, model: ModelKey) -> np.ndarray:
        """10x10 counts of this model version's answers: rows the people's labels, columns its digits."""
        matrix = np.zeros((CLASSES, CLASSES), np.int64)
        c = confusion.c
        for label, digit, number in self.read(sa.select(c.label, c.digit, c.count)
                                              .where(c.model == model[0], c.version == model[1])):
            matrix[label, digit] = number
        return matrix

    def unanswered(self, model: ModelKey, limit: int, rounds: list[int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to `limit` drawings this model version has not answered yet, newest first, as (ids, x, y); only
        those of the given rounds when `rounds` is given."""
        query = (sa.select(drawings.c.id, drawings.c.input, drawings.c.label)
                 .where(~answered_by(model).exists()).order_by(drawings.c.id.desc()).limit(limit))
        if rounds is not None:
            query = query.where(drawings.c.round_id.in_(rounds))
        return inputs_of(self.read(query))

    def add_answers(self, model: ModelKey, ids: np.ndarray, labels: np.ndarray, digits: np.ndarray) -> None:
        """Keep a model version's answers to drawings stored before it; counted once each, even when
        another worker answered the same drawings meanwhile or one was deleted. Three statements, however
        many answers: the writers' lock is held for milliseconds."""
        given = {int(i): (int(label), int(digit)) for i, label, digit in zip(ids.tolist(), labels.tolist(),
                                                                              digits.tolist())}

        def insert(connection) -> None:
            if not given:
                return
            alive = set(connection.execute(sa.select(drawings.c.id).where(drawings.c.id.in_(given))).scalars())
            known = set(connection.execute(sa.select(answers.c.drawing_id).where(
                answers.c.model == model[0], answers.c.version == model[1],
                answers.c.drawing_id.in_(given))).scalars())
            new = sorted(alive - known)
            if not new:
                return
            connection.execute(INSERT_ANSWER, [{"model": model[0], "version": model[1], "drawing_id": drawing_id,
                                                "digit": given[drawing_id][1]} for drawing_id in new])
            add_to_confusion(connection, Counter((*model, *given[drawing_id]) for drawing_id in new))

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
        recent = sa.select(drawings.c.image).order_by(drawings.c.id.desc()).limit(100).subquery()
        average = self.read(sa.select(sa.func.avg(sa.func.length(recent.c.image))))[0][0]
        return int(average) + ROW_OVERHEAD_BYTES if average else 0

    def _check_device_cap(self, connection, new: tuple[NewDrawing, ...], now: datetime) -> None:
        """Refuse the write when it takes one device past max_per_label_hour drawings of one label (one
        address cannot fill the class's data with its own idea of a digit)."""
        if self.max_per_label_hour is None:
            return
        since = (now - timedelta(hours=1)).isoformat(timespec="milliseconds")
        for (writer, label), adding in Counter((d.writer, int(d.label)) for d in new if d.writer).items():
            sent = connection.execute(SENT_RECENTLY, {"writer": writer, "label": label, "since": since}).scalar_one()
            if sent + adding > self.max_per_label_hour:
                raise TooManyFromOneDevice(
                    N_("This device has sent %(sent)s drawings labelled %(label)s in the last hour, and one device "
                       "may send at most %(most)s of one digit an hour: draw other digits, or let classmates draw "
                       "this one."), sent=sent, label=label, most=self.max_per_label_hour)

    def _check_quota(self, connection) -> None:
        """After this transaction's inserts: refuse them all when they took the store past its quota."""
        if self.max_rows is not None:
            rows = stored_rows(connection)
            if rows > self.max_rows:
                raise StoreFull(f"The drawings store is full: it keeps at most {self.max_rows:,} "
                                f"drawing{'' if self.max_rows == 1 else 's'}. "
                                "A teacher can export the drawings and delete some to make room.")
        if self.max_bytes is not None and self.database.used_bytes(connection) > self.max_bytes:
            raise StoreFull(N_("The drawings store is full: it may use at most %(size)s MiB. A teacher can export "
                               "the drawings and delete some to make room."), size=f"{self.max_bytes / 2**20:g}")

    def read(self, query, parameters: dict | None = None) -> list[sa.Row]:
        """The rows of one query (a Core statement, or SQL text with :named parameters), on a pooled connection."""
        return self.database.read(query, parameters)

    def transaction(self, work):
        """Run `work(connection)` in one write transaction (again from the start while the database is busy):
        all of it is kept, or none."""
        return self.database.transaction(work)


def answered_by(model: ModelKey) -> sa.Select:
    """The answer of this model version to the drawing of the outer query (for EXISTS)."""
    return sa.select(answers.c.drawing_id).where(answers.c.model == model[0], answers.c.version == model[1],
                                                 answers.c.drawing_id == drawings.c.id)


def delete_drawing(connection, drawing_id: int) -> int:
    """In the caller's transaction: remove one drawing, its answers and their confusion counts; 1 or 0. A
    drawing of a class round is recorded as hidden from it, so every wall following the round drops it."""
    sent_in = connection.execute(sa.select(drawings.c.round_id).where(drawings.c.id == drawing_id)).scalar()
    if sent_in is not None:
        connection.execute(round_hidden.insert().values(round_id=sent_in, drawing_id=drawing_id))
        connection.execute(rounds.update().where(rounds.c.id == sent_in).values(changes=rounds.c.changes + 1))
    connection.execute(sa.text(
        "UPDATE confusion SET count = count - 1 WHERE (model, version, label, digit) IN"
        " (SELECT answers.model, answers.version, drawings.label, answers.digit FROM answers"
        "  JOIN drawings ON drawings.id = answers.drawing_id WHERE answers.drawing_id = :id)"),
        {"id": drawing_id})
    connection.execute(answers.delete().where(answers.c.drawing_id == drawing_id))
    removed = connection.execute(drawings.delete().where(drawings.c.id == drawing_id)
                                 .returning(sa.func.length(drawings.c.image))).scalars().all()
    count_usage(connection, -len(removed), -sum(length + ROW_OVERHEAD_BYTES for length in removed))
    return len(removed)


def collected(senders) -> dict:
    """How many drawings each label has and how many students drew them (the teacher's page), from
    Store.senders()."""
    counts, students = [0] * CLASSES, set()
    for label, writer, number in senders:
        counts[label] += number
        if writer is not None:
            students.add(writer)
    return {"drawings": sum(counts), "per_label": counts, "students": len(students)}


def with_label(query: sa.Select, label: int | None, rounds: bool = True) -> sa.Select:
    if not rounds:
        query = query.where(drawings.c.round_id.is_(None))
    return query if label is None else query.where(drawings.c.label == int(label))


def pixels_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)


def input_bytes(pixels) -> bytes:
    """A 28x28 model input as the store keeps it: uint8, row by row."""
    return to_uint8(np.asarray(pixels)).reshape(IMAGE_SIDE, IMAGE_SIDE).tobytes()


def input_sha256(pixels) -> str:
    """What makes a drawing the same drawing: the SHA-256 of its kept input."""
    return hashlib.sha256(input_bytes(pixels)).hexdigest()


def row_of(drawing: NewDrawing, created: str) -> dict:
    probabilities = (None if drawing.probabilities is None
                     else json.dumps([round(float(p), 6) for p in drawing.probabilities]))
    prediction = None if drawing.prediction is None else int(drawing.prediction)
    pixels = input_bytes(drawing.pixels)
    return {"created": created, "image": bytes(drawing.image), "input": pixels,
            "input_sha256": hashlib.sha256(pixels).hexdigest(),
            "label": int(drawing.label), "model": drawing.model, "model_version": drawing.model_version,
            "prediction": prediction, "probabilities": probabilities, "mode": drawing.mode, "writer": drawing.writer,
            "round_id": drawing.round_id, "nickname": drawing.nickname, "held_out": drawing.held_out}


# The statements of every saved drawing, made once: building a Core statement costs more than running it.
INSERT_DRAWING = sa.text(
    "INSERT INTO drawings (created, image, input, input_sha256, label, model, model_version, prediction,"
    " probabilities, mode, writer, round_id, nickname, held_out) VALUES (:created, :image, :input, :input_sha256,"
    " :label, :model, :model_version, :prediction, :probabilities, :mode, :writer, :round_id, :nickname, :held_out)"
    " ON CONFLICT (input_sha256) DO NOTHING RETURNING id")
SENT_RECENTLY = sa.text("SELECT count(*) FROM drawings WHERE writer = :writer AND label = :label"
                        " AND created >= :since")
INSERT_ANSWER = answers.insert()
COUNT_USAGE = sa.text("UPDATE drawings_usage SET value = value + CASE name WHEN 'rows' THEN :rows ELSE :bytes END"
                      " WHERE name IN ('rows', 'bytes')")
STORED_ROWS = sa.select(drawings_usage.c.value).where(drawings_usage.c.name == "rows")
ADD_TO_CONFUSION = sa.text(
    "INSERT INTO confusion (model, version, label, digit, count) VALUES (:model, :version, :label, :digit, :count)"
    " ON CONFLICT (model, version, label, digit) DO UPDATE SET count = confusion.count + excluded.count")


def add_to_confusion(connection, answered: Counter) -> None:
    """Add counts keyed by (model, version, label, digit) to the confusion table."""
    if answered:
        connection.execute(ADD_TO_CONFUSION, [{"model": model, "version": version, "label": label, "digit": digit,
                                               "count": number}
                                              for (model, version, label, digit), number in answered.items()])


def count_usage(connection, rows: int, size: int) -> None:
    """Add to the drawings' counts (kept up to date by every write), in the caller's transaction."""
    connection.execute(COUNT_USAGE, {"rows": rows, "bytes": size})


def stored_rows(connection) -> int:
    return connection.execute(STORED_ROWS).scalar_one()


def inputs_of(rows: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, input, label) rows as (ids int64, x uint8 Nx28x28, y uint8 N)."""
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    x = np.frombuffer(b"".join(bytes(row[1]) for row in rows), dtype=np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    y = np.array([row[2] for row in rows], dtype=np.uint8)
    return ids, x, y
