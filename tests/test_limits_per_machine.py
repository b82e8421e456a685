"""Limits that mean what the README says without Redis: the counters file (webapp/http/machine_counters.py)
shared by processes, by a real gunicorn's two workers, and wrong teacher tokens counted against the sign-in
limit however they are sent (webapp/http/token_guesses.py)."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import stat
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from deploy.local_servers import free_port, start_make_run, stop_server
from support import TEACHER_TOKEN, make_app, post_image
from test_server import HOST, running_server
from webapp.http import machine_counters
from webapp.http.machine_counters import MachineCounters

WRONG = "not-the-teacher-token-at-all"


def counters(path) -> MachineCounters:
    return MachineCounters(machine_counters.uri_for(path))


def take_entries(uri: str, limit: int, tries: int, start, results) -> None:
    """A process taking `tries` entries of one key as fast as it can, from a common start."""
    storage = MachineCounters(uri)
    storage.check()   # connected
    start.wait(timeout=60)
    taken = 0
    for _ in range(tries):
        taken += storage.acquire_entry("client", limit, 60)
        time.sleep(0.0005)   # a request's own work between two of its limits' entries
    results.put(taken)


def test_two_processes_taking_entries_at_once_get_exactly_the_limit_between_them(tmp_path):
    uri = machine_counters.uri_for(tmp_path / "ratelimits.sqlite")
    context = multiprocessing.get_context("spawn")   # fresh interpreters: nothing shared but the file
    results = context.Queue()
    start = context.Barrier(2)
    workers = [context.Process(target=take_entries, args=(uri, 400, 300, start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    taken = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert sum(taken) == 400 and all(taken)   # 600 tries, 400 let through, by both


def test_the_moving_window_lets_entries_in_again_as_the_old_ones_leave_it(tmp_path):
    storage = counters(tmp_path / "ratelimits.sqlite")
    limiter = MovingWindowRateLimiter(storage)
    two_a_second = parse("2 per second")
    assert [limiter.hit(two_a_second, "a") for _ in range(3)] == [True, True, False]
    assert limiter.hit(two_a_second, "b")   # another client counts alone
    start, taken = storage.get_moving_window(two_a_second.key_for("a"), 2, 1)
    assert taken == 2 and time.time() - 1 < start <= time.time()
    time.sleep(1.05)
    assert limiter.test(two_a_second, "a") and limiter.hit(two_a_second, "a")


def test_rows_of_clients_that_went_quiet_are_deleted_and_the_file_is_the_owners_only(tmp_path):
    path = tmp_path / "ratelimits.sqlite"
    storage = counters(path)
    for client in range(machine_counters.SWEEP_EVERY - 1):
        storage.acquire_entry(f"client-{client}", 10, 1)
    time.sleep(1.05)
    storage.acquire_entry("the last client", 10, 60)   # the SWEEP_EVERY-th write deletes the expired rows
    (rows,) = storage.connect().execute("SELECT count(*) FROM window_entries").fetchone()
    assert rows == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert storage.incr("fixed", 60) == 1 and storage.incr("fixed", 60, 2) == 3 and storage.get("fixed") == 3
    storage.clear("fixed")
    assert storage.get("fixed") == 0 and storage.check()


def test_by_default_apps_on_one_store_share_each_clients_limit(tmp_path, seven):
    """Two apps on one SQLite store (as two processes of one machine would be) count each client together."""
    first, second = (make_app(tmp_path / "drawings.sqlite", RATELIMIT_ENABLED=True,
                              RATELIMIT_PREDICT="5 per minute").test_client() for _ in range(2))
    statuses = [post_image(client, seven).status_code for client in (first, second, first, second, first, second)]
    assert statuses == [200, 200, 200, 200, 200, 429]
    assert (tmp_path / machine_counters.FILE_NAME).exists()


def test_a_counters_file_that_cannot_be_written_still_lets_predictions_through(tmp_path, seven):
    """The file's place is a folder nobody can write (a fault caused for real, by its mode): each process
    counts in memory instead, and the prediction is answered."""
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    uri = machine_counters.uri_for(folder / "ratelimits.sqlite")
    client = make_app(tmp_path / "drawings.sqlite", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri,
                      RATELIMIT_PREDICT="2 per minute").test_client()
    if os.access(folder, os.W_OK):   # root writes anywhere: make the path a folder instead of a file
        os.rmdir(folder)
        (folder / "ratelimits.sqlite").mkdir(parents=True)
    assert [post_image(client, seven).status_code for _ in range(3)] == [200, 200, 429]


def test_a_postgresql_store_keeps_its_counters_in_a_private_temp_folder_named_without_the_password():
    url = "postgresql://digitdraw:secret-password@db.example:5432/digitdraw"
    path = machine_counters.default_path(url)
    assert "secret" not in str(path) and path.parent.name == f"digitdraw-{os.getuid()}"
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert machine_counters.default_path(url) == path != machine_counters.default_path(url + "2")


# Wrong teacher tokens, by Bearer, by the form or by an old cookie, count against the sign-in limit.

def csrf_from(html: bytes) -> str:
    return re.search(rb'name="csrf[-_]token" (?:value|content)="([^"]+)"', html).group(1).decode()


def limited_client(tmp_path, **config):
    return make_app(tmp_path / "drawings.sqlite", RATELIMIT_ENABLED=True, **config).test_client()


def bearer_get(client, token: str):
    return client.get("/api/finetune", headers={"Authorization": f"Bearer {token}"})


def test_thirty_wrong_bearer_guesses_meet_429_within_the_sign_in_limit(tmp_path):
    client = limited_client(tmp_path)
    statuses = [bearer_get(client, WRONG).status_code for _ in range(30)]
    assert statuses[:5] == [403] * 5 and set(statuses[5:]) == {429}   # 5 a second, as the sign-in form
    refused = bearer_get(client, WRONG)
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert refused.get_json() == {"error": "Too many wrong teacher tokens from your address: wait a moment "
                                           "before trying again."}


def test_out_of_guesses_even_the_right_token_is_refused_and_another_client_is_not(tmp_path):
    """Else the answer to the next guess (429 or 200) would still tell the right token from wrong ones."""
    client = limited_client(tmp_path, RATELIMIT_FEEDBACK="3 per minute")
    assert [bearer_get(client, WRONG).status_code for _ in range(4)] == [403, 403, 403, 429]
    assert bearer_get(client, TEACHER_TOKEN).status_code == 429
    other = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/api/finetune", headers={"Authorization": f"Bearer {TEACHER_TOKEN}"},
                      environ_base=other).status_code in (200, 204)


def test_the_form_and_bearer_guesses_share_one_count_and_right_tokens_are_not_counted(tmp_path):
    client = limited_client(tmp_path, RATELIMIT_FEEDBACK="4 per minute")
    assert all(bearer_get(client, TEACHER_TOKEN).status_code in (200, 204) for _ in range(10))
    assert [bearer_get(client, WRONG).status_code for _ in range(3)] == [403] * 3
    form = {"token": WRONG, "csrf_token": csrf_from(client.get("/teacher").data), "next": "/teacher"}
    headers = {"Sec-Fetch-Site": "same-origin"}
    assert client.post("/teacher/sign-in", data=form, headers=headers).status_code == 403   # the 4th guess
    refused = client.post("/teacher/sign-in", data={**form, "token": TEACHER_TOKEN}, headers=headers)
    assert refused.status_code == 429 and b"Too many wrong teacher tokens" in refused.data
    assert "Retry-After" in refused.headers


def test_a_cookie_made_for_an_earlier_token_is_a_guess_and_a_signed_out_one_is_not(tmp_path):
    database = tmp_path / "drawings.sqlite"
    old = make_app(database, RATELIMIT_ENABLED=True, RATELIMIT_FEEDBACK="2 per minute",
                   TEACHER_TOKEN="the-token-the-teacher-had-before").test_client()
    form = {"token": "the-token-the-teacher-had-before", "csrf_token": csrf_from(old.get("/teacher").data)}
    assert old.post("/teacher/sign-in", data=form, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303
    cookie = old.get_cookie("digitdraw_teacher")
    new = make_app(database, RATELIMIT_ENABLED=True, RATELIMIT_FEEDBACK="2 per minute").test_client()
    new.set_cookie(cookie.key, cookie.value)
    statuses = [new.get("/api/finetune", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]


# The same through a real gunicorn with two workers, each with its own memory

def concurrently(count: int, send) -> list[int]:
    with ThreadPoolExecutor(count) as pool:
        return sorted(pool.map(lambda _: send(), range(count)))


def send(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie"), response.read()
    finally:
        connection.close()


def test_with_two_gunicorn_workers_the_sixth_sign_in_in_a_second_is_429(tmp_path):
    with running_server(tmp_path, WORKERS="2", DIGITDRAW_TEACHER_TOKEN=TEACHER_TOKEN) as (port, log):
        _, cookie, page = send(port, "GET", "/teacher")
        form = f"token={TEACHER_TOKEN}&next=%2Fteacher&csrf_token={csrf_from(page)}".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin",
                   "Cookie": cookie.split(";")[0]}
        statuses = concurrently(20, lambda: send(port, "POST", "/teacher/sign-in", form, headers)[0])
        assert statuses == [303] * 5 + [429] * 15, log.read_text()[-2000:]


def test_with_two_gunicorn_workers_thirty_wrong_bearer_guesses_meet_429(tmp_path):
    with running_server(tmp_path, WORKERS="2", DIGITDRAW_TEACHER_TOKEN=TEACHER_TOKEN) as (port, _):
        guess = {"Authorization": f"Bearer {WRONG}"}
        statuses = concurrently(30, lambda: send(port, "GET", "/api/finetune", headers=guess)[0])
        assert statuses == [403] * 5 + [429] * 25


@pytest.mark.parametrize("storage", ["memory://"])
def test_with_counters_in_each_workers_memory_the_same_burst_gets_through_more_often(tmp_path, storage):
    """What the counters file is for, shown on the same server: each worker alone lets 5 a second through.
    (Which worker takes a connection is the kernel's choice; 40 at once reach both.)"""
    port = free_port()
    log = tmp_path / "server.log"
    server = start_make_run(port, {"DIGITDRAW_DATABASE": str(tmp_path / "d.sqlite"), "WORKERS": "2",
                                   "DIGITDRAW_TEACHER_TOKEN": TEACHER_TOKEN,
                                   "DIGITDRAW_RATELIMIT_STORAGE_URI": storage}, log_path=log)
    try:
        from test_server import wait_until_healthy

        wait_until_healthy(port, server, log)
        guess = {"Authorization": f"Bearer {WRONG}"}
        answered = []
        for _ in range(3):   # the kernel hands each connection to a worker: a burst may all go to one
            statuses = concurrently(40, lambda: send(port, "GET", "/api/finetune", headers=guess)[0])
            answered.append(statuses.count(403))
            if answered[-1] > 5:
                break
            time.sleep(1.1)   # the next second's 5
    finally:
        stop_server(server)
    assert max(answered) > 5, answered
