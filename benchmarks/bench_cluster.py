"""Several instances behind nginx, as `make cluster` runs them: failover, throughput, stalled clients, writes.

    python benchmarks/bench_cluster.py [--seconds 30] [--requests 3000] [--rounds 3]

Each part starts a real cluster (deploy/cluster.py: PostgreSQL, Redis, nginx, app instances of one gevent
worker each) in a temporary folder on free loopback ports, with rate limits off (all traffic comes from
127.0.0.1), and stops it afterwards.

- failover: 16 clients send predictions, and every 4th request a drawing with its label (each a different
  MNIST digit), through nginx; a third of the way in, one instance is killed with SIGKILL by the pid in its
  pid file. Counted: failed predictions; drawings answered 201 that are missing from PostgreSQL, or stored
  more than once (two rows with the same image); drawings stored whose post got no 201 (the instance died
  after its commit: the person saw an error and the drawing is kept once).
- throughput: nginx in front of 1, 2 and 3 instances (three nginx configs over one set of instances) and
  `make run` (2 workers, no nginx), in alternating rounds of the same run; the median round of each.
- stalled: 500 connections to nginx that send part of a request and stop, while 4 clients predict.
- writes: 300 drawings posted at the same moment by 300 clients through nginx: all stored, ids unique.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from benchmarks.bench_load import (
    HOST,
    MAKE_RUN_NAME,
    NO_LIMITS,
    drive,
    free_port,
    multipart_body,
    percentile,
    start_server,
    stop_server,
    wait_for_first_prediction,
)
from benchmarks.bench_slow_clients import stall
from benchmarks.canvas import canvas_png
from deploy.cluster import Cluster, start_balancer
from training.mnist import load_mnist

CLUSTER_SETTINGS = {**NO_LIMITS}
REQUEST_TIMEOUT = 30.0
FEEDBACK_EVERY = 4


def new_cluster(folder: str, instances: int = 3) -> Cluster:
    return Cluster(Path(folder) / "cluster", instances=instances, port=free_port(), durable=False,
                   env=CLUSTER_SETTINGS).start()


class Drawings:
    """A different MNIST test digit for each post, so that a drawing stored twice shows as two equal images."""

    def __init__(self):
        self.mnist = load_mnist()
        self._next = iter(range(len(self.mnist.x_test)))
        self._lock = threading.Lock()

    def next_body(self) -> tuple[bytes, str]:
        with self._lock:
            index = next(self._next)
        return multipart_body(canvas_png(self.mnist.x_test[index]), label=str(int(self.mnist.y_test[index])))


def send(connection: http.client.HTTPConnection, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()


def stored_drawings(database_url: str) -> tuple[set[int], int, int]:
    """(ids, rows, rows whose image another row also has) in the cluster's PostgreSQL."""
    with psycopg.connect(database_url) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM drawings")}
        duplicates = connection.execute(
            "SELECT count(*) - count(DISTINCT md5(image)) FROM drawings").fetchone()[0]
    return ids, len(ids), duplicates


def failover(clients: int = 16, seconds: float = 30.0, kill_at: float = 1 / 3, cluster: Cluster | None = None,
             folder: str | None = None) -> dict:
    """See the module's notes; `cluster` may be one already started (tests), else one is started here."""
    own = cluster is None
    with tempfile.TemporaryDirectory(prefix="digitdraw-failover-") as scratch:
        cluster = cluster or new_cluster(folder or scratch)
        try:
            return run_failover(cluster, clients, seconds, kill_at)
        finally:
            if own:
                cluster.stop()


def run_failover(cluster: Cluster, clients: int, seconds: float, kill_at: float) -> dict:
    drawings = Drawings()
    predict_body, predict_type = multipart_body(canvas_png(drawings.mnist.x_test[0]))
    predictions, failed_predictions, latencies = [0], [], []
    accepted: list[int] = []      # ids answered 201
    refused: list[str] = []       # drawings answered anything else (the person sees an error and may resend)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(HOST, cluster.port, timeout=REQUEST_TIMEOUT)
        request = number
        while time.monotonic() < deadline:
            request += 1
            is_drawing = request % FEEDBACK_EVERY == 0
            path, (body, kind) = ("/api/feedback", drawings.next_body()) if is_drawing \
                else ("/api/predict", (predict_body, predict_type))
            started = time.perf_counter()
            try:
                status, answer = send(connection, path, body, kind)
            except (OSError, http.client.HTTPException) as failure:
                status, answer = 0, type(failure).__name__.encode()
                connection.close()
                connection = http.client.HTTPConnection(HOST, cluster.port, timeout=REQUEST_TIMEOUT)
            with lock:
                if not is_drawing:
                    predictions[0] += 1
                    if status == 200:
                        latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        failed_predictions.append(f"{status} {answer[:80]!r}")
                elif status == 201:
                    accepted.append(int(json.loads(answer)["id"]))
                else:
                    refused.append(f"{status} {answer[:80]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds * kill_at)
    victim = int(cluster.pid_file("app-2").read_text())
    os.kill(victim, signal.SIGKILL)   # the instance's gunicorn master, by its pid file
    killed_at = time.monotonic()
    for thread in threads:
        thread.join()
    ids, rows, duplicates = stored_drawings(cluster.database_url)
    return {"instances": len(cluster.apps), "clients": clients, "seconds": seconds,
            "killed_after_s": round(seconds - (deadline - killed_at), 1), "predictions": predictions[0],
            "failed_predictions": len(failed_predictions), "failures": failed_predictions[:5],
            "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
            "drawings_201": len(accepted), "drawings_not_201": len(refused), "refusals": refused[:5],
            "missing_201": len(set(accepted) - ids), "ids_unique": len(set(accepted)) == len(accepted),
            "stored_rows": rows, "stored_without_201": len(ids - set(accepted)), "duplicates": duplicates}


def throughput(requests: int = 3000, clients: int = 16, rounds: int = 3) -> list[dict]:
    """nginx with 1, 2, 3 instances and `make run`, in alternating rounds; the median round of each."""
    mnist = load_mnist()
    body, content_type = multipart_body(canvas_png(mnist.x_test[0]))
    with tempfile.TemporaryDirectory(prefix="digitdraw-throughput-") as scratch:
        cluster = new_cluster(scratch, instances=3)
        single_port = free_port()
        single = start_server(single_port, {**NO_LIMITS, "DIGITDRAW_DATABASE": str(Path(scratch) / "run.sqlite")})
        balancers = []
        try:
            wait_for_first_prediction(single_port, body, content_type, single)
            balancers = [start_balancer(Path(scratch) / f"nginx-{count}", free_port(), cluster.apps[:count])
                         for count in (1, 2)]
            targets = [(MAKE_RUN_NAME, single_port),
                       *((f"nginx + {count} instance{'s' * (count > 1)} (1 worker each)", balancer.port)
                         for count, balancer in zip((1, 2), balancers)),
                       ("nginx + 3 instances (1 worker each): `make cluster`", cluster.port)]
            for _, port in targets:
                drive(port, body, content_type, clients, 300)   # warm up every path
            results: dict[str, list[dict]] = {name: [] for name, _ in targets}
            for _ in range(rounds):
                for name, port in targets:
                    results[name].append(drive(port, body, content_type, clients, requests))
        finally:
            for balancer in balancers:
                balancer.stop()
            stop_server(single)
            cluster.stop()
    rows = []
    for name, measured in results.items():
        median = sorted(measured, key=lambda result: result["rps"])[len(measured) // 2]
        rows.append({"server": name, "rps": median["rps"], "p50_ms": median["p50_ms"], "p99_ms": median["p99_ms"],
                     "errors": sum(result["errors"] for result in measured),
                     "rounds_rps": [round(result["rps"]) for result in measured]})
    return rows


def stalled_clients(stalled: int = 500, requests: int = 1000) -> dict:
    body, content_type = multipart_body(canvas_png(load_mnist().x_test[0]))
    with tempfile.TemporaryDirectory(prefix="digitdraw-stalled-") as scratch:
        cluster = new_cluster(scratch)
        try:
            drive(cluster.port, body, content_type, 4, 200)
            connections = stall(cluster.port, stalled)
            try:
                result = drive(cluster.port, body, content_type, 4, requests, timeout=5.0)
            finally:
                for connection in connections:
                    connection.close()
        finally:
            cluster.stop()
    return {"stalled": stalled, **result}


def concurrent_writes(posts: int = 300) -> dict:
    drawings = Drawings()
    bodies = [drawings.next_body() for _ in range(posts)]
    with tempfile.TemporaryDirectory(prefix="digitdraw-writes-") as scratch:
        cluster = new_cluster(scratch)
        try:
            start = threading.Barrier(posts)
            statuses, ids, lock = [], [], threading.Lock()

            def post(body_and_type) -> None:
                connection = http.client.HTTPConnection(HOST, cluster.port, timeout=60)
                start.wait()
                try:
                    status, answer = send(connection, "/api/feedback", *body_and_type)
                except (OSError, http.client.HTTPException) as failure:
                    status, answer = 0, type(failure).__name__.encode()
                with lock:
                    statuses.append(status)
                    if status == 201:
                        ids.append(int(json.loads(answer)["id"]))
                connection.close()

            started = time.perf_counter()
            threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            stored, rows, duplicates = stored_drawings(cluster.database_url)
        finally:
            cluster.stop()
    return {"posts": posts, "answered_201": statuses.count(201), "other": len(statuses) - statuses.count(201),
            "ids_unique": len(set(ids)) == len(ids), "stored_rows": rows, "missing": len(set(ids) - stored),
            "duplicates": duplicates, "seconds": elapsed}


def as_markdown(failed_over: dict, rows: list[dict], stalled: dict, writes: dict) -> str:
    return "\n".join((failover_markdown(failed_over), throughput_markdown(rows), stalled_markdown(stalled),
                      writes_markdown(writes)))


def failover_markdown(result: dict) -> str:
    columns = ("predictions", "failed_predictions", "p50_ms", "p99_ms", "drawings_201", "missing_201", "duplicates",
               "drawings_not_201", "stored_without_201")
    cells = " | ".join(f"{result[name]:.1f}" if name.endswith("_ms") else f"{result[name]}" for name in columns)
    return (f"### Failover: one instance killed under load\n\n"
            f"{result['clients']} clients for {result['seconds']:g} s through nginx to {result['instances']} "
            f"instances, every {FEEDBACK_EVERY}th request a drawing; app-2 killed (SIGKILL, by its pid file) "
            f"after {result['killed_after_s']} s.\n\n"
            "| predictions | failed | p50 ms | p99 ms | drawings answered 201 | of them missing | stored twice "
            "| drawings answered otherwise | stored without a 201 |\n"
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            f"| {cells} |\n")


def throughput_markdown(rows: list[dict]) -> str:
    single = next(row for row in rows if row["server"] == MAKE_RUN_NAME)["rps"]
    lines = [f"| {row['server']} | {row['rps']:.0f} | {row['rps'] / single:.2f}x | {row['p50_ms']:.1f} | "
             f"{row['p99_ms']:.1f} | {row['errors']} | {', '.join(map(str, row['rounds_rps']))} |" for row in rows]
    return ("### Throughput: 1, 2 and 3 instances behind nginx, and `make run`\n\n"
            f"16 keep-alive clients, the median of {len(rows[0]['rounds_rps'])} alternating rounds (each round's "
            "requests per second in the last column).\n\n"
            "| server | req/s | vs `make run` | p50 ms | p99 ms | errors | rounds (req/s) |\n"
            "|---|---:|---:|---:|---:|---:|---|\n" + "\n".join(lines) + "\n")


def stalled_markdown(result: dict) -> str:
    return ("### Stalled connections through nginx\n\n"
            f"{result['stalled']} connections that send part of a request and stop, while 4 clients send "
            f"{result['requests']} predictions: {result['answered']} answered, {result['errors']} errors, "
            f"p50 {result['p50_ms']:.1f} ms, p99 **{result['p99_ms']:.1f} ms** (target 100 ms).\n")


def writes_markdown(result: dict) -> str:
    return ("### Concurrent drawings\n\n"
            f"{result['posts']} drawings posted at the same moment by {result['posts']} clients through nginx to 3 "
            f"instances: {result['answered_201']} answered 201 ({result['other']} otherwise), ids unique: "
            f"{'yes' if result['ids_unique'] else '**no**'}, {result['stored_rows']} rows stored, "
            f"{result['missing']} missing, {result['duplicates']} stored twice, {result['seconds']:.1f} s in all.\n")


SECTION = "## Several instances behind nginx (`benchmarks/bench_cluster.py`)"


def section_of(results: str) -> str:
    """The cluster section of RESULTS.md as it stands ('' when there is none): write_results.py keeps it."""
    return results[results.index(SECTION):].rstrip() + "\n" if SECTION in results else ""


def write_section(path: Path, markdown: str, machine: str) -> None:
    """Put this run's figures in RESULTS.md in place of the previous run's (the rest of the file stays)."""
    text = path.read_text() if path.exists() else ""
    kept = text[:text.index(SECTION)] if SECTION in text else text
    path.write_text(kept.rstrip() + "\n\n" + SECTION + "\n\n"
                    f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on: {machine}; every part "
                    "against a real cluster (deploy/cluster.py) on loopback ports, rate limits off. Regenerate with "
                    "`.venv/bin/python benchmarks/bench_cluster.py --write` (about 10 minutes).\n\n" + markdown)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    failed_over = failover(seconds=args.seconds)
    rows = throughput(args.requests, rounds=args.rounds)
    stalled = stalled_clients()
    writes = concurrent_writes()
    markdown = as_markdown(failed_over, rows, stalled, writes)
    print(markdown)
    print(failed_over["failures"], failed_over["refusals"])
    if args.write:
        from benchmarks.write_results import RESULTS, machine

        write_section(RESULTS, markdown, machine())


if __name__ == "__main__":
    main()
