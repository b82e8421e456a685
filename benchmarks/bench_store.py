"""The store before and after it was rewritten on SQLAlchemy and Alembic, side by side in one run.

    python benchmarks/bench_store.py --before 355e1fc [--adds 400] [--posts 100] [--rows 100000] [--rounds 3]
                                     [--write]

Three measurements, on a SQLite file and on a PostgreSQL server started here on a loopback port, for the code
at `--before` (checked out into a temporary git worktree) and for this checkout, in alternating rounds:

1. Saving a drawing: `add` of one drawing per write transaction, with the three shipped models' answers (as
   POST /api/feedback keeps it), `--adds` times from one thread into a fresh database: ms per drawing.
2. Saving a drawing as a student does: POST /api/feedback through the app (WSGI test client, rate limits
   off), a real canvas drawing that the three models read before it is stored, `--posts` times into a fresh
   database: ms per post.
3. The first GET /drawings of a freshly built app (as a newly started worker) on a store of `--rows`
   drawings, each with a real kept copy and every shipped model's answer. The store is filled once by the
   `--before` code; each version gets its own copy (a file copy; PostgreSQL's CREATE DATABASE ... TEMPLATE),
   opened once before timing (the newer code takes a store made before Alembic over on first use: that
   one-off migration is not what is timed).

Every measurement runs in its own Python process whose `webapp` is that version's, and the medians of the
rounds are reported. The code before the rewrite needs psycopg's pool, which the app no longer uses:
`.venv/bin/pip install psycopg-pool==3.3.3` first. `--write` puts the table in benchmarks/RESULTS.md's section for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from benchmarks.results_file import write_section
from deploy.local_servers import start_postgres
from training.report import cpu_name

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## The store before and after SQLAlchemy and Alembic (`benchmarks/bench_store.py`)"

# Runs inside each version's tree: its own store API, whichever name it has (chosen by the tree's folders: the
# editable install would find a module missing from one tree in the other).
COMMON = """
import json, os, statistics, sys, time
import numpy as np
BEFORE = os.path.isdir("webapp/feedback")
if BEFORE:
    from webapp.feedback.store import FeedbackStore as Store, NewDrawing
    from webapp.feedback import drawing_scores
else:
    from webapp.store.drawings import NewDrawing, Store
    from webapp.store import drawing_scores
from webapp import create_app
"""

ADDS = COMMON + """
database, adds = sys.argv[1], int(sys.argv[2])
store = Store(database)
store.count()   # the schema is created first: that is not what is measured
base = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
answers = {("cnn", "0123456789ab"): 7, ("mlp", "0123456789ab"): 7, ("mlp-wide", "0123456789ab"): 1}
times = []
for n in range(adds):
    pixels = base.copy()
    pixels.flat[:4] = np.frombuffer(n.to_bytes(4, "little"), np.uint8)   # each drawing its own (kept once)
    drawing = NewDrawing(image=bytes(3000), pixels=pixels, label=7, model="cnn", model_version="0123456789ab",
                         prediction=7, probabilities=np.full(10, 0.1), answers=answers)
    started = time.perf_counter()
    store.add(drawing)
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps({"median_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95))}))
"""

FILL = COMMON + """
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist
from webapp.inference.reading import read
from webapp.vision import kept_images
database, rows = sys.argv[1], int(sys.argv[2])
app = create_app({"DATABASE": database, "RATELIMIT_ENABLED": False})
models = app.extensions["models"]
mnist = load_mnist()
made = []
for index in range(200):   # what the drawings look like does not change what the page costs
    png = canvas_png(mnist.x_test[index])
    reading = read(png, "digit", models.ordered(), 16_000_000)
    made.append(NewDrawing(image=kept_images.encoded(kept_images.downscaled(reading.image, 256)),
                           pixels=reading.digits[0].pixels,
                           label=int(mnist.y_test[index]), answers=drawing_scores.answers_to(reading, 0)))
store = Store(database)
for start in range(0, rows, 10_000):
    store.add(*[made[n % len(made)] for n in range(start, min(rows, start + 10_000))])
print(json.dumps({"rows": store.count()}))
"""

POSTS = COMMON + """
import io
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist
database, posts = sys.argv[1], int(sys.argv[2])
app = create_app({"TESTING": True, "DATABASE": database, "RATELIMIT_ENABLED": False})
client = app.test_client()
mnist = load_mnist()
pngs = [canvas_png(mnist.x_test[index]) for index in range(50)]
def post(index):
    return client.post("/api/feedback", data={"image": (io.BytesIO(pngs[index % 50]), "drawing.png"),
                                              "label": str(int(mnist.y_test[index % 50]))},
                       content_type="multipart/form-data")
assert post(0).status_code == 201   # the first one creates the database: not what is measured
times = []
for index in range(1, posts + 1):
    started = time.perf_counter()
    response = post(index)
    times.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 201, response.status_code
print(json.dumps({"median_ms": statistics.median(times)}))
"""

PAGE = COMMON + """
database = sys.argv[1]
config = {"TESTING": False, "DATABASE": database, "RATELIMIT_ENABLED": False, "FEEDBACK_MAX_BYTES": 4 * 1024 ** 3}
Store(database).count()   # opened once: a store made before Alembic is taken over here, untimed
app = create_app(config)
started = time.perf_counter()
response = app.test_client().get("/drawings")
elapsed = (time.perf_counter() - started) * 1000
assert response.status_code == 200, response.status_code
print(json.dumps({"first_get_ms": elapsed}))
"""


def run_in(tree: Path, script: str, *arguments: str) -> dict:
    """`script` in a fresh Python process that imports `webapp` from `tree`."""
    environment = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script, *map(str, arguments)], cwd=tree, env=environment,
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{tree.name}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Databases:
    """Fresh databases: SQLite files in a folder, PostgreSQL databases on one server started here."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.server = start_postgres(folder / "postgres", durable=True, log=folder / "postgres.log")
        self.made = 0

    def new(self, kind: str, template: str | None = None) -> str:
        self.made += 1
        name = f"bench_{self.made}"
        if kind == "sqlite":
            path = self.folder / f"{name}.sqlite"
            if template:
                with_sqlite_backup(Path(template), path)
            return str(path)
        with psycopg.connect(self.server.url, autocommit=True) as connection:
            source = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{source}')
        return self.server.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        self.server.stop()


def with_sqlite_backup(source: Path, target: Path) -> None:
    import sqlite3

    with sqlite3.connect(source) as origin, sqlite3.connect(target) as destination:
        origin.backup(destination)
    origin.close()
    destination.close()


def worktree(commit: str, folder: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(folder), commit], cwd=ROOT, check=True)
    return folder


def measure(before: Path, after: Path, adds: int, posts: int, rows: int, rounds: int, folder: Path) -> dict:
    databases = Databases(folder)
    versions = {"before": before, "after": after}
    results = {kind: {version: {"add_ms": [], "add_p95_ms": [], "post_ms": [], "page_ms": []} for version in versions}
               for kind in ("sqlite", "postgresql")}
    try:
        for kind in results:
            filled = databases.new(kind)
            print(f"{kind}: filling {rows:,} drawings with the before code", flush=True)
            run_in(before, FILL, filled, rows)
            for round_number in range(rounds):
                order = list(versions) if round_number % 2 == 0 else list(reversed(versions))
                for version in order:
                    tree = versions[version]
                    added = run_in(tree, ADDS, databases.new(kind), adds)
                    posted = run_in(tree, POSTS, databases.new(kind), posts)
                    page = run_in(tree, PAGE, databases.new(kind, template=filled))
                    results[kind][version]["add_ms"].append(added["median_ms"])
                    results[kind][version]["add_p95_ms"].append(added["p95_ms"])
                    results[kind][version]["post_ms"].append(posted["median_ms"])
                    results[kind][version]["page_ms"].append(page["first_get_ms"])
                    print(f"{kind} round {round_number + 1} {version}: add {added['median_ms']:.2f} ms, "
                          f"post {posted['median_ms']:.1f} ms, "
                          f"first /drawings {page['first_get_ms']:.0f} ms", flush=True)
    finally:
        databases.stop()
    return results


def table(results: dict, before: str, adds: int, posts: int, rows: int, rounds: int) -> str:
    lines = [f"Median of {rounds} alternating rounds; `{before}` is the code before the rewrite. The store's add: "
             f"{adds} drawings one per transaction into a fresh database (median ms each, and its p95); saving a "
             f"drawing: {posts} POST /api/feedback through the app, each read by the three models and stored "
             f"(median ms); /drawings: the first GET of a freshly built app on {rows:,} drawings.", "",
             "| database | measurement | before | after | change |", "|---|---|---:|---:|---:|"]
    for kind, versions in results.items():
        for key, label in (("add_ms", "the store's add, median ms"), ("add_p95_ms", "the store's add, p95 ms"),
                           ("post_ms", "saving a drawing (POST /api/feedback), median ms"),
                           ("page_ms", f"first /drawings at {rows:,}, ms")):
            old, new = (statistics.median(versions[v][key]) for v in ("before", "after"))
            lines.append(f"| {kind} | {label} | {old:.2f} | {new:.2f} | {(new - old) / old:+.1%} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the commit before the rewrite (e.g. 355e1fc)")
    parser.add_argument("--adds", type=int, default=400)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="digitdraw-bench-store-"))
    before = worktree(options.before, folder / "before")
    try:
        results = measure(before, ROOT, options.adds, options.posts, options.rows, options.rounds, folder)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    text = table(results, options.before, options.adds, options.posts, options.rows, options.rounds)
    text += f"\n\nMachine: {cpu_name()}, {os.cpu_count()} cores."
    print(text)
    if options.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
