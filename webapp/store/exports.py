"""The class's drawings taken away: a zip (one PNG per drawing and a CSV) and the `.npz` that `train.py
--extra-data` reads, for one round or for every drawing.

The zip is written as it is sent, a batch of drawings at a time, so 100,000 drawings never sit in memory at
once; the `.npz` holds only the 28x28 inputs (784 bytes each) and is built whole, as numpy writes it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from PIL import Image

from webapp.store.drawings import Store, inputs_of
from webapp.store.schema import drawings

BATCH = 500


class ChunkWriter(io.RawIOBase):
    """A file zipfile writes into and the response reads from, a chunk at a time (never seeked)."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def batches(store: Store, round_id: int | None) -> Iterator[list[sa.Row]]:
    """Every drawing (of the round), in id order, BATCH at a time."""
    c = drawings.c
    after = 0
    while True:
        query = (sa.select(c.id, c.created, c.label, c.round_id, c.nickname, c.image)
                 .where(c.id > after).order_by(c.id).limit(BATCH))
        if round_id is not None:
            query = query.where(c.round_id == round_id)
        rows = store.read(query)
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def as_png(image: bytes) -> bytes:
    """The kept copy as PNG (drawings are kept as PNG; photos as JPEG, converted here)."""
    if image.startswith(b"\x89PNG"):
        return image
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(image)) as picture:
        picture.save(buffer, "PNG")
    return buffer.getvalue()


def zip_chunks(store: Store, model_names: list[str], round_id: int | None = None,
               with_nicknames: bool = False, served: dict[str, str] | None = None) -> Iterator[bytes]:
    """The zip, chunk by chunk: drawings/<id>.png and drawings.csv (id, round, label, each model's reading
    (its `served` version's where it read it), time, and the nickname when asked)."""
    sink = ChunkWriter()
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["id", "round", "label", *model_names, "time", *(["nickname"] if with_nicknames else [])])
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for rows in batches(store, round_id):
            read = store.readings([row[0] for row in rows], served)
            for drawing_id, created, label, drawing_round, nickname, image in rows:
                archive.writestr(zipfile.ZipInfo(f"drawings/{drawing_id}.png", zip_time(created)), as_png(bytes(image)))
                writer.writerow([drawing_id, drawing_round or "", label,
                                 *(read[drawing_id].get(name, "") for name in model_names), created,
                                 *([nickname or ""] if with_nicknames else [])])
            yield sink.take()
        archive.writestr("drawings.csv", table.getvalue())
    yield sink.take()


def zip_time(created: str) -> tuple:
    try:
        return datetime.fromisoformat(created).timetuple()[:6]
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)


def npz_bytes(store: Store, round_id: int | None = None) -> tuple[bytes, int]:
    """x (N, 28, 28) uint8, y (N,) uint8, ids, hashed writers and the rounds' fixed held-out fifth (held_out int8:
    1 held out, 0 not, -1 not in a round), as `flask export-drawings` writes them; and N."""
    c = drawings.c
    query = sa.select(c.id, c.input, c.label, c.writer, c.held_out).order_by(c.id)
    if round_id is not None:
        query = query.where(c.round_id == round_id)
    rows = store.read(query)
    ids, x, y = inputs_of([row[:3] for row in rows])
    buffer = io.BytesIO()
    fixed = np.array([-1 if row[4] is None else int(bool(row[4])) for row in rows], np.int8)
    np.savez_compressed(buffer, x=x, y=y, ids=ids, writers=np.array([row[3] or "" for row in rows], str),
                        held_out=fixed)
    return buffer.getvalue(), len(rows)
