"""How fast labelled drawings are kept.

    python benchmarks/bench_feedback.py [--posts 400] [--threads 1 4 16] [--model-dir model]

1. `Store.add` from T threads into a fresh SQLite file: rows per second.
2. POST /api/feedback over loopback HTTP to the real app (werkzeug, threaded, rate
   limits off) from T clients, each a real MNIST test digit as a canvas PNG: posts
   per second and p50/p95 latency, every post checked to be stored.

What the /drawings page costs as drawings pile up: benchmarks/bench_drawings_page.py.
"""

from __future__ import annotations

import argparse
import http.client
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from werkzeug.serving import make_server

from benchmarks.bench_load import multipart_body
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist
from webapp import create_app
from webapp.store.drawings import NewDrawing, Store

ROOT = Path(__file__).resolve().parent.parent


def store_adds_per_second(folder: Path, mnist, adds: int, threads: int) -> float:
    store = Store(folder / f"store-{threads}.sqlite")
    store.count()   # create the file first: the schema step is not what is measured
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: store.add(NewDrawing(image=b"png", pixels=mnist.x_test[i],
                                                     label=int(mnist.y_test[i]))), range(adds)))
    seconds = time.perf_counter() - started
    assert store.count() == adds
    return adds / seconds


def http_posts(port: int, bodies, threads: int) -> tuple[float, list[float]]:
    """Every body posted once from `threads` clients; (seconds in all, latency of each post)."""
    def post(body_and_type):
        body, content_type = body_and_type
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/api/feedback", body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 201, response.status
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = list(pool.map(post, bodies))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--model-dir", default=str(ROOT / "model"))
    args = parser.parse_args()
    mnist = load_mnist()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        print("Store.add (one connection and one BEGIN IMMEDIATE transaction per row)")
        for threads in args.threads:
            rate = store_adds_per_second(folder, mnist, args.posts, threads)
            print(f"  {threads:>2} threads: {rate:7.0f} rows/s")

        app = create_app({"TESTING": False, "MODEL_DIR": args.model_dir, "RATELIMIT_ENABLED": False,
                          "DATABASE": str(folder / "http.sqlite")})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"POST /api/feedback over HTTP (models: {', '.join(app.extensions['models'].names) or 'none'})")
        stored = 0
        for round_number, threads in enumerate(args.threads):   # different drawings each round: each is kept once
            first = round_number * args.posts
            bodies = [multipart_body(canvas_png(mnist.x_test[i]), "drawing.png", label=int(mnist.y_test[i]))
                      for i in range(first, first + args.posts)]
            seconds, latencies = http_posts(server.server_port, bodies, threads)
            stored += len(bodies)
            assert app.extensions["store"].count() == stored
            p50, p95 = np.percentile(latencies, [50, 95]) * 1000
            print(f"  {threads:>2} clients: {len(bodies) / seconds:6.0f} posts/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms")

        server.shutdown()


if __name__ == "__main__":
    main()
