"""`make cluster` for real: nginx (deploy/nginx.conf), three app instances, PostgreSQL and Redis from Debian's
packages, started by deploy/cluster.py in a temporary folder on free loopback ports and stopped by their pids.

Through nginx: its own health check and the app's, a prediction, static files served by nginx itself (cached,
compressed), the client's address reaching the app, and a failover: one instance killed while 16 clients send
predictions and feedback, with no failed prediction and no drawing stored twice.
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import json
import os
import random
import signal
import threading
from pathlib import Path

import pytest

from benchmarks.canvas import canvas_png
from deploy.cluster import NGINX_PLACEHOLDERS, Cluster, cluster_settings
from deploy.local_servers import ServerMissing, free_port, multipart_body
from webapp import PROJECT_ROOT

# Limits on (the client address decides them), but never reached: every request here comes from loopback.
GENEROUS = "100000 per hour"
LIMITS = {f"DIGITDRAW_RATELIMIT_{name}": GENEROUS for name in ("PREDICT", "EXPLAIN", "FEEDBACK", "DEFAULT")}
CLIENTS = 16
PREDICTIONS = 300
FEEDBACK_POSTS = 48
KILL_AFTER = 100      # requests started before the instance is killed


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"), instances=3, port=free_port(), durable=False, env=LIMITS)
    try:
        cluster.start()
    except ServerMissing as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))   # CI installs them (.ci/run): never a skip there
        pytest.skip(str(missing))
    yield cluster
    cluster.stop()


def send(cluster: Cluster, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         source: str = "127.0.0.1") -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request to nginx from the loopback address `source` (any 127.x.y.z is this machine)."""
    connection = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_nginx_answers_its_own_health_check_and_passes_the_apps(cluster):
    status, _, body = send(cluster, "GET", "/nginx-health")
    assert (status, body) == (200, b"ok\n")
    status, _, body = send(cluster, "GET", "/api/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_a_prediction_through_nginx(cluster, seven):
    body, content_type = multipart_body(seven)
    status, _, answer = send(cluster, "POST", "/api/predict", body, {"Content-Type": content_type})
    assert status == 200 and json.loads(answer)["digit"] == 7


def test_static_files_come_from_nginx_cached_and_compressed(cluster):
    on_disk = (PROJECT_ROOT / "static" / "css" / "base.css").read_bytes()
    status, headers, body = send(cluster, "GET", "/static/css/base.css", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == on_disk
    assert headers["Cache-Control"] == "max-age=3600"   # the app's own answer would say no-cache
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = send(cluster, "GET", "/static/css/base.css")
    assert status == 200 and "Content-Encoding" not in headers and body == on_disk
    status, _, _ = send(cluster, "GET", "/static/css/base.css", headers={"If-None-Match": headers["ETag"]})
    assert status == 304   # revalidated without the body


def test_the_app_counts_each_client_by_the_address_nginx_saw(cluster):
    """Each client has its own rate-limit count (shared by every instance through Redis): the app reads the
    address nginx put in X-Forwarded-For, not nginx's own 127.0.0.1, and not an X-Forwarded-For the client sent."""
    def remaining(source: str, **headers) -> int:
        status, answer, _ = send(cluster, "GET", "/api/models", headers=headers, source=source)
        assert status == 200 and answer["X-RateLimit-Limit"] == "100000"
        return int(answer["X-RateLimit-Remaining"])

    assert [remaining("127.0.0.2"), remaining("127.0.0.2")] == [99_999, 99_998]
    assert remaining("127.0.0.3", **{"X-Forwarded-For": "127.0.0.2"}) == 99_999   # its own count, not .2's
    assert remaining("127.0.0.2") == 99_997


def test_killing_an_instance_fails_no_prediction_and_stores_no_drawing_twice(cluster, mnist, seven):
    """16 clients send 300 predictions and 48 corrections (each a different MNIST digit, so each stored
    drawing says which post it came from); after 100 requests instance 2 is killed with its worker, mid-request
    (SIGKILL to the process group its pid file names). nginx sends a failed prediction to another instance;
    it never sends a feedback post twice, so a post in flight on the killed instance may fail (502), but
    every 201 is stored once and no drawing twice."""
    prediction = multipart_body(seven)
    posts = {index: multipart_body(canvas_png(mnist.x_test[index]), label=str(mnist.y_test[index]))
             for index in range(1, FEEDBACK_POSTS + 1)}
    work = [("predict", None)] * PREDICTIONS + [("feedback", index) for index in posts]
    random.Random(16).shuffle(work)
    killed = cluster.pid_file("app-2")
    victim = int(killed.read_text())
    queue, lock = iter(enumerate(work)), threading.Lock()
    failed_predictions, feedback = [], {}

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
        while True:
            with lock:
                number, (kind, index) = next(queue, (None, (None, None)))
            if number is None:
                break
            if number == KILL_AFTER:
                os.killpg(victim, signal.SIGKILL)
            body, content_type = prediction if kind == "predict" else posts[index]
            try:
                connection.request("POST", f"/api/{kind}", body=body, headers={"Content-Type": content_type})
                response = connection.getresponse()
                status, answer = response.status, response.read()
            except (OSError, http.client.HTTPException) as error:   # never retried here: a failure is a failure
                connection.close()
                status, answer = None, repr(error).encode()
            if kind == "predict" and not is_a_seven(status, answer):
                failed_predictions.append((status, answer[:200]))
            elif kind == "feedback":
                feedback[index] = (status, json.loads(answer) if status == 201 else answer[:200])
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not any(thread.is_alive() for thread in threads)
    assert any(line.startswith("app-2 ") for line in cluster.reap()), "instance 2 was not killed"
    assert failed_predictions == [], nginx_story(cluster)
    assert len(feedback) == FEEDBACK_POSTS
    refused = {index: answer for index, (status, answer) in feedback.items() if status not in (201, 502)}
    assert refused == {}
    saved = {answer["id"]: index for index, (status, answer) in feedback.items() if status == 201}
    assert len(saved) >= FEEDBACK_POSTS // 2   # only posts in flight on the victim may fail

    stored = all_drawings(cluster)
    assert set(saved) <= {item["id"] for item in stored}                  # every 201 was stored...
    inputs = [item["input"] for item in stored]
    assert len(set(inputs)) == len(inputs) <= FEEDBACK_POSTS                # ...and no post twice
    by_id = {item["id"]: item for item in stored}
    assert all(by_id[id_]["label"] == int(mnist.y_test[index]) for id_, index in saved.items())


def nginx_story(cluster: Cluster) -> str:
    """What nginx saw go wrong: its errors, and each request it answered with a 5xx or sent to two instances."""
    logs = Path(cluster.folder) / "nginx" / "logs"
    errors = [line for line in (logs / "error.log").read_text().splitlines() if "[error]" in line]
    retried = [line for line in (logs / "access.log").read_text().splitlines()
               if '" 5' in line or "upstream_status=5" in line]
    return "\n".join(["nginx errors:", *errors[-20:], "answers with a 5xx or a retry:", *retried[-40:]])


def is_a_seven(status: int | None, answer: bytes) -> bool:
    try:
        return status == 200 and json.loads(answer)["digit"] == 7
    except (ValueError, KeyError, TypeError):
        return False


def all_drawings(cluster: Cluster) -> list[dict]:
    """Every stored drawing, through the public listing (GET /api/drawings, 200 a page)."""
    items = []
    for offset in itertools.count(0, 200):
        status, _, body = send(cluster, "GET", f"/api/drawings?limit=200&offset={offset}")
        assert status == 200
        page = json.loads(body)["items"]
        items += page
        if len(page) < 200:
            return items


def test_pid_files_and_logs_are_in_the_clusters_own_folder(cluster):
    """One pid file per server started, nginx's log beside them, nothing in the checkout."""
    folder = Path(cluster.folder)
    assert {path.name for path in folder.glob("*.pid")} == {"app-1.pid", "app-2.pid", "app-3.pid", "nginx.pid",
                                                             "redis.pid", "postgres.pid"}
    assert (folder / "nginx" / "logs" / "access.log").stat().st_size > 0
    assert not str(folder).startswith(str(PROJECT_ROOT))


def test_compose_sets_what_the_local_cluster_sets():
    """Docker cannot run here: deploy/compose.yaml stays a mirror of the tested cluster by naming the same app
    settings and filling the same nginx placeholders (the template itself is mounted, not copied)."""
    compose = (PROJECT_ROOT / "deploy" / "compose.yaml").read_text()
    for name in (*cluster_settings("", ""), *NGINX_PLACEHOLDERS):
        assert f"\n      {name}: " in compose, name
    assert "./nginx.conf:/etc/nginx/templates/nginx.conf.template" in compose
