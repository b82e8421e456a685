"""Run both speed benchmarks and write benchmarks/RESULTS.md with the machine they ran on.

    python benchmarks/write_results.py [--repeats 300] [--requests 10000]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import bench_load, bench_predict  # noqa: E402

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
    RESULTS.write_text(f"""# Speed results

Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on: {machine()}.
Regenerate with `.venv/bin/python benchmarks/write_results.py`.

## One prediction (`benchmarks/bench_predict.py`, {args.repeats} calls per path, interleaved)

The same 280x280 canvas PNG (an MNIST test "7" drawn as black ink on a transparent canvas).

{bench_predict.as_markdown(predict_rows)}

## The real server under load (`benchmarks/bench_load.py`, {args.requests} requests per level)

`make run` (gunicorn, the Makefile's workers and threads) on a loopback port; keep-alive
clients in one process on the same 2 cores as the server.

{bench_load.as_markdown(load)}
""")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
