"""Fine-tuning runs started from the teacher's page: one at a time, their progress and result in the store.

The run itself is a separate process at low priority (`flask finetune --job ID`, started by
webapp/http/finetune.py), never a web worker; it writes each progress line and its result here, so whichever
worker or instance the teacher's page asks can answer. A run that has written nothing for STALE_SECONDS is
taken as dead (its process was killed), so a new one may start.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from webapp.feedback.store import FeedbackStore

STALE_SECONDS = 300.0
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
    stale: bool

    def as_json(self) -> dict:
        state = "failed" if self.stale and self.state == "running" else self.state
        return {"id": self.id, "model": self.model, "state": state, "started": self.started,
                "progress": self.progress, "result": self.result}


class FinetuneJobs:
    def __init__(self, store: FeedbackStore):
        self.store = store

    def start(self, model: str) -> int:
        """A new running job, or JobRunning when a live one exists."""
        def insert(connection: sqlite3.Connection) -> int:
            running = connection.execute("SELECT id FROM finetune_jobs WHERE state = 'running' AND updated > ?",
                                         (time.time() - STALE_SECONDS,)).fetchone()
            if running:
                raise JobRunning(f"Fine-tuning run {running[0]} is still under way; wait for it to finish.")
            connection.execute("UPDATE finetune_jobs SET state = 'failed' WHERE state = 'running'")
            return connection.execute(
                "INSERT INTO finetune_jobs (model, state, started, updated) VALUES (?, 'running', ?, ?)",
                (model, datetime.now(timezone.utc).isoformat(timespec="seconds"), time.time())).lastrowid

        return self.store.transaction(insert)

    def report(self, job_id: int, line: str) -> None:
        """Add one progress line (the last PROGRESS_LINES are kept)."""
        def append(connection: sqlite3.Connection) -> None:
            row = connection.execute("SELECT progress FROM finetune_jobs WHERE id = ?", (job_id,)).fetchone()
            lines = (row[0].splitlines() if row and row[0] else []) + [line]
            connection.execute("UPDATE finetune_jobs SET progress = ?, updated = ? WHERE id = ?",
                               ("\n".join(lines[-PROGRESS_LINES:]), time.time(), job_id))

        self.store.transaction(append)

    def finish(self, job_id: int, state: str, result: dict) -> None:
        self.store.transaction(lambda connection: connection.execute(
            "UPDATE finetune_jobs SET state = ?, result = ?, updated = ? WHERE id = ?",
            (state, json.dumps(result), time.time(), job_id)))

    def latest(self) -> Job | None:
        rows = self.store.read("SELECT id, model, state, started, updated, progress, result FROM finetune_jobs"
                               " ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        job_id, model, state, started, updated, progress, result = rows[0]
        return Job(job_id, model, state, started, progress.splitlines() if progress else [],
                   json.loads(result) if result else None, stale=time.time() - updated > STALE_SECONDS)
