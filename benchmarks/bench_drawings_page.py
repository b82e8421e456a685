"""What the first view of /drawings costs with 100 and with 100,000 drawings stored (target: <= 300 ms).

    python benchmarks/bench_drawings_page.py [--sizes 100 100000] [--repeats 5]

For each size a fresh store in a temporary folder is filled through
`Store.add` in batches of 10,000 (one transaction each), every row with a
real kept copy of a canvas drawing, its 28x28 input and every shipped model's
answer, as POST /api/feedback stores them. Each timed run builds a new app on
that file, as a freshly started worker would be, and times its first
GET /drawings through the WSGI test client; the median of the runs is reported.
The byte quota is raised for the run (100,000 canvas copies of 256 px take about
650 MB); the row quota stays at its default.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.canvas import canvas_png
from training.mnist import load_mnist
from webapp import create_app
from webapp.inference.reading import read
from webapp.store import drawing_scores
from webapp.store.drawings import NewDrawing
from webapp.vision import kept_images

DISTINCT_DRAWINGS = 200   # rows cycle through these: what they look like does not change what the page costs
BATCH = 10_000
GIB = 1024 ** 3


def app_on(database: Path):
    return create_app({"TESTING": False, "DATABASE": str(database), "RATELIMIT_ENABLED": False,
                       "FEEDBACK_MAX_BYTES": 4 * GIB})


def sample_drawings(app, mnist) -> list[NewDrawing]:
    """Real MNIST test digits as the feedback API would store them: kept copy, input, every model's answer."""
    side = app.config["FEEDBACK_IMAGE_SIDE"]
    registry = app.extensions["models"]
    every_model = [registry.classifiers[name] for name in registry.names]
    drawings = []
    for index in range(DISTINCT_DRAWINGS):
        reading = read(canvas_png(mnist.x_test[index]), "digit", every_model, app.config["MAX_IMAGE_PIXELS"])
        drawings.append(NewDrawing(image=kept_images.encoded(kept_images.downscaled(reading.image, side)),
                                   pixels=reading.digits[0].pixels, label=int(mnist.y_test[index]),
                                   answers=drawing_scores.answers_to(reading, 0)))
    return drawings


def fill(app, drawings: list[NewDrawing], count: int) -> float:
    """Store `count` drawings; the seconds it took."""
    store = app.extensions["store"]
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        store.add(*(numbered(drawings[i % len(drawings)], i) for i in range(first, min(count, first + BATCH))))
    assert store.count() == count
    return time.perf_counter() - started


def numbered(drawing: NewDrawing, number: int) -> NewDrawing:
    """The drawing with its number in its top-left corner's pixels: the store keeps each drawing once, and a
    corner MNIST never inks changes what the page costs no more than which digit it is."""
    pixels = np.array(drawing.pixels, copy=True)
    pixels.flat[:4] = np.frombuffer(int(number).to_bytes(4, "little"), np.uint8) / (255.0 if pixels.dtype.kind == "f"
                                                                                    else 1)
    return dataclasses.replace(drawing, pixels=pixels)


def first_view_ms(database: Path) -> float:
    client = app_on(database).test_client()
    started = time.perf_counter()
    response = client.get("/drawings")
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200 and "read so far" not in response.get_data(as_text=True)
    return elapsed


def run(sizes=(100, 100_000), repeats: int = 5) -> list[dict]:
    mnist = load_mnist()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-drawings-") as folder:
        for size in sizes:
            database = Path(folder) / f"drawings-{size}.sqlite"
            app = app_on(database)
            fill_seconds = fill(app, sample_drawings(app, mnist), size)
            times = [first_view_ms(database) for _ in range(repeats)]
            rows.append({"drawings": size, "median_ms": statistics.median(times), "min_ms": min(times),
                         "max_ms": max(times), "runs": repeats, "fill_seconds": fill_seconds,
                         "file_mib": database.stat().st_size / 2**20})
    return rows


def as_markdown(rows: list[dict]) -> str:
    lines = ["| drawings stored | first GET /drawings, median ms | min ms | max ms | runs | file MiB |",
             "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {row['drawings']:,} | {row['median_ms']:.1f} | {row['min_ms']:.1f} | {row['max_ms']:.1f} "
              f"| {row['runs']} | {row['file_mib']:.1f} |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = run(args.sizes, args.repeats)
    for row in rows:
        print(f"filled {row['drawings']:,} drawings in {row['fill_seconds']:.1f} s", file=sys.stderr)
    print(as_markdown(rows))


if __name__ == "__main__":
    main()
