"""One prediction, three ways, measured side by side in one run on the same canvas PNG.

    python benchmarks/bench_predict.py [--repeats 300] [--markdown]

- naive: the notebooks' path, cv2 decode + cv2.resize to 28x28 + Keras `model.predict`;
- api: the project's in-process POST /api/predict (Flask test client), the whole path
  from PNG bytes to JSON: decode, preprocessing, LiteRT inference, response;
- model: the bare LiteRT model call on a ready 28x28 input.
Prints p50 and p95 in milliseconds and each path's speed-up over the naive one.

The naive path runs in a process of its own, as a notebook would: the server never
imports TensorFlow, and TensorFlow loaded next to the app slowed the app's own calls
by 0.1-0.2 ms here. The paths still take turns, in rounds, so that the machine's ups
and downs hit all of them alike.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.canvas import canvas_png
from benchmarks.naive_path import naive_input
from training.mnist import load_mnist
from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the naive path's Keras, imported in its own process

CANVAS_SIZE = 280
WARMUP_CALLS = 20     # untimed calls at the start of each turn: caches and clocks warm up again


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(call, repeats: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def naive_predictor(model_path: Path):
    """The notebooks' 'predict my own image': the naive input, then Keras' model.predict."""
    import keras

    model = keras.saving.load_model(model_path, compile=False)

    def predict(png: bytes) -> int:
        return int(model.predict(naive_input(png)[np.newaxis], verbose=0).argmax())

    return predict


def naive_worker(connection, model_path: str, png: bytes) -> None:
    """The naive path in its own process: time `n` calls whenever asked, until told None."""
    predict = naive_predictor(Path(model_path))
    while (count := connection.recv()) is not None:
        connection.send(timed(lambda: predict(png), count, warmup=WARMUP_CALLS))


def run(repeats: int, model_dir: Path = ROOT / "model", model: str = "cnn") -> list[dict]:
    mnist = load_mnist()
    png = canvas_png(mnist.x_test[0], CANVAS_SIZE)
    # The served path, rate-limit check included (a limit this loop cannot reach); no database is opened.
    app = create_app({"TESTING": True, "MODEL_DIR": str(model_dir), "RATELIMIT_PREDICT": "1000000 per second"})
    client = app.test_client()
    classifier = app.extensions["models"].get(model)
    model_input = (mnist.x_test[:1].astype(np.float32) / 255.0)

    def api_call():
        response = client.post("/api/predict", data={"image": (io.BytesIO(png), "canvas.png"), "model": model},
                               content_type="multipart/form-data")
        assert response.status_code == 200, response.get_data(as_text=True)

    context = multiprocessing.get_context("spawn")
    connection, worker_end = context.Pipe()
    worker = context.Process(target=naive_worker, args=(worker_end, str(model_dir / f"{model}.keras"), png),
                             daemon=True)
    worker.start()

    def naive_calls(count: int) -> list[float]:
        connection.send(count)
        return connection.recv()

    paths = {"naive notebook path (cv2.resize + model.predict)": None,
             "project /api/predict in-process (PNG -> JSON)": api_call,
             "bare model call (LiteRT, 28x28 input)": lambda: classifier.predict(model_input)}
    samples = {name: [] for name in paths}
    rounds = 10
    try:
        for _ in range(rounds):
            count = max(1, repeats // rounds)
            for name, call in paths.items():
                samples[name].extend(naive_calls(count) if call is None else timed(call, count, warmup=WARMUP_CALLS))
    finally:
        connection.send(None)
        worker.join(timeout=60)
    naive_p50 = statistics.median(samples[next(iter(paths))])
    return [{"path": name, "p50_ms": statistics.median(values), "p95_ms": percentile(values, 0.95),
             "speedup": naive_p50 / statistics.median(values), "n": len(values)}
            for name, values in samples.items()]


def as_markdown(rows: list[dict]) -> str:
    lines = ["| path | p50 ms | p95 ms | speed-up vs naive (p50) | n |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['path']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['speedup']:.1f}x | {r['n']} |"
              for r in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per path (default 300)")
    parser.add_argument("--model", default="cnn", help="model name (default cnn)")
    args = parser.parse_args(argv)
    rows = run(args.repeats, model=args.model)
    print(f"One {CANVAS_SIZE}x{CANVAS_SIZE} canvas PNG, model {args.model}, {os.cpu_count()} CPU cores")
    print(as_markdown(rows))
    return rows


if __name__ == "__main__":
    main()
