"""Cheap requests stay cheap: each abusive request of issue 11 against the real server.

    python benchmarks/bench_abuse.py [--repeats 5]

Starts `make run` on a free 127.0.0.1 port (rate limits off, as for every benchmark that
sends many requests from one address), sends each case a few times on a fresh connection
and reports its status, the median and worst time to the whole answer, and the largest
answer. Target (issue 11): every case answered in <= 300 ms with a 4xx JSON error of at
most 2 kB. The request builders are shared with tests/test_cheap_requests.py.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.bench_load import (
    HOST,
    REQUEST_TIMEOUT,
    free_port,
    multipart_body,
    start_server,
    stop_server,
    wait_for_first_prediction,
)
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist

MB = 1024 * 1024
TARGET_MS = 300
TARGET_BYTES = 2048
DELETE_TOKEN = "bench-abuse-teacher-token"
HUGE_NUMBER = "9" * 4300            # Python refuses int() of more than 4,300 digits


@dataclass
class Abuse:
    """One request: what a client sends and the status it must get."""

    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    status: int = 400


def many_strokes_png(columns: int = 127, rows: int = 95) -> bytes:
    """12,065 separate 4x1-pixel dashes, each long enough not to be dropped as a speck."""
    page = np.full((rows * 2 + 2, columns * 5 + 2), 255, np.uint8)
    for row in range(rows):
        page[1 + row * 2, 1:1 + columns * 5].reshape(columns, 5)[:, :4] = 0
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, format="PNG")
    return buffer.getvalue()


def form(boundary: bytes, parts: list[tuple[bytes, bytes]], status: int = 415) -> Abuse:
    """A multipart POST to /api/predict with a hand-made boundary and (part headers, data) pairs."""
    body = b"".join(b"--%s\r\n%s\r\n\r\n%s\r\n" % (boundary, headers, data) for headers, data in parts)
    return Abuse("POST", "/api/predict", body + b"--%s--\r\n" % boundary,
                 {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}, status)


IMAGE_PART = b'Content-Disposition: form-data; name="image"; filename="x.png"'


def adversarial_multipart() -> dict[str, Abuse]:
    """Bodies made of the boundary's own characters (every byte starts a candidate boundary),
    and part headers as large as the form memory limit lets through."""
    almost_8_mb = 8 * MB - 4096
    return {
        "multipart: 8 MB of dashes, boundary `-`": form(b"-", [(IMAGE_PART, b"x" + b"-" * almost_8_mb)]),
        "multipart: 8 MB of `\\n---x`, boundary `-`": form(b"-", [(IMAGE_PART, b"x" + b"\n---x" * (almost_8_mb // 5))]),
        "multipart: 8 MB of `--a`, boundary `a`": form(b"a", [(IMAGE_PART, b"x" + b"--a" * (almost_8_mb // 3))]),
        # Werkzeug parses part headers at about 0.55 us a byte: only a small MAX_FORM_PARTS
        # (Flask's default is 1,000) refuses this body (413) before it costs seconds.
        "multipart: 60 parts with 120 kB headers": form(
            b"b", [(b'Content-Disposition: form-data; name="f"' + b'; a="b"' * 17_000, b"v")] * 60, status=413),
    }


def cases() -> dict[str, Abuse]:
    strokes, strokes_type = multipart_body(many_strokes_png(), mode="number")
    huge_model, huge_model_type = multipart_body(canvas_png(load_mnist().x_test[0]), model="m" * 400_000)
    long_model, long_model_type = multipart_body(canvas_png(load_mnist().x_test[0]), model="m" * 100_000)
    token = {"Authorization": f"Bearer {DELETE_TOKEN}"}
    return {
        "number mode, 12,065 tiny strokes": Abuse("POST", "/api/predict", strokes, {"Content-Type": strokes_type}),
        **adversarial_multipart(),
        "form field `model` of 400 kB": Abuse("POST", "/api/predict", huge_model, {"Content-Type": huge_model_type},
                                              status=413),
        "form field `model` of 100 kB": Abuse("POST", "/api/predict", long_model, {"Content-Type": long_model_type}),
        "`?model=` of 4 kB": Abuse("POST", "/api/predict?model=" + "m" * 4000, strokes,
                                   {"Content-Type": strokes_type}),
        "`?offset=2**63` on /api/drawings": Abuse("GET", "/api/drawings?offset=9223372036854775808"),
        "`?page=2**64` on /drawings": Abuse("GET", "/drawings?page=18446744073709551616"),
        "`?limit=` of 4,000 digits": Abuse("GET", "/api/drawings?limit=" + HUGE_NUMBER[:4000]),
        "DELETE a 23-digit drawing id": Abuse("DELETE", "/api/drawings/" + "9" * 23, headers=token, status=404),
        "DELETE a 4,000-digit drawing id": Abuse("DELETE", "/api/drawings/" + HUGE_NUMBER[:4000], headers=token,
                                                 status=404),
        "unknown API path of 4 kB": Abuse("GET", "/api/" + "x" * 4000, status=404),
    }


def send(port: int, abuse: Abuse) -> tuple[int, str, int, float]:
    """(status, content type, body bytes, milliseconds to the whole answer) on a fresh connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    started = time.perf_counter()
    connection.request(abuse.method, abuse.path, body=abuse.body or None,
                       headers={"Content-Length": str(len(abuse.body)), **abuse.headers})
    response = connection.getresponse()
    payload = response.read()
    elapsed_ms = (time.perf_counter() - started) * 1000
    connection.close()
    return response.status, response.getheader("Content-Type", ""), len(payload), elapsed_ms


def summary(name: str, abuse: Abuse, answers: list[tuple[int, str, int, float]]) -> dict:
    """One table row: the statuses seen, times, the largest answer, and whether the target was met."""
    statuses = sorted({status for status, _, _, _ in answers})
    times = [ms for _, _, _, ms in answers]
    largest = max(size for _, _, size, _ in answers)
    json_only = all(kind.startswith("application/json") for _, kind, _, _ in answers)
    return {"case": name, "status": "/".join(map(str, statuses)), "expected": abuse.status, "json": json_only,
            "median_ms": statistics.median(times), "max_ms": max(times), "max_bytes": largest,
            "sent_bytes": len(abuse.body) + len(abuse.path),
            "meets_target": (statuses == [abuse.status] and json_only and max(times) <= TARGET_MS
                             and largest <= TARGET_BYTES)}


def run(repeats: int = 5, only: list[str] | None = None) -> list[dict]:
    """Each case (or the cases named in `only`) `repeats` times against one server started like `make run`."""
    chosen = {name: abuse for name, abuse in cases().items() if only is None or name in only}
    warm_up, warm_up_type = multipart_body(canvas_png(load_mnist().x_test[0]))
    port = free_port()
    store = tempfile.TemporaryDirectory(prefix="bench-abuse-")
    server = start_server(port, {"DIGITDRAW_RATELIMIT_ENABLED": "false", "DIGITDRAW_TEACHER_TOKEN": DELETE_TOKEN,
                                 "DIGITDRAW_DATABASE": str(Path(store.name) / "drawings.sqlite")})
    try:
        wait_for_first_prediction(port, warm_up, warm_up_type, server)
        rows = [summary(name, abuse, [send(port, abuse) for _ in range(repeats)]) for name, abuse in chosen.items()]
    finally:
        stop_server(server)
        store.cleanup()
    return rows


def as_markdown(rows: list[dict]) -> str:
    lines = ["| case | sent | status | JSON | median ms | max ms | max response bytes | target |",
             "|---|---:|---:|:---:|---:|---:|---:|:---:|"]
    lines += [f"| {r['case']} | {r['sent_bytes']:,} | {r['status']} | {'yes' if r['json'] else 'no'} | "
              f"{r['median_ms']:.1f} | {r['max_ms']:.1f} | {r['max_bytes']:,} | "
              f"{'met' if r['meets_target'] else 'MISSED'} |" for r in rows]
    lines.append("")
    lines.append(f"Target: the expected 4xx status with a JSON error of at most {TARGET_BYTES:,} bytes, "
                 f"within {TARGET_MS} ms.")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="times each case is sent")
    args = parser.parse_args(argv)
    rows = run(args.repeats)
    print(f"`make run` on {os.cpu_count()} CPU cores, rate limits off, each case {args.repeats} times")
    print(as_markdown(rows))
    return rows


if __name__ == "__main__":
    main()
