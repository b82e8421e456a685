"""The real server under load: started as `make run` starts it, driven over loopback HTTP.

    python benchmarks/bench_load.py [--requests 10000] [--concurrency 1 4 16]

Starts `make run` on a free 127.0.0.1 port, times start-up to the first answered
prediction, then for each concurrency level sends a bounded number of POST
/api/predict requests (the same 280x280 canvas PNG) from that many keep-alive
clients, and reports requests per second, p50/p95/p99 latency, errors, and the
server's resident memory (all gunicorn processes) before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.bench_predict import percentile
from benchmarks.canvas import canvas_png
from deploy.local_servers import (  # noqa: F401  (the benchmarks import them from here)
    free_port,
    multipart_body,
    start_make_run,
    stop_server,
)
from training.mnist import load_mnist

ROOT = Path(__file__).resolve().parent.parent

HOST = "127.0.0.1"
START_TIMEOUT = 120
STOP_SECONDS = 5
REQUEST_TIMEOUT = 30


def post(connection: http.client.HTTPConnection, body: bytes, content_type: str) -> tuple[int, bytes]:
    connection.request("POST", "/api/predict", body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()


# Benchmarks send thousands of requests from one address: rate limits off.
NO_LIMITS = {"DIGITDRAW_RATELIMIT_ENABLED": "false"}
MAKE_RUN_NAME = "`make run`: 2 gevent workers with header/body deadlines"
SYNC_NAME = "before: 2 sync workers (`--workers 2 --threads 1 --preload`)"
# The configuration `make run` used before the gevent workers, kept to compare side by side.
SYNC_WORKERS = [".venv/bin/gunicorn", "--workers", "2", "--threads", "1", "--preload", "webapp:create_app()"]


def start_server(port: int, env_overrides: dict, log_path: Path | None = None,
                 sync_workers: bool = False) -> subprocess.Popen:
    """`make run` on HOST:`port` (or the old sync-worker command), stopped whole by stop_server."""
    command = [*SYNC_WORKERS, "--bind", f"{HOST}:{port}", "--no-control-socket"] if sync_workers else None
    return start_make_run(port, env_overrides, log_path, command=command)


def wait_for_first_prediction(port: int, body: bytes, content_type: str, server: subprocess.Popen) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < START_TIMEOUT:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode} before answering")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
            status, payload = post(connection, body, content_type)
            connection.close()
            if status == 200 and json.loads(payload)["digit"] is not None:
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no prediction answered within {START_TIMEOUT} s")


def server_rss_mib(server: subprocess.Popen) -> float:
    """Resident memory of every process in the server's process group (make, gunicorn master, workers)."""
    total_kib = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != server.pid:
                continue
            status = (entry / "status").read_text()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024


def drive(port: int, body: bytes, content_type: str, clients: int, requests: int,
          timeout: float = REQUEST_TIMEOUT) -> dict:
    """`clients` threads with one keep-alive connection each share `requests` POSTs; latencies are
    of the answered (200) ones, and a request that fails or waits `timeout` seconds is an error."""
    latencies: list[float] = []
    errors: list[str] = []
    remaining = iter(range(requests))
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            started = time.perf_counter()
            try:
                status, _ = post(connection, body, content_type)
                error = None if status == 200 else f"HTTP {status}"
            except (OSError, http.client.HTTPException) as failure:
                error = type(failure).__name__
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
            with lock:
                if error:
                    errors.append(error)
                else:
                    latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    answered = bool(latencies)
    return {"clients": clients, "requests": requests, "answered": len(latencies), "seconds": elapsed,
            "rps": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 0.50) if answered else None,
            "p95_ms": percentile(latencies, 0.95) if answered else None,
            "p99_ms": percentile(latencies, 0.99) if answered else None,
            "errors": len(errors)}


def run(requests: int, concurrency: list[int], warmup: int = 200, env_overrides: dict | None = None,
        sync_workers: bool = False) -> dict:
    body, content_type = multipart_body(canvas_png(load_mnist().x_test[0]))
    port = free_port()
    server = start_server(port, {**NO_LIMITS, **(env_overrides or {})}, sync_workers=sync_workers)
    try:
        startup = wait_for_first_prediction(port, body, content_type, server)
        drive(port, body, content_type, max(concurrency), warmup)
        rss_before = server_rss_mib(server)
        levels = [drive(port, body, content_type, clients, requests) for clients in concurrency]
        rss_after = server_rss_mib(server)
    finally:
        stop_server(server)
    return {"server": SYNC_NAME if sync_workers else MAKE_RUN_NAME, "startup_seconds": startup,
            "rss_before_mib": rss_before, "rss_after_mib": rss_after,
            "rss_growth": rss_after / rss_before - 1, "levels": levels}


def side_by_side(requests: int, clients: int, rounds: int = 3) -> list[dict]:
    """`make run` and the old sync workers in alternating rounds of the same run; the median round of each."""
    results: dict[str, list[dict]] = {MAKE_RUN_NAME: [], SYNC_NAME: []}
    for _ in range(rounds):
        for sync_workers in (False, True):
            result = run(requests, [clients], sync_workers=sync_workers)
            results[result["server"]].append(result["levels"][0])
    return [{"server": name, "rounds": len(levels), **sorted(levels, key=lambda level: level["rps"])[len(levels) // 2]}
            for name, levels in results.items()]


def side_by_side_markdown(rows: list[dict]) -> str:
    lines = ["| server | clients | requests per round | rounds | req/s (median round) | p50 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['server']} | {r['clients']} | {r['requests']} | {r['rounds']} | {r['rps']:.0f} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |" for r in rows]
    return "\n".join(lines)


def as_markdown(result: dict) -> str:
    lines = ["| clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['clients']} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {r['errors']} |" for r in result["levels"]]
    lines.append("")
    lines.append(f"Start-up (`make run` to the first answered prediction): {result['startup_seconds']:.1f} s. "
                 f"Server RSS: {result['rss_before_mib']:.0f} MiB after warm-up, {result['rss_after_mib']:.0f} MiB "
                 f"after all levels ({result['rss_growth']:+.1%}).")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000, help="requests per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the Makefile's)")
    parser.add_argument("--compare", action="store_true",
                        help="also run the old sync-worker configuration, in alternating rounds, "
                             "at the highest concurrency")
    args = parser.parse_args(argv)
    overrides = {"WORKERS": str(args.workers)} if args.workers else {}
    if args.compare:
        rows = side_by_side(args.requests, max(args.concurrency))
        print(side_by_side_markdown(rows))
        return rows
    result = run(args.requests, args.concurrency, env_overrides=overrides)
    print(f"`make run` {overrides or ''} on {os.cpu_count()} CPU cores, same 280x280 canvas PNG")
    print(as_markdown(result))
    return result


if __name__ == "__main__":
    main()
