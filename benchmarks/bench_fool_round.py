"""A "fool the model" round taught and replayed, against `make run`, while a class keeps drawing.

    python benchmarks/bench_fool_round.py [--models mlp cnn] [--students 30] [--write]

For each model: a fresh `make run` (its own SQLite file); the teacher starts "Fool the model with a 1"; 40
drawings that fool that model (1s drawn as their outline, `outline-1` of benchmarks/styled_digits.py, seed
4040, kept only when the shipped model misreads them, read with the app's own preprocessing) are sent to the
round by eight students (their own addresses, `X-Forwarded-For` with DIGITDRAW_TRUSTED_PROXIES=1); then,
with `--students` students drawing on their pages (a prediction every 150 ms for 1.5 s, a look at the answer,
the current round asked for, 3-6 s of thought, as a phone does), the wall's one press:

    POST /api/rounds/<id>/teach  ->  GET /api/finetune until the run ends  ->  GET /api/rounds/<id>/replay

timed from the press to the replay in hand. Measured: that time; the round's held-out fifth (8 of the 40,
never trained on) read right by the old and the new version, and the 32 it learnt from; MNIST test before and
after (the run publishes only when it drops by at most 0.1 point, else the wall says why); the students'
predictions p50/p95 during the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.bench_load import (
    HOST,
    free_port,
    multipart_body,
    start_server,
    stop_server,
    wait_for_first_prediction,
)
from benchmarks.bench_predict import percentile
from benchmarks.canvas import canvas_png
from benchmarks.results_file import write_section
from benchmarks.styled_digits import styled_digits
from training.mnist import load_mnist
from training.report import cpu_name
from webapp import PROJECT_ROOT
from webapp.inference.classifier import Classifier
from webapp.inference.reading import read

SECTION = "## Fool the model, teach it, test it again (`benchmarks/bench_fool_round.py`)"
TOKEN = "a-teacher-token-for-the-benchmark"
TEACHER = {"Authorization": f"Bearer {TOKEN}"}
FOOLING = 40
TRICK = "outline-1"      # a 1 drawn as its outline (training/style_strokes.py): the models read a 0 or an 8
SENDERS = 8
SEED = 4040            # not the seeds benchmarks/bench_finetune.py or the tests draw from
TIMEOUT = 30
RUN_TIMEOUT = 600
TARGET_SECONDS = {"mlp": 90, "mlp-wide": 90, "cnn": 150}
MAX_PIXELS = 4_000_000


def request(connection, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


def call(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        status, payload = request(connection, method, path, body, headers)
    finally:
        connection.close()
    return status, json.loads(payload) if payload else None


def fooling_drawings(model: str, count: int = FOOLING) -> list[bytes]:
    """`count` drawings of the TRICK the shipped `model` reads as something other than 1."""
    classifier = Classifier.load(PROJECT_ROOT / "model" / f"{model}.tflite")
    found = []
    for drawing in styled_digits(TRICK, count * 8, SEED):
        reading = read(drawing.png, "digit", [classifier], MAX_PIXELS)
        if reading.digits and int(reading.answers[0].probabilities[0].argmax()) != 1:
            found.append(drawing.png)
            if len(found) == count:
                return found
    raise RuntimeError(f"only {len(found)} of {count * 8} {TRICK} drawings fool {model}")


def student(number: int, port: int, predict_body, stop: threading.Event, results: dict, lock: threading.Lock):
    address = {"X-Forwarded-For": f"10.8.{number // 250}.{number % 250 + 1}"}
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    random.seed(number)
    time.sleep(random.uniform(0, 3))

    def ask(method, path, body=None, content_type=None):
        nonlocal connection
        headers = {**address, **({"Content-Type": content_type} if content_type else {})}
        try:
            return request(connection, method, path, body, headers)[0]
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            return 0

    while not stop.is_set():
        drawing_until = time.monotonic() + 1.5
        while time.monotonic() < drawing_until and not stop.is_set():
            started = time.perf_counter()
            status = ask("POST", "/api/predict", *predict_body)
            elapsed = time.perf_counter() - started
            with lock:
                results["predict_ms" if status == 200 else "predict_failed"].append(elapsed * 1000)
            time.sleep(max(0.0, 0.15 - elapsed))
        stop.wait(1.0)
        ask("GET", "/api/rounds/current")
        stop.wait(random.uniform(3.0, 6.0))
    connection.close()


def lesson(model: str, students: int, folder: Path) -> dict:
    fooling = fooling_drawings(model)
    port = free_port()
    env = {"DIGITDRAW_DATABASE": str(folder / f"fool-{model}.sqlite"), "DIGITDRAW_TRUSTED_PROXIES": "1",
           "DIGITDRAW_TEACHER_TOKEN": TOKEN}
    mnist = load_mnist()
    predict_body = multipart_body(canvas_png(mnist.x_test[0]))
    server = start_server(port, env)
    try:
        wait_for_first_prediction(port, *predict_body, server)
        status, started = call(port, "POST", "/api/rounds", json.dumps({"kind": "digit", "digit": 1, "fool": True})
                               .encode(), {**TEACHER, "Content-Type": "application/json"})
        assert status == 201, started
        round_id = started["id"]
        for index, png in enumerate(fooling):
            body, content_type = multipart_body(png)
            status, sent = call(port, "POST", f"/api/rounds/{round_id}/drawings", body,
                                {"Content-Type": content_type, "X-Forwarded-For": f"10.7.0.{index % SENDERS + 1}"})
            assert status == 201, sent

        stop, lock = threading.Event(), threading.Lock()
        results = {"predict_ms": [], "predict_failed": []}
        threads = [threading.Thread(target=student, args=(n, port, predict_body, stop, results, lock), daemon=True)
                   for n in range(students)]
        for thread in threads:
            thread.start()
        time.sleep(5.0)   # the class is drawing when the teacher presses
        with lock:
            results["predict_ms"].clear()
        pressed = time.monotonic()
        status, run = call(port, "POST", f"/api/rounds/{round_id}/teach", json.dumps({"model": model}).encode(),
                           {**TEACHER, "Content-Type": "application/json"})
        assert status == 202, run
        while time.monotonic() - pressed < RUN_TIMEOUT:
            status, run = call(port, "GET", "/api/finetune", headers=TEACHER)
            if run and run["state"] != "running":
                break
            time.sleep(1.0)
        trained = time.monotonic()
        replay = None
        if run["state"] == "published":
            while True:
                status, replay = call(port, "GET", f"/api/rounds/{round_id}/replay?model={model}", headers=TEACHER)
                assert status == 200, replay
                if replay["complete"]:
                    break
                time.sleep(0.3)
        done = time.monotonic()
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        stop_server(server)
    result = run.get("result") or {}
    held = (replay or {}).get("groups", {}).get("held_out", {})
    learnt = (replay or {}).get("groups", {}).get("learnt", {})
    return {"model": model, "students": students, "state": run["state"], "reason": result.get("reason"),
            "seconds": done - pressed, "run_seconds": trained - pressed, "replay_seconds": done - trained,
            "held_out": held.get("drawings", 0), "held_before": held.get("old_right"),
            "held_after": held.get("new_right"),
            "learnt": learnt.get("drawings", 0), "learnt_before": learnt.get("old_right"),
            "learnt_after": learnt.get("new_right"),
            "mnist_before": (result.get("before") or {}).get("mnist_test"),
            "mnist_after": (result.get("after") or {}).get("mnist_test"),
            "predictions": len(results["predict_ms"]), "predict_failed": len(results["predict_failed"]),
            "predict_p50": percentile(results["predict_ms"], 0.5),
            "predict_p95": percentile(results["predict_ms"], 0.95)}


def share(right, total) -> str:
    return "–" if right is None or not total else f"{right} of {total} ({right / total:.0%})"


def table(results: list[dict]) -> str:
    lines = ["| model | press → replayed wall (target) | of it: teaching / replay | held-out fooling drawings "
             "read right, before → after | the 32 it learnt from | MNIST test before → after | predictions p50 / p95 "
             "meanwhile |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        mnist = (f"{r['mnist_before']:.2%} → {r['mnist_after']:.2%}" if r["mnist_before"] is not None else "–")
        outcome = "" if r["state"] == "published" else f" (not published: {r['reason']})"
        lines.append(f"| {r['model']} | **{r['seconds']:.0f} s** (≤ {TARGET_SECONDS.get(r['model'], 150)} s){outcome} "
                     f"| {r['run_seconds']:.0f} s / {r['replay_seconds']:.1f} s "
                     f"| {share(r['held_before'], r['held_out'])} → **{share(r['held_after'], r['held_out'])}** "
                     f"| {share(r['learnt_before'], r['learnt'])} → {share(r['learnt_after'], r['learnt'])} "
                     f"| {mnist} | {r['predict_p50']:.0f} / **{r['predict_p95']:.0f} ms** ({r['predictions']:,}, "
                     f"{r['predict_failed']} failed) |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--write", action="store_true", help=f"write the figures into {SECTION!r} of RESULTS.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="digitdraw-fool-") as folder:
        results = [lesson(model, args.students, Path(folder)) for model in args.models]
    text = (f"CPU: {cpu_name()}, 2 cores, float32. Each model in a fresh `make run` (2 gevent workers, SQLite); "
            f"{FOOLING} {TRICK} drawings (1s drawn as their outline) that fool that model sent to a "
            f"\"Fool the model with a 1\" round by "
            f"{SENDERS} students, then the wall's one press with {args.students} students drawing meanwhile. "
            "Held out: the round's fixed fifth, never trained on.\n\n" + table(results))
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
