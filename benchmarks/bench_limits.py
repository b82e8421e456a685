"""What the rate limits cost and whether they hold, against `make run` (2 gevent workers), counters side by side.

    python benchmarks/bench_limits.py [--requests 3000] [--rounds 3] [--write]

For each place the counters can live (the default counters file shared by the workers, each worker's memory,
and limits off), in alternating rounds of one run:
1. predictions from 200 clients (addresses given through `X-Forwarded-For`, DIGITDRAW_TRUSTED_PROXIES=1, each
   far below its limit) over 8 keep-alive connections: requests a second and latency, so the price of a
   shared counter is measured on the request every student sends;
2. bursts from one client, all at once, each request on its own connection: 20 sign-ins, 30 wrong
   `Authorization: Bearer` tokens, 20 saved drawings (5 a second documented for each) and 30 explanations
   (5 a second): how many got through.
`--write` puts the table into benchmarks/RESULTS.md's section for it.
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.bench_load import HOST, free_port, multipart_body, start_server, stop_server, wait_for_first_prediction
from benchmarks.bench_predict import percentile
from benchmarks.canvas import canvas_png
from benchmarks.results_file import write_section
from training.mnist import load_mnist
from training.report import cpu_name

SECTION = "## Rate limits shared by the workers (`benchmarks/bench_limits.py`)"
TOKEN = "a-teacher-token-for-the-benchmark"
CLIENTS = 200
CONNECTIONS = 8
CONFIGURATIONS = {
    "counters file shared by the workers (default, `file://`)": {},
    "each worker's memory (`memory://`, before)": {"DIGITDRAW_RATELIMIT_STORAGE_URI": "memory://"},
    "limits off": {"DIGITDRAW_RATELIMIT_ENABLED": "false"},
}


def send(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         connection: http.client.HTTPConnection | None = None):
    own = connection is None
    connection = connection or http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie"), response.read()
    finally:
        if own:
            connection.close()


def predictions(port: int, body: bytes, content_type: str, requests: int) -> dict:
    latencies: list[float] = []
    statuses: list[int] = []
    numbers = iter(range(requests))
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                break
            headers = {"Content-Type": content_type, "X-Forwarded-For": f"10.0.{number % CLIENTS // 250}."
                                                                         f"{number % CLIENTS % 250 + 1}"}
            started = time.perf_counter()
            status, _, _ = send(port, "POST", "/api/predict", body, headers, connection)
            with lock:
                statuses.append(status)
                latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"rps": len(latencies) / elapsed, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "refused": sum(status != 200 for status in statuses)}


def burst(count: int, request) -> list[int]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: request(), range(count)))


def bursts(port: int, drawings: list[tuple[bytes, str]], explain_body: tuple[bytes, str]) -> dict:
    """Each burst from one client (named by `X-Forwarded-For`, which the server believes for one hop): 20
    sign-ins, 30 wrong Bearer tokens, 20 saved drawings (each a different one), 30 explanations."""
    me = {"X-Forwarded-For": "192.0.2.50"}
    _, cookie, page = send(port, "GET", "/teacher", headers=me)
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    form = f"token={TOKEN}&next=%2Fteacher&csrf_token={csrf}".encode()
    headers = {**me, "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin",
               "Cookie": cookie.split(";")[0]}
    sign_ins = burst(20, lambda: send(port, "POST", "/teacher/sign-in", form, headers)[0])
    time.sleep(1.1)
    guesses = burst(30, lambda: send(port, "GET", "/api/finetune",
                                     headers={"X-Forwarded-For": "192.0.2.51", "Authorization": "Bearer wrong-one"})[0])
    saving = iter(drawings)
    lock = threading.Lock()

    def save():
        with lock:
            body, content_type = next(saving)
        return send(port, "POST", "/api/feedback", body, {"X-Forwarded-For": "192.0.2.52",
                                                          "Content-Type": content_type})[0]

    saved = burst(20, save)
    explained = burst(30, lambda: send(port, "POST", "/api/explain", explain_body[0],
                                       {"X-Forwarded-For": "192.0.2.53", "Content-Type": explain_body[1]})[0])
    return {"sign_ins": sum(status == 303 for status in sign_ins), "guesses": sum(status == 403 for status in guesses),
            "saved": sum(status == 201 for status in saved), "explained": sum(status != 429 for status in explained)}


def round_of(name: str, settings: dict, body: bytes, content_type: str, requests: int, folder: Path,
             drawings: list[tuple[bytes, str]]) -> dict:
    port = free_port()
    env = {"DIGITDRAW_DATABASE": str(folder / f"{port}.sqlite"), "DIGITDRAW_TRUSTED_PROXIES": "1",
           "DIGITDRAW_TEACHER_TOKEN": TOKEN, **settings}
    server = start_server(port, env)
    try:
        wait_for_first_prediction(port, body, content_type, server)
        predictions(port, body, content_type, 300)   # warm-up
        result = predictions(port, body, content_type, requests)
        result.update(bursts(port, drawings, (body, content_type)))
    finally:
        stop_server(server)
    return result


def measure(requests: int, rounds: int) -> dict[str, list[dict]]:
    mnist = load_mnist()
    body, content_type = multipart_body(canvas_png(mnist.x_test[0]))
    drawings = [multipart_body(canvas_png(mnist.x_test[index]), label=str(int(mnist.y_test[index])))
                for index in range(1, 21)]
    results: dict[str, list[dict]] = {name: [] for name in CONFIGURATIONS}
    with tempfile.TemporaryDirectory(prefix="digitdraw-bench-limits-") as folder:
        for _ in range(rounds):
            for name, settings in CONFIGURATIONS.items():
                results[name].append(round_of(name, settings, body, content_type, requests, Path(folder), drawings))
    return results


def table(results: dict[str, list[dict]], requests: int, rounds: int) -> str:
    lines = [f"{requests} predictions per round from {CLIENTS} clients over {CONNECTIONS} connections, then 20 "
             f"sign-ins, 30 wrong Bearer tokens, 20 saved drawings and 30 explanations, each burst from one client "
             f"at once (each limit: 5 a second); {rounds} rounds, "
             f"configurations alternating; medians of the rounds.",
             "",
             "| counters | predictions/s | p50 ms | p95 ms | refused | sign-ins let through (of 20) | "
             "wrong tokens answered 403 (of 30) | drawings saved (of 20) | explanations let through (of 30) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rows in results.items():
        def median(key, rows=rows):
            return statistics.median(row[key] for row in rows)
        limited = name != "limits off"
        lines.append(f"| {name} | {median('rps'):.0f} | {median('p50'):.1f} | {median('p95'):.1f} | "
                     f"{median('refused'):.0f} | {median('sign_ins'):.0f}{'' if limited else ' (no limit)'} | "
                     f"{median('guesses'):.0f}{'' if limited else ' (no limit)'} | {median('saved'):.0f} | "
                     f"{median('explained'):.0f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    options = parser.parse_args(argv)
    text = table(measure(options.requests, options.rounds), options.requests, options.rounds)
    text += f"\n\nMachine: {cpu_name()}, 2 gunicorn workers."
    print(text)
    if options.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
