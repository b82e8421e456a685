"""Ordinary predictions while hundreds of connections stall: `make run` against the old sync workers.

    python benchmarks/bench_slow_clients.py [--stalled 500] [--requests 1000]

For each server configuration: start it on a free 127.0.0.1 port, open `--stalled`
connections that send part of a request and then nothing (half stop in the
headers, half in the body: phones whose wifi dropped), then send `--requests`
ordinary predictions from 4 keep-alive clients and report how many were
answered and how fast. The old configuration (2 sync workers, as `make run` was
before) is given a smaller budget: each of its requests can wait up to
`CLIENT_TIMEOUT` seconds.
"""

from __future__ import annotations

import argparse
import os
import socket

from benchmarks.bench_load import (
    HOST,
    MAKE_RUN_NAME,
    NO_LIMITS,
    SYNC_NAME,
    drive,
    free_port,
    multipart_body,
    start_server,
    stop_server,
    wait_for_first_prediction,
)
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist

CLIENTS = 4
CLIENT_TIMEOUT = 5.0
SYNC_REQUESTS = 20


def stall(port: int, count: int) -> list[socket.socket]:
    """`count` connections, half stopped inside the headers, half inside a declared 50 kB body."""
    stalled = []
    for index in range(count):
        connection = socket.create_connection((HOST, port), timeout=CLIENT_TIMEOUT)
        if index % 2:
            connection.sendall(b"POST /api/predict HTTP/1.1\r\nHost: bench\r\nContent-Type: image/png\r\n"
                               b"Content-Length: 50000\r\n\r\n\x89PNG\r\n")
        else:
            connection.sendall(b"POST /api/predict HTTP/1.1\r\nHost: bench\r\nContent-Le")
        stalled.append(connection)
    return stalled


def measure(stalled: int, requests: int, sync_workers: bool) -> dict:
    body, content_type = multipart_body(canvas_png(load_mnist().x_test[0]))
    port = free_port()
    server = start_server(port, NO_LIMITS, sync_workers=sync_workers)
    try:
        wait_for_first_prediction(port, body, content_type, server)
        connections = stall(port, stalled)
        try:
            result = drive(port, body, content_type, CLIENTS, SYNC_REQUESTS if sync_workers else requests,
                           timeout=CLIENT_TIMEOUT)
        finally:
            for connection in connections:
                connection.close()
    finally:
        stop_server(server)
    return {"server": SYNC_NAME if sync_workers else MAKE_RUN_NAME, "stalled": stalled, **result}


def run(stalled: int = 500, requests: int = 1000) -> list[dict]:
    return [measure(stalled, requests, sync_workers=False), measure(stalled, requests, sync_workers=True)]


def as_markdown(rows: list[dict]) -> str:
    def ms(value):
        return "-" if value is None else f"{value:.1f}"
    lines = ["| server | stalled connections | predictions sent | answered | failed or timed out (5 s) "
             "| p50 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['server']} | {r['stalled']} | {r['requests']} | {r['answered']} | {r['errors']} | "
              f"{ms(r['p50_ms'])} | {ms(r['p99_ms'])} |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalled", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = run(args.stalled, args.requests)
    print(f"{args.stalled} stalled connections, {os.cpu_count()} CPU cores")
    print(as_markdown(rows))
    return rows


if __name__ == "__main__":
    main()
