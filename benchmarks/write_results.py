"""Run the speed and robustness benchmarks and write benchmarks/RESULTS.md with the machine they ran on.

    python benchmarks/write_results.py [--repeats 300] [--requests 10000]

Takes about 10 minutes on 2 cores; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

from benchmarks import (
    bench_abuse,
    bench_cluster,
    bench_drawings_page,
    bench_explain,
    bench_feedback_flood,
    bench_load,
    bench_predict,
    bench_slow_clients,
)

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    return (f"{cpu}, {os.cpu_count()} cores, {memory_kib / 2**20:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--requests", type=int, default=10000)
    args = parser.parse_args(argv)
    predict_rows = bench_predict.run(args.repeats)
    load = bench_load.run(args.requests, [1, 4, 16])
    compared = bench_load.side_by_side(4000, 16, rounds=7)   # more, shorter rounds: the noise is in the rounds
    slow = bench_slow_clients.run(stalled=500, requests=1000)
    flood = bench_feedback_flood.run()
    page = bench_drawings_page.run()
    abuse = bench_abuse.run(repeats=5)
    inside = bench_explain.run(repeats=100, digits=500)
    cluster = bench_cluster.section_of(RESULTS.read_text()) if RESULTS.exists() else ""   # its own longer run
    RESULTS.write_text(f"""# Speed results

Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on: {machine()}.
Regenerate with `.venv/bin/python benchmarks/write_results.py` (about 10 minutes, on an idle machine).

## One prediction (`benchmarks/bench_predict.py`, {args.repeats} calls per path, interleaved)

The same 280x280 canvas PNG (an MNIST test "7" drawn as black ink on a transparent canvas).

{bench_predict.as_markdown(predict_rows)}

## The real server under load (`benchmarks/bench_load.py`, {args.requests} requests per level)

`make run` (gunicorn with the Makefile's workers, rate limits off) on a loopback port;
keep-alive clients in one process on the same 2 cores as the server.

{bench_load.as_markdown(load)}

Side by side with the configuration `make run` had before (2 sync workers), in alternating
rounds of the same run (`bench_load.py --compare`), 16 clients, 7 rounds of 4,000 requests:

{bench_load.side_by_side_markdown(compared)}

## Stalled connections (`benchmarks/bench_slow_clients.py`)

500 connections that send part of a request and stop (half inside the headers, half inside a
declared body), held open while 4 keep-alive clients send ordinary predictions.

{bench_slow_clients.as_markdown(slow)}

## A feedback flood (`benchmarks/bench_feedback_flood.py`)

{bench_feedback_flood.as_markdown(flood)}

## The /drawings page with a full store (`benchmarks/bench_drawings_page.py`)

First view in a fresh app (every model's answers are stored with each drawing).

{bench_drawings_page.as_markdown(page)}

## Cheap abuse (`benchmarks/bench_abuse.py`, each case 5 times against `make run`)

{bench_abuse.as_markdown(abuse)}

## Looking inside (`benchmarks/bench_explain.py`)

In-process POST /api/explain on the 280x280 canvas PNG (100 calls per model); the deletion test and the
neighbour agreement on the first 500 MNIST test digits (agreement: of those each model reads right).

{bench_explain.as_markdown(inside)}

{cluster}""")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
