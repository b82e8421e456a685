"""Fine-tuning runs started from the teacher's page: one at a time, their progress and result in the store.

The run itself is a separate process at low priority (`flask finetune --job ID`, started by
webapp/http/versions.py), never a web worker; it writes each progress line and its result here, so whichever
worker or instance the teacher's page asks can answer, and a heartbeat every HEARTBEAT_SECONDS while it lives.
A run whose process has died (no heartbeat for STALE_SECONDS, or its pid gone on this host) is marked failed,
so a new one may start; a run marked failed or superseded never publishes (`superseded`).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import text

from webapp.store.drawings import Store
from webapp.store.refusals import StoreRefused

HEARTBEAT_SECONDS = 15.0
STALE_SECONDS = 90.0
PROGRESS_LINES = 40


class JobRunning(Exception):
    """Another fine-tuning run is under way."""


@dataclass(frozen=True)
class Job:
    id: int
    model: str
    state: str
    started: str
    progress: list[str]
    result: dict | None

    def as_json(self) -> dict:
        return {"id": self.id, "model": self.model, "state": self.state, "started": self.started,
                "progress": self.progress, "result": self.result}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FinetuneJobs:
    def __init__(self, store: Store):
        self.store = store

    def start(self, model: str) -> int:
        """A new running job, or JobRunning when a live one exists."""
        def insert(connection) -> int:
            mark_dead_runs_failed(connection)
            running = connection.execute(text("SELECT id FROM finetune_jobs WHERE state = 'running'")).fetchone()
            if running:
                raise JobRunning(f"Fine-tuning run {running[0]} is still under way; wait for it to finish.")
            return connection.execute(text(
                "INSERT INTO finetune_jobs (model, state, started, updated)"
                " VALUES (:model, 'running', :started, :now) RETURNING id"),
                {"model": model, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "now": time.time()}).scalar_one()

        return self.store.transaction(insert)

    def attach(self, job_id: int) -> None:
        """The run's own process says where it runs (so a dead one can be told from a slow one)."""
        self.store.transaction(lambda connection: connection.execute(text(
            "UPDATE finetune_jobs SET host = :host, pid = :pid, updated = :now WHERE id = :id"),
            {"host": socket.gethostname(), "pid": os.getpid(), "now": time.time(), "id": job_id}))

    def heartbeat(self, job_id: int, stop: threading.Event) -> threading.Thread:
        """A thread of the run's process that says it is alive until `stop` is set."""
        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    self.store.transaction(lambda connection: connection.execute(text(
                        "UPDATE finetune_jobs SET updated = :now WHERE id = :id AND state = 'running'"),
                        {"now": time.time(), "id": job_id}))
                except StoreRefused:
                    pass   # the next beat tries again
        thread = threading.Thread(target=beat, name="finetune-heartbeat", daemon=True)
        thread.start()
        return thread

    def report(self, job_id: int, line: str) -> None:
        """Add one progress line (the last PROGRESS_LINES are kept)."""
        def append(connection) -> None:
            row = connection.execute(text("SELECT progress FROM finetune_jobs WHERE id = :id"),
                                     {"id": job_id}).fetchone()
            lines = (row[0].splitlines() if row and row[0] else []) + [line]
            connection.execute(text("UPDATE finetune_jobs SET progress = :progress, updated = :now WHERE id = :id"),
                               {"progress": "\n".join(lines[-PROGRESS_LINES:]), "now": time.time(), "id": job_id})

        self.store.transaction(append)

    def superseded(self, job_id: int) -> str | None:
        """Why this run must not publish (it was marked failed, e.g. taken for dead), or None."""
        rows = self.store.read("SELECT state FROM finetune_jobs WHERE id = :id", {"id": job_id})
        if rows and rows[0][0] == "running":
            return None
        return "This run was given up for dead while it ran (no heartbeat), so it does not publish."

    def finish(self, job_id: int, state: str, result: dict) -> None:
        """The run's end; a run already marked failed stays failed."""
        self.store.transaction(lambda connection: connection.execute(text(
            "UPDATE finetune_jobs SET state = :state, result = :result, updated = :now"
            " WHERE id = :id AND state = 'running'"),
            {"state": state, "result": json.dumps(result), "now": time.time(), "id": job_id}))

    def latest(self) -> Job | None:
        def read(connection):
            mark_dead_runs_failed(connection)
            return connection.execute(text("SELECT id, model, state, started, progress, result FROM finetune_jobs"
                                           " ORDER BY id DESC LIMIT 1")).fetchone()

        row = self.store.transaction(read)
        if row is None:
            return None
        job_id, model, state, started, progress, result = row
        return Job(job_id, model, state, started, progress.splitlines() if progress else [],
                   json.loads(result) if result else None)


def mark_dead_runs_failed(connection) -> None:
    """Runs whose process is gone: no heartbeat for STALE_SECONDS, or a pid that no longer lives on this host."""
    host = socket.gethostname()
    for job_id, updated, job_host, pid in connection.execute(text(
            "SELECT id, updated, host, pid FROM finetune_jobs WHERE state = 'running'")).fetchall():
        gone = time.time() - updated > STALE_SECONDS or (job_host == host and pid and not process_alive(pid))
        if gone:
            connection.execute(text("UPDATE finetune_jobs SET state = 'failed', result = :result WHERE id = :id"), {
                "result": json.dumps({"published": False, "reason": "The fine-tuning process stopped before it "
                                      "finished (it was killed, or the machine ran out of memory)."}),
                "id": job_id})
