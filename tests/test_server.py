"""The real server, started as `make run` starts it: stalled clients, deadlines, start-up, settings.

Every server here listens on a free 127.0.0.1 port, has its own database in
tmp_path, and is stopped by its process group at the end of its test.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.local_servers import free_port, multipart_body, start_make_run, stop_server
from support import digit_pngs
from support.versions import MODEL_DIR, publish_network_as
from webapp.store.drawings import Store
from webapp.store.versions import ModelVersions

HOST = "127.0.0.1"
STARTUP_SECONDS = 60
ANSWER_SECONDS = 10   # a bound for "answered at all", not a speed target (those are in benchmarks/)


@contextmanager
def running_server(tmp_path, **settings):
    port = free_port()
    env = {"DIGITDRAW_DATABASE": str(tmp_path / "drawings.sqlite"), **settings}
    log = tmp_path / f"server-{port}.log"
    server = start_make_run(port, env, log_path=log)
    try:
        wait_until_healthy(port, server, log)
        yield port, log
    finally:
        stop_server(server)


def wait_until_healthy(port: int, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server stopped: {log.read_text()[-2000:]}")
        try:
            status, _ = request(port, "GET", "/api/health")
            if status == 200:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not answer /api/health in time")


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection(HOST, port, timeout=ANSWER_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def predict(port: int, png: bytes):
    return request(port, "POST", "/api/predict", png, {"Content-Type": "image/png"})


def stalled_connections(port: int, mid_headers: int, mid_body: int) -> list[socket.socket]:
    """Connections that send part of a request and then nothing (a phone whose wifi dropped)."""
    stalled = []
    for index in range(mid_headers + mid_body):
        connection = socket.create_connection((HOST, port), timeout=ANSWER_SECONDS)
        if index < mid_headers:
            connection.sendall(b"POST /api/predict HTTP/1.1\r\nHost: digitdraw\r\nContent-Ty")
        else:
            connection.sendall(b"POST /api/predict HTTP/1.1\r\nHost: digitdraw\r\nContent-Type: image/png\r\n"
                               b"Content-Length: 50000\r\n\r\n\x89PNG\r\n")
        stalled.append(connection)
    return stalled


def everything_until_closed(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(4096):
        received += chunk
    return received


def test_stalled_connections_do_not_stop_other_people(tmp_path, seven):
    with running_server(tmp_path) as (port, _):
        stalled = stalled_connections(port, mid_headers=30, mid_body=30)
        try:
            answers = [predict(port, seven) for _ in range(20)]
        finally:
            for connection in stalled:
                connection.close()
    assert [status for status, _ in answers] == [200] * 20
    assert {json.loads(payload)["digit"] for _, payload in answers} == {7}


def test_a_body_that_stops_arriving_gets_408_and_a_silent_header_stall_is_closed(tmp_path):
    """Body deadline 1 s, header deadline 6 s: the 408's connection is closed at once, not after 6 s more."""
    with running_server(tmp_path, DIGITDRAW_BODY_TIMEOUT="1", DIGITDRAW_HEADER_TIMEOUT="6") as (port, _):
        mid_body, = stalled_connections(port, mid_headers=0, mid_body=1)
        started = time.monotonic()
        answer = everything_until_closed(mid_body)
        closed_after = time.monotonic() - started
        mid_headers, = stalled_connections(port, mid_headers=1, mid_body=0)
        closed = everything_until_closed(mid_headers)
        mid_body.close()
        mid_headers.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert "did not arrive within 1 s" in json.loads(body)["error"]
    assert closed_after < 5   # the header deadline would have held it until about 7 s
    assert closed == b""


def test_start_up_says_where_to_open_the_app(tmp_path):
    with running_server(tmp_path) as (port, log):
        pass
    assert f"Open http://127.0.0.1:{port}/ on this computer" in log.read_text()


def test_start_up_is_quiet_and_names_the_public_address_the_qr_code_shows(tmp_path):
    """With DIGITDRAW_PUBLIC_URL set the start-up lines send students there (the join QR code's address), not to
    this computer's own; and no worker starts with a traceback (gevent's KeyError for threads started before
    the fork)."""
    public = "https://draw.school.example/class-3/"
    with running_server(tmp_path, WORKERS="2", DIGITDRAW_PUBLIC_URL=public) as (port, log):
        time.sleep(0.5)   # both workers booted and past their first turn of the loop
    output = log.read_text()
    assert "Traceback" not in output and "KeyError" not in output, output
    assert f"Students open {public} (DIGITDRAW_PUBLIC_URL)" in output
    assert f"http://127.0.0.1:{port}/ on this computer" not in output


def test_two_instances_on_one_host_both_serve(tmp_path, seven):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_server(tmp_path / "a") as (first, _), running_server(tmp_path / "b") as (second, _):
        assert predict(first, seven)[0] == 200
        assert predict(second, seven)[0] == 200


@pytest.mark.parametrize("variable, value, expected", [
    ("DIGITDRAW_MAX_CONTENT_LENGTH", "8MB", "a whole number"),
    ("DIGITDRAW_TEACHER_TOKEN", "1e3", "at least 16 characters"),
])
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path, variable, value, expected):
    port = free_port()
    log = tmp_path / "server.log"
    server = start_make_run(port, {variable: value, "DIGITDRAW_DATABASE": str(tmp_path / "d.sqlite")}, log_path=log)
    try:
        server.wait(timeout=STARTUP_SECONDS)
    finally:
        stop_server(server)
    assert server.returncode != 0
    problems = [line for line in log.read_text().splitlines() if variable in line]
    assert len(problems) == 1 and expected in problems[0]
    assert "Traceback" not in log.read_text()


def post_feedback(port: int, png: bytes, label: str):
    body, content_type = multipart_body(png, label=label)
    return request(port, "POST", "/api/feedback", body, {"Content-Type": content_type})


def test_a_backup_restored_with_sqlite_gets_every_workers_writes(tmp_path, mnist):
    """Two workers; a backup is restored into the live file with SQLite's `.restore` (the README's way); the
    next writes all land in it, intact, on both workers."""
    import sqlite3

    database = tmp_path / "drawings.sqlite"
    with running_server(tmp_path, WORKERS="2", DIGITDRAW_RATELIMIT_ENABLED="false") as (port, _):
        sevens, ones = digit_pngs(mnist, 7, 10), digit_pngs(mnist, 1, 20)
        assert all(post_feedback(port, seven, "7")[0] == 201 for seven in sevens[:6])
        backup = tmp_path / "backup.sqlite"
        copy_with_sqlite(database, backup)   # `sqlite3 drawings.sqlite ".backup backup.sqlite"`
        assert all(post_feedback(port, seven, "7")[0] == 201 for seven in sevens[6:])   # not in the backup
        copy_with_sqlite(backup, database)   # `sqlite3 drawings.sqlite ".restore backup.sqlite"`
        after = [post_feedback(port, one, "1")[0] for one in ones]
        health = json.loads(request(port, "GET", "/api/health")[1])
    assert after == [201] * 20
    with sqlite3.connect(database) as restored:
        assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        labels = [label for (label,) in restored.execute("SELECT label FROM drawings ORDER BY id")]
    assert labels == [7] * 6 + [1] * 20
    assert health["store"]["rows"] == 26


def copy_with_sqlite(source: Path, target: Path) -> None:
    """What the sqlite3 shell's .backup and .restore do: SQLite's online backup, under its locks."""
    import sqlite3

    with sqlite3.connect(source) as origin, sqlite3.connect(target) as destination:
        origin.backup(destination)
    origin.close()
    destination.close()


def test_on_every_interface_the_start_up_lines_name_each_network_address():
    from webapp import addresses as server  # webapp.server itself is gunicorn's: importing it patches with gevent
    addresses = server.network_addresses()
    assert all(not address.startswith("127.") for address in addresses)
    lines = server.addresses_to_open("0.0.0.0", 8000)
    if addresses:
        assert lines[0] == "Students on this network can open: " + "  ".join(
            f"http://{address}:8000/" for address in addresses)
        assert "press Presenter (or Join) for its QR code" in lines[1]
    else:
        assert "no network address other than 127.0.0.1" in lines[0]


@pytest.mark.parametrize("host, listening", [("0.0.0.0", "every network interface, port 8000"),
                                              ("127.0.0.1", "127.0.0.1:8000")])
def test_with_a_public_address_the_start_up_lines_send_students_there_only(host, listening):
    from webapp.addresses import addresses_to_open, network_addresses
    lines = addresses_to_open(host, 8000, "https://draw.school.example/class-3/")
    assert lines[0].startswith("Students open https://draw.school.example/class-3/ (DIGITDRAW_PUBLIC_URL)")
    assert f"This server listens on {listening}" in lines[1]
    assert not any(address in " ".join(lines) for address in network_addresses())


def test_a_running_server_follows_a_publish_and_a_roll_back_with_every_request_answered(tmp_path, seven):
    """Every worker of `make run` serves a newly published version, then a rolled-back one, without a restart;
    predictions sent all along are all answered."""
    token = "teacher-token-for-the-server-test"
    database = tmp_path / "drawings.sqlite"
    store = Store(database)
    ModelVersions(store).register_folder(MODEL_DIR, ["mlp"])   # version 1: the shipped file
    with running_server(tmp_path, DIGITDRAW_MODEL_RELOAD_SECONDS="0.5", DIGITDRAW_TEACHER_TOKEN=token,
                        DIGITDRAW_RATELIMIT_ENABLED="false") as (port, _):
        statuses, stop = [], threading.Event()

        def keep_predicting():
            while not stop.is_set():
                statuses.append(request(port, "POST", "/api/predict?model=mlp", seven,
                                        {"Content-Type": "image/png"})[0])

        senders = [threading.Thread(target=keep_predicting) for _ in range(3)]
        for sender in senders:
            sender.start()
        try:
            published = publish_network_as(store, "mlp", "mlp-wide")
            wait_until_every_answer_says(port, "mlp", published.number)
            first = ModelVersions(store).of_model("mlp")[-1]
            status, body = request(port, "POST", f"/api/models/mlp/versions/{first.id}/serve", b"",
                                   {"Authorization": f"Bearer {token}"})
            assert status == 200, body
            wait_until_every_answer_says(port, "mlp", 1)
        finally:
            stop.set()
            for sender in senders:
                sender.join(timeout=ANSWER_SECONDS)
    assert len(statuses) > 20 and set(statuses) == {200}


def wait_until_every_answer_says(port: int, model: str, number: int, in_a_row: int = 12) -> None:
    """New connections land on any worker: `in_a_row` answers in a row name the version."""
    deadline, seen = time.monotonic() + 20, 0
    while time.monotonic() < deadline and seen < in_a_row:
        listed = {entry["name"]: entry["version"] for entry in json.loads(request(port, "GET", "/api/models")[1])}
        seen = seen + 1 if listed[model]["number"] == number else 0
        time.sleep(0.05)
    assert seen >= in_a_row, f"{model} version {number} was not served by every worker within 20 s"


def test_a_worker_waiting_on_postgresql_goes_on_answering_predictions(tmp_path, postgres_database, seven, mnist):
    """One gevent worker of `make run` on PostgreSQL: while a drawing waits for the writers' lock (held here,
    as another instance publishing a model version would hold it), predictions on that same worker are
    answered at once, and the drawing is kept when the lock is free. A blocking database driver would stop
    the whole worker until then."""
    import psycopg

    from webapp.store.database import WRITERS_LOCK

    url = postgres_database()
    first, second = (multipart_body(png, label="7") for png in digit_pngs(mnist, 7, 2))
    with running_server(tmp_path, DIGITDRAW_DATABASE=url, WORKERS="1", DIGITDRAW_RATELIMIT_ENABLED="false") as (
            port, _):
        assert request(port, "POST", "/api/feedback", first[0], {"Content-Type": first[1]})[0] == 201
        with psycopg.connect(url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (WRITERS_LOCK,))
            waiting: list[int] = []
            drawing = threading.Thread(target=lambda: waiting.append(
                request(port, "POST", "/api/feedback", second[0], {"Content-Type": second[1]})[0]))
            drawing.start()
            time.sleep(0.5)   # the drawing is now waiting for the lock inside the worker
            started = time.monotonic()
            assert predict(port, seven)[0] == 200
            answered_in = time.monotonic() - started
            assert drawing.is_alive(), "the drawing did not wait for the lock"
            holder.execute("SELECT pg_advisory_unlock(%s)", (WRITERS_LOCK,))
        drawing.join(timeout=ANSWER_SECONDS)
    assert answered_in < 2.0   # not a speed target: with a blocked worker it waits for the lock (seconds)
    assert waiting == [201]


def test_a_responses_headers_leave_with_its_body_in_one_write():
    """So that a worker killed mid-answer leaves nginx nothing (it retries elsewhere) rather than a 200 without its
    body: the headers wait for the first piece of body; a whole answer, and headers with no body, still go."""
    from webapp.whole_responses import HeadersWithTheirBody

    server_side, client_side = socket.socketpair()
    client_side.setblocking(False)
    wrapped = HeadersWithTheirBody(server_side)

    def received() -> bytes:
        try:
            return client_side.recv(4096)
        except BlockingIOError:
            return b""

    headers = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    wrapped.sendall(headers)
    assert received() == b""   # held
    wrapped.sendall(b"ok")
    assert received() == headers + b"ok"
    wrapped.end_of_response()
    wrapped.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")   # no body follows
    assert received() == b""
    wrapped.end_of_response()
    assert received() == b"HTTP/1.1 204 No Content\r\n\r\n"
    wrapped.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad")   # gunicorn's own error: at once
    assert received().endswith(b"bad")
    server_side.close()
    client_side.close()
