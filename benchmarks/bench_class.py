"""A simulated class in a round, against `make run` and through `make cluster` with an instance killed.

    python benchmarks/bench_class.py [--students 60] [--seconds 300] [--capacity 120 160 200] [--write]

Each student is a thread with its own address (`X-Forwarded-For`, DIGITDRAW_TRUSTED_PROXIES=1, so every
student has the per-client limits of their own) that does what a phone on the drawing page does in a round:
draws for 1.5 s (a prediction every 150 ms, the page's live rate, each waiting for the one before), looks at
the answer for a second, sends the drawing to the round (a different MNIST test digit each time, with its
label: an "any digit" round), then thinks for 3-6 s while its page asks for the current round every second.
Two walls follow the round over server-sent events and reconnect with Last-Event-ID when their connection
drops, as the browser's EventSource does. Measured:

- send -> tile: from the moment a student starts sending to the moment each wall has the tile, p50/p95;
- lost (a drawing answered 201 that a wall never got) and twice (a wall got one twice), over both walls;
- predictions p50/p95 meanwhile, and the server's memory after a first 20-second round (the warm-up) and at
  the end (`make run`);
- through `make cluster` (3 instances behind nginx, PostgreSQL): one instance killed a third of the way in;
  how long the walls whose stream it held took to be back (from the drop to the reconnected stream's first
  event);
- capacity: shorter runs with more students, for the largest class at prediction p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.bench_cluster import Drawings
from benchmarks.bench_load import (
    HOST,
    free_port,
    multipart_body,
    server_rss_mib,
    start_server,
    stop_server,
    wait_for_first_prediction,
)
from benchmarks.bench_predict import percentile
from benchmarks.canvas import canvas_png
from benchmarks.results_file import write_section
from deploy.cluster import Cluster
from training.report import cpu_name

SECTION = "## A class in a round (`benchmarks/bench_class.py`)"
TOKEN = "a-teacher-token-for-the-benchmark"
TEACHER = {"Authorization": f"Bearer {TOKEN}"}
TIMEOUT = 30
DRAW_SECONDS = 1.5
LIVE_EVERY = 0.15
LOOK_SECONDS = 1.0
THINK_SECONDS = (3.0, 6.0)
CATCH_UP_SECONDS = 5.0
WARM_UP_SECONDS = 20.0


def request(connection, method: str, path: str, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


class Wall(threading.Thread):
    """A wall's EventSource: arrival time of each drawing; reconnects with Last-Event-ID after a drop."""

    def __init__(self, port: int, round_id: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.round_id, self.stop = port, round_id, stop
        self.arrived: dict[int, float] = {}
        self.twice = 0
        self.last_id = 0
        self.drops: list[float] = []       # when a connection dropped
        self.back: list[float] = []        # when the stream after it gave its first event

    def run(self):
        while not self.stop.is_set():
            try:
                self.follow()
            except (OSError, http.client.HTTPException, ValueError):
                pass
            if not self.stop.is_set():
                self.drops.append(time.monotonic())
                time.sleep(0.5)

    def follow(self):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=20)
        headers = {**TEACHER, **({"Last-Event-ID": str(self.last_id)} if self.last_id else {})}
        connection.request("GET", f"/api/rounds/{self.round_id}/events", headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            response.read()
            connection.close()
            raise ValueError(response.status)
        block: dict[str, str] = {}
        first = True
        try:
            while not self.stop.is_set():
                line = response.readline()   # chunk-aware: b"" when the server ends the stream
                if not line:
                    return   # the server ended the stream (or the instance died)
                line = line.decode().rstrip("\r\n")
                if line:
                    if ": " in line and not line.startswith(":"):
                        name, value = line.split(": ", 1)
                        block[name] = value
                    continue
                if block.get("event"):
                    if first and len(self.drops) > len(self.back):
                        self.back.append(time.monotonic())
                    first = False
                if block.get("event") == "drawing":
                    drawing_id = int(block["id"])
                    if drawing_id in self.arrived:
                        self.twice += 1
                    else:
                        self.arrived[drawing_id] = time.monotonic()
                    self.last_id = drawing_id
                block = {}
        finally:
            connection.close()


def student(number: int, port: int, round_id: int, digits: Drawings, predict_body, deadline: float, results: dict,
            lock: threading.Lock):
    address = {"X-Forwarded-For": f"10.9.{number // 250}.{number % 250 + 1}"}
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    random.seed(number)
    time.sleep(random.uniform(0, 3))   # the class does not start in step

    def call(method, path, body=None, content_type=None):
        nonlocal connection
        headers = {**address, **({"Content-Type": content_type} if content_type else {})}
        try:
            return request(connection, method, path, body, headers)
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            return 0, b""

    while time.monotonic() < deadline:
        drawing_until = time.monotonic() + DRAW_SECONDS
        while time.monotonic() < drawing_until:
            started = time.perf_counter()
            status, _ = call("POST", "/api/predict", *predict_body)
            elapsed = time.perf_counter() - started
            with lock:
                results["predict_ms" if status == 200 else "predict_failed"].append(elapsed * 1000)
            time.sleep(max(0.0, LIVE_EVERY - elapsed))
        time.sleep(LOOK_SECONDS)
        body, content_type = digits.next_body()
        started = time.monotonic()
        status, answer = call("POST", f"/api/rounds/{round_id}/drawings", body, content_type)
        with lock:
            if status == 201:
                results["sent"][json.loads(answer)["id"]] = started
            else:
                results["send_failed"].append(status)
        think_until = time.monotonic() + random.uniform(*THINK_SECONDS)
        while time.monotonic() < think_until and time.monotonic() < deadline:
            call("GET", "/api/rounds/current")
            time.sleep(1.0)
    connection.close()


def run_class(port: int, students: int, seconds: float, digits: Drawings, kill=None) -> dict:
    """One round with `students` and two walls for `seconds`; `kill()` is called a third of the way in."""
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    status, answer = request(connection, "POST", "/api/rounds", json.dumps({"kind": "any"}).encode(),
                             {**TEACHER, "Content-Type": "application/json"})
    assert status == 201, answer
    round_id = json.loads(answer)["id"]
    stop = threading.Event()
    walls = [Wall(port, round_id, stop) for _ in range(2)]
    for wall in walls:
        wall.start()
    predict_body = multipart_body(canvas_png(digits.mnist.x_test[0]))
    results = {"predict_ms": [], "predict_failed": [], "sent": {}, "send_failed": []}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=student, args=(n, port, round_id, digits, predict_body, deadline, results,
                                                      lock), daemon=True) for n in range(students)]
    for thread in threads:
        thread.start()
    killed_at = None
    if kill:
        time.sleep(seconds / 3)
        killed_at = time.monotonic()
        kill()
    for thread in threads:
        thread.join()
    caught_up = time.monotonic() + CATCH_UP_SECONDS
    while time.monotonic() < caught_up and not all(set(results["sent"]) <= set(w.arrived) for w in walls):
        time.sleep(0.1)
    stop.set()
    connection.close()   # idle for longer than the server keeps a connection: a new one
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    request(connection, "POST", f"/api/rounds/{round_id}/end", headers=TEACHER)
    connection.close()
    delays = [(wall.arrived[drawing_id] - sent_at) * 1000 for wall in walls
              for drawing_id, sent_at in results["sent"].items() if drawing_id in wall.arrived]
    back = [wall.back[index] - wall.drops[index] for wall in walls for index in range(len(wall.back))
            if killed_at is not None and wall.drops[index] >= killed_at - 1]
    return {"students": students, "seconds": seconds, "sent": len(results["sent"]),
            "send_failed": len(results["send_failed"]), "predictions": len(results["predict_ms"]),
            "predict_failed": len(results["predict_failed"]),
            "predict_p50": percentile(results["predict_ms"], 0.5),
            "predict_p95": percentile(results["predict_ms"], 0.95),
            "tile_p50": percentile(delays, 0.5) if delays else None,
            "tile_p95": percentile(delays, 0.95) if delays else None,
            "lost": sum(len(set(results["sent"]) - set(wall.arrived)) for wall in walls),
            "twice": sum(wall.twice for wall in walls),
            "walls_dropped": sum(1 for wall in walls for drop in wall.drops if killed_at and drop >= killed_at - 1),
            "back_within_s": max(back) if back else None}


def on_make_run(students: int, seconds: float, digits: Drawings, folder: Path) -> dict:
    port = free_port()
    env = {"DIGITDRAW_DATABASE": str(folder / f"class-{port}.sqlite"), "DIGITDRAW_TRUSTED_PROXIES": "1",
           "DIGITDRAW_TEACHER_TOKEN": TOKEN}
    server = start_server(port, env)
    try:
        wait_for_first_prediction(port, *multipart_body(canvas_png(digits.mnist.x_test[0])), server)
        run_class(port, students, WARM_UP_SECONDS, digits)   # a first round: every worker's memory in use
        rss_before = server_rss_mib(server)
        result = run_class(port, students, seconds, digits)
        result["rss_before_mib"], result["rss_after_mib"] = rss_before, server_rss_mib(server)
    finally:
        stop_server(server)
    return result


def on_cluster(students: int, seconds: float, digits: Drawings, folder: Path) -> dict:
    env = {"DIGITDRAW_RATELIMIT_ENABLED": "false", "DIGITDRAW_TEACHER_TOKEN": TOKEN}
    cluster = Cluster(folder / "cluster", instances=3, port=free_port(), durable=False, env=env).start()
    try:
        def kill():
            os.kill(int(cluster.pid_file("app-2").read_text()), signal.SIGKILL)
        return run_class(cluster.port, students, seconds, digits, kill=kill)
    finally:
        cluster.stop()


def row(name: str, result: dict) -> str:
    memory = (f"{result['rss_before_mib']:.0f} -> {result['rss_after_mib']:.0f} MiB "
              f"({result['rss_after_mib'] / result['rss_before_mib'] - 1:+.1%})" if "rss_before_mib" in result else "–")
    back = f"{result['back_within_s']:.1f} s ({result['walls_dropped']} dropped)" if result["back_within_s"] else "–"
    return (f"| {name} | {result['students']} | {result['seconds']:.0f} | {result['sent']} | "
            f"{result['tile_p50']:.0f} / {result['tile_p95']:.0f} | {result['lost']} | {result['twice']} | "
            f"{result['predictions']} | {result['predict_p50']:.0f} / {result['predict_p95']:.0f} | "
            f"{result['predict_failed'] + result['send_failed']} | {memory} | {back} |")


def table(results: list[tuple[str, dict]]) -> str:
    lines = ["| server | students | s | drawings sent | send -> tile ms p50 / p95 (2 walls) | lost | twice | "
             "predictions | prediction ms p50 / p95 | failed | server memory | walls back after the kill |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    lines += [row(name, result) for name, result in results]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--capacity", type=int, nargs="*", default=[120, 160, 200])
    parser.add_argument("--capacity-seconds", type=float, default=60)
    parser.add_argument("--cluster-seconds", type=float, default=90)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    options = parser.parse_args(argv)
    digits = Drawings()   # a different MNIST test digit for every send: the store keeps each drawing once
    results = []
    with tempfile.TemporaryDirectory(prefix="digitdraw-bench-class-") as scratch:
        folder = Path(scratch)
        results.append(("`make run`", on_make_run(options.students, options.seconds, digits, folder)))
        print(table(results), flush=True)
        if options.cluster_seconds:
            results.append(("`make cluster`, 3 instances, one killed", on_cluster(
                options.students, options.cluster_seconds, digits, folder)))
            print(table(results[-1:]), flush=True)
        for students in options.capacity:
            results.append(("`make run` (capacity)", on_make_run(students, options.capacity_seconds, digits,
                                                                 folder)))
            print(table(results[-1:]), flush=True)
    carried = [result["students"] for name, result in results if name.startswith("`make run`")
               and result["predict_p95"] <= 150]
    text = table(results)
    text += (f"\n\nThe largest class `make run` carried at prediction p95 <= 150 ms with two walls open: "
             f"{max(carried) if carried else 'none of those tried'} students. Machine: {cpu_name()}, "
             f"{os.cpu_count()} cores; the students and walls ran on the same machine.")
    print(text)
    if options.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
