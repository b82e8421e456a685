"""One client floods POST /api/feedback against `make run`: limits, quota and the WAL hold.

    python benchmarks/bench_feedback_flood.py [--posts 300]

1. Default settings (rate limits on): one keep-alive client posts a labelled
   drawing as fast as it can; when does it meet 429, and how many were kept?
2. Rate limits off and a small quota (FEEDBACK_MAX_ROWS=500): four clients post
   until the store answers 507; the database file and its write-ahead log are
   measured all along (the WAL never exceeds DATABASE_WAL_LIMIT plus one
   automatic checkpoint's worth).
Each phase has its own database in a temporary folder.
"""

from __future__ import annotations

import argparse
import http.client
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.bench_load import HOST, free_port, multipart_body, start_server, stop_server, wait_for_first_prediction
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist

MIB = 1024 * 1024
QUOTA_ROWS = 500
WAL_LIMIT = 4 * MIB


def post_feedback(connection, body: bytes, content_type: str) -> int:
    connection.request("POST", "/api/feedback", body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    response.read()
    return response.status


def flood(port: int, bodies: list[tuple[bytes, str]], posts: int, clients: int) -> list[int]:
    statuses: list[int] = []
    remaining = iter(range(posts))
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while True:
            with lock:
                index = next(remaining, None)
            if index is None:
                break
            status = post_feedback(connection, *bodies[index % len(bodies)])
            with lock:
                statuses.append(status)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def largest_sizes(database: Path, stop: threading.Event, seen: dict) -> None:
    """Sample the database and WAL sizes every 20 ms while the flood runs."""
    wal = database.with_name(database.name + "-wal")
    while not stop.is_set():
        for key, path in (("db", database), ("wal", wal)):
            if path.exists():
                seen[key] = max(seen.get(key, 0), path.stat().st_size)
        time.sleep(0.02)


def phase(settings: dict, posts: int, clients: int) -> dict:
    mnist = load_mnist()
    # A different drawing for each post (the store keeps each drawing once), up to MNIST's 10,000 test digits.
    bodies = [multipart_body(canvas_png(mnist.x_test[i]), label=str(mnist.y_test[i]))
              for i in range(min(posts, len(mnist.y_test)))]
    predict_body, predict_type = multipart_body(canvas_png(mnist.x_test[0]))
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "drawings.sqlite"
        port = free_port()
        server = start_server(port, {"DIGITDRAW_DATABASE": str(database), **settings})
        seen: dict = {}
        stop = threading.Event()
        sampler = threading.Thread(target=largest_sizes, args=(database, stop, seen))
        try:
            wait_for_first_prediction(port, predict_body, predict_type, server)
            sampler.start()
            started = time.perf_counter()
            statuses = flood(port, bodies, posts, clients)
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            if sampler.is_alive():
                sampler.join()
            stop_server(server)
    refused = [status for status in statuses if status != 201]
    return {"posts": len(statuses), "clients": clients, "seconds": seconds, "kept": statuses.count(201),
            "first_refusal": next((index + 1 for index, status in enumerate(statuses) if status != 201), None),
            "refusal_statuses": sorted(set(refused)), "largest_db_mib": seen.get("db", 0) / MIB,
            "largest_wal_mib": seen.get("wal", 0) / MIB}


def run(posts: int = 300, quota_posts: int = 1000) -> dict:
    return {"limits": phase({}, posts, clients=1),
            "quota": phase({"DIGITDRAW_RATELIMIT_ENABLED": "false", "DIGITDRAW_FEEDBACK_MAX_ROWS": str(QUOTA_ROWS),
                            "DIGITDRAW_DATABASE_WAL_LIMIT": str(WAL_LIMIT)}, quota_posts, clients=4)}


def as_markdown(result: dict) -> str:
    rows = ["| flood | posts sent | clients | kept (201) | first refusal at post | refused with "
            "| largest database | largest WAL |", "|---|---:|---:|---:|---:|---|---:|---:|"]
    names = {"limits": "default settings (rate limits on)",
             "quota": f"limits off, quota {QUOTA_ROWS} drawings, WAL limit {WAL_LIMIT // MIB} MiB"}
    for key, r in result.items():
        rows.append(f"| {names[key]} | {r['posts']} | {r['clients']} | {r['kept']} | {r['first_refusal'] or '-'} | "
                    f"{', '.join(map(str, r['refusal_statuses'])) or '-'} | {r['largest_db_mib']:.1f} MiB | "
                    f"{r['largest_wal_mib']:.1f} MiB |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300, help="posts of the rate-limited flood")
    parser.add_argument("--quota-posts", type=int, default=1000, help="posts of the flood that fills the quota")
    args = parser.parse_args(argv)
    result = run(args.posts, args.quota_posts)
    print(as_markdown(result))
    return result


if __name__ == "__main__":
    main()
