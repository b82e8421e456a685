"""Open connections to one SQLite file, kept for reuse and following the file when it is replaced.

Connections stay open because closing the last one on a WAL file checkpoints the
file and deletes the WAL: a disk sync on every call. Each borrow compares the
path's (st_dev, st_ino) with the file the pooled connections opened, so when
someone restores a backup with `mv` (or deletes the file) every worker process
notices at its next call and moves to the new file instead of writing on into
the old inode while other workers use the new one.

SQLite finds a file's `-wal` and `-shm` by name, so the new file inherits the old
one's. The first worker to notice the swap empties the old WAL (a TRUNCATE
checkpoint) before anything opens the new file, which would otherwise read the
old file's pages from it; a marker file beside the database tells the workers
that notice later not to checkpoint again, since the WAL then holds the new
file's commits. Old connections are parked, never closed: closing the last one
would checkpoint that shared WAL into the old inode and delete it by name. A
few idle descriptors per restore are the price; `sqlite3 drawings.sqlite
".restore backup.sqlite"` restores without any of this and is the better way.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

BUSY_TIMEOUT_SECONDS = 10.0
PAGE_SIZE_GUESS = 4096          # SQLite's default page size, to turn the WAL limit into pages
DEFAULT_CHECKPOINT_PAGES = 1000  # SQLite's own default: checkpoint when the WAL holds this many pages

FileIdentity = tuple[int, int] | None


def identity_of(path: Path) -> FileIdentity:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


class ConnectionPool:
    """Connections in autocommit mode (transactions are begun explicitly), one borrower at a time each.

    `prepare(connection)` runs once per file, before its first borrower gets a connection:
    the file may be new, or a restored backup with an older schema. `wal_limit` (bytes,
    None for SQLite's defaults) bounds the WAL.
    """

    def __init__(self, path: Path, wal_limit: int | None, prepare: Callable[[sqlite3.Connection], None]):
        self.path = path
        self.wal_limit = wal_limit
        self._prepare = prepare
        self._lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._parked: list[sqlite3.Connection] = []   # connections to files that were replaced
        self._file: FileIdentity = None   # the file the pooled connections have open
        self._generation = 0              # bumped whenever the pooled file is given up
        self._prepared = -1               # the generation `prepare` last ran for
        self._pid = os.getpid()

    @contextmanager
    def connection(self):
        """An idle connection to the file now at the path, or a new one; pooled again afterwards."""
        connection, generation = self._checkout()
        try:
            self._prepare_once(connection, generation)
            yield connection
        finally:
            with self._lock:
                if generation == self._generation:
                    self._idle.append(connection)
                else:
                    self._parked.append(connection)

    def _checkout(self) -> tuple[sqlite3.Connection, int]:
        current = identity_of(self.path)
        with self._lock:
            if self._pid != os.getpid():   # a forked worker must not touch its parent's connections
                self._idle, self._parked, self._file, self._prepared = [], [], None, -1
                self._pid = os.getpid()
            if current != self._file and self._file is not None:
                self._retire()
            if self._idle:
                return self._idle.pop(), self._generation
            generation = self._generation
        connection = self._open()
        with self._lock:
            if self._file is None and generation == self._generation:
                self._file = identity_of(self.path)
        return connection, generation

    def _retire(self) -> None:
        """Give up the file that was at the path (the caller holds the lock); see the module's notes."""
        old_file, idle = self._file, self._idle
        self._idle, self._file = [], None
        self._generation += 1
        self._parked.extend(idle)
        with open(f"{self.path}-replaced", "a+") as marker:
            fcntl.flock(marker, fcntl.LOCK_EX)   # workers that notice at the same time take turns
            marker.seek(0)
            if marker.read() != f"{old_file}" and idle:
                try:
                    idle[0].execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass   # a WAL that cannot be checkpointed cannot be emptied either
                marker.truncate(0)
                marker.write(f"{old_file}")

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                     check_same_thread=False)
        connection.execute("PRAGMA synchronous=NORMAL")
        # The WAL is truncated back to the limit after each checkpoint, and checkpoints
        # come often enough that it does not outgrow the limit in between.
        if self.wal_limit is not None:
            checkpoint_pages = max(1, min(DEFAULT_CHECKPOINT_PAGES, self.wal_limit // PAGE_SIZE_GUESS // 2))
            connection.execute(f"PRAGMA journal_size_limit={int(self.wal_limit)}")
            connection.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
        return connection

    def _prepare_once(self, connection: sqlite3.Connection, generation: int) -> None:
        if self._prepared == generation:
            return
        with self._prepare_lock:
            if self._prepared != generation:
                self._prepare(connection)
                self._prepared = generation
