"""Rounds live across processes: a real gunicorn with two workers (a drawing sent to one worker reaches a wall
held by the other, which worker holds which connection read from /proc), and two app instances on one real
PostgreSQL (a drawing sent through one reaches a wall on the other); a wall that reconnects with Last-Event-ID
gets every drawing once."""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path

import numpy as np

from deploy.local_servers import multipart_body
from support import TEACHER_TOKEN, canvas_png, make_app, post_image
from test_server import HOST, running_server

TEACHER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}
WAIT_SECONDS = 10


def server_pids(port: int) -> set[int]:
    """The processes holding a socket listening on `port` (gunicorn's master and its workers)."""
    listening = tcp_inode(port, None)
    return {int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and listening in sockets_of(int(entry.name))}


def sockets_of(pid: int) -> set[str]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(target[8:-1])
    except OSError:
        pass
    return found


def tcp_inode(local_port: int, remote_port: int | None) -> str | None:
    """The inode of the TCP socket on 127.0.0.1:`local_port` whose peer is on `remote_port` (None: listening)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) != local_port:
            continue
        if remote_port is None and remote.endswith(":0000") or (
                remote_port is not None and int(remote.split(":")[1], 16) == remote_port):
            return inode
    return None


def worker_of(connection: http.client.HTTPConnection, port: int) -> int:
    """Which worker holds the server's end of this (connected, already answered once) connection. Read afresh
    each time: a worker may have booted after the server first answered."""
    inode = tcp_inode(port, connection.sock.getsockname()[1])
    holders = [pid for pid in server_pids(port) if inode in sockets_of(pid)]
    assert len(holders) == 1, (inode, holders)
    return holders[0]


class Wall:
    """A wall's event stream over a raw connection, read as events arrive."""

    def __init__(self, port: int, round_id: int, last_id: int | None = None):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=WAIT_SECONDS)
        headers = {**TEACHER, **({"Last-Event-ID": str(last_id)} if last_id is not None else {})}
        self.connection.request("GET", f"/api/rounds/{round_id}/events", headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200 and self.response.getheader("Content-Type").startswith("text/event-stream")
        self.drawings: list[int] = []

    def read_until(self, count: int) -> list[int]:
        deadline = time.monotonic() + WAIT_SECONDS
        block: dict[str, str] = {}
        while len(self.drawings) < count and time.monotonic() < deadline:
            line = self.response.readline().decode().rstrip("\r\n")
            if line == "":
                if block.get("event") == "drawing":
                    assert int(block["id"]) == json.loads(block["data"])["id"]
                    self.drawings.append(int(block["id"]))
                block = {}
            elif ": " in line and not line.startswith(":"):
                name, value = line.split(": ", 1)
                block[name] = value
        return self.drawings

    def close(self):
        self.connection.close()


def fours(mnist, count: int) -> list[bytes]:
    return [canvas_png(mnist.x_test[index]) for index in np.flatnonzero(mnist.y_test == 4)[:count]]


def test_with_two_gunicorn_workers_a_drawing_sent_to_one_reaches_a_wall_on_the_other(tmp_path, mnist):
    with running_server(tmp_path, WORKERS="2", DIGITDRAW_TEACHER_TOKEN=TEACHER_TOKEN,
                        DIGITDRAW_RATELIMIT_ENABLED="false") as (port, log):
        connection = http.client.HTTPConnection(HOST, port, timeout=WAIT_SECONDS)
        connection.request("POST", "/api/rounds", body=json.dumps({"kind": "digit", "digit": 4}),
                           headers={**TEACHER, "Content-Type": "application/json"})
        started = connection.getresponse()
        round_id = json.loads(started.read())["id"]
        assert started.status == 201
        walls, holders = [], set()
        while len(holders) < 2 and len(walls) < 12:   # walls until both workers hold one
            wall = Wall(port, round_id)
            wall.read_until(0)
            walls.append(wall)
            holders.add(worker_of(wall.connection, port))
        assert len(holders) == 2, "two workers each hold a wall"
        sent, senders = [], set()
        for png in fours(mnist, 6):
            sender = http.client.HTTPConnection(HOST, port, timeout=WAIT_SECONDS)
            sender.request("GET", "/api/health")
            sender.getresponse().read()
            senders.add(worker_of(sender, port))
            body, content_type = multipart_body(png)
            sender.request("POST", f"/api/rounds/{round_id}/drawings", body=body,
                           headers={"Content-Type": content_type})
            answer = sender.getresponse()
            sent.append(json.loads(answer.read())["id"])
            assert answer.status == 201
            sender.close()
        for wall in walls:
            assert wall.read_until(len(sent)) == sent   # every drawing, once, in order, on every wall
            wall.close()
        assert senders & holders, "drawings were sent to a worker while the other held a wall"


def test_two_instances_on_postgresql_share_a_round_and_a_wall_resumes_after_its_last_event(
        postgres_database, mnist):
    url = postgres_database("rounds")
    first, second = (make_app(url).test_client() for _ in range(2))
    round_id = first.post("/api/rounds", json={"kind": "digit", "digit": 4}, headers=TEACHER).get_json()["id"]
    assert second.get("/api/rounds/current").get_json()["id"] == round_id
    assert second.post("/api/rounds", json={"kind": "any"}, headers=TEACHER).status_code == 409
    pngs = fours(mnist, 4)
    sent = [post_image(first, png, f"/api/rounds/{round_id}/drawings").get_json()["id"] for png in pngs[:3]]
    stream = second.get(f"/api/rounds/{round_id}/events", headers=TEACHER, buffered=False)
    received = drawing_ids(stream, 3)
    assert received == sent
    sent.append(post_image(first, pngs[3], f"/api/rounds/{round_id}/drawings").get_json()["id"])
    resumed = second.get(f"/api/rounds/{round_id}/events", headers={**TEACHER, "Last-Event-ID": str(received[-1])},
                         buffered=False)
    assert drawing_ids(resumed, 1) == sent[3:]   # after its last event: nothing lost, nothing twice


def drawing_ids(response, count: int) -> list[int]:
    found, text = [], ""
    chunks = iter(response.response)
    deadline = time.monotonic() + WAIT_SECONDS
    while len(found) < count and time.monotonic() < deadline:
        text += next(chunks).decode()
        while "\n\n" in text:
            block, text = text.split("\n\n", 1)
            if "event: drawing" in block:
                found.append(int(block.split("id: ", 1)[1].split("\n", 1)[0]))
    response.close()
    return found

