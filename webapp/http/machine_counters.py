"""Rate-limit counters in a small SQLite file, shared by every process of one machine that opens it.

`make run` serves with two gunicorn workers; counters in each worker's memory let a client through twice
as often as the documented limit (10 of 20 simultaneous sign-ins passed where 5 a second is the limit).
Redis shares counters across machines, but a laptop in a classroom should not need a Redis server for its
limits to mean what they say. This is a storage for the `limits` library (the one Flask-Limiter counts
with), registered under the `file` scheme:

    file:///srv/digitdraw/ratelimits.sqlite    counters in that file
    file://                                    the default: beside the drawings store when it is a SQLite
                                               file, else in a private folder of the system's temp folder
                                               named after the store (one per store and machine)

It keeps the moving window the app limits with: one row per request let through, with when it came and
when it stops counting. Taking an entry is one write transaction (`BEGIN IMMEDIATE`, so the two workers
take turns): count the key's entries inside the window, refuse when the limit is reached, else add one.
A request the window already refuses is answered from a read (WAL: it never waits for the write lock), so
a flood costs one indexed count per request. Each key's old rows are deleted when it takes an entry, and
every few hundred writes the rows of clients that went quiet, so the file holds at most the entries let
through in the longest window. The file is a cache: `synchronous=OFF`
(losing the last counts in a power cut is harmless) and WAL, so reading never waits for a writer.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from limits.storage import MovingWindowSupport, Storage

from webapp.store.database import create_private_file, is_server_url

SCHEME = "file"
FILE_NAME = "ratelimits.sqlite"
BUSY_TIMEOUT_MS = 2000          # the other worker's write takes microseconds; a longer wait means trouble
SWEEP_EVERY = 500               # writes between deletions of every expired row (quiet clients' ones)

SCHEMA = """
CREATE TABLE IF NOT EXISTS window_entries (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS window_entries_by_key ON window_entries (key, at);
CREATE INDEX IF NOT EXISTS window_entries_by_end ON window_entries (expires);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL);
"""


def default_path(database: str) -> Path:
    """Where `file://` keeps the counters for the drawings store `database` (a SQLite path or a URL)."""
    if not is_server_url(database):
        return Path(database.removeprefix("sqlite://")).resolve().parent / FILE_NAME
    folder = Path(tempfile.gettempdir()) / f"digitdraw-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    name = hashlib.sha256(database.encode()).hexdigest()[:16]   # never the URL itself: it may hold a password
    return folder / f"ratelimits-{name}.sqlite"


def uri_for(path: Path) -> str:
    return f"{SCHEME}://{path.resolve()}"


class MachineCounters(Storage, MovingWindowSupport):
    """A `limits` storage in one SQLite file (see the module's note); each process opens its own connection."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        path = uri[len(f"{SCHEME}://"):]
        if not path.startswith("/"):
            raise ValueError(f"{SCHEME}:// needs an absolute path (file:///folder/{FILE_NAME}), got {uri!r}")
        self.path = path
        self.lock = threading.Lock()
        self.connection: sqlite3.Connection | None = None
        self.owner_pid = 0
        self.writes = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error, OSError

    def connect(self) -> sqlite3.Connection:
        """This process's connection: a forked worker never uses its parent's."""
        if self.connection is None or self.owner_pid != os.getpid():
            create_private_file(Path(self.path))   # counters name clients' addresses: the owner's only
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.executescript(SCHEMA)
            self.connection, self.owner_pid = connection, os.getpid()
        return self.connection

    def write(self, work):
        """Run `work(connection, now)` in one write transaction, taken in turn with the other processes."""
        with self.lock:
            connection = self.connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                result = work(connection, now)
                self.writes += 1
                if self.writes % SWEEP_EVERY == 0:
                    connection.execute("DELETE FROM window_entries WHERE expires <= ?", (now,))
                    connection.execute("DELETE FROM counters WHERE expires <= ?", (now,))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return result

    def read(self, sql: str, parameters: tuple):
        with self.lock:
            return self.connect().execute(sql, parameters).fetchone()

    # The moving window (the strategy the app uses)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit or self.taken(key, expiry) + amount > limit:
            return False   # a refusal only reads: a flood of refused requests never waits for the write lock

        def take(connection: sqlite3.Connection, now: float) -> bool:
            connection.execute("DELETE FROM window_entries WHERE key = ? AND at <= ?", (key, now - expiry))
            (taken,) = connection.execute("SELECT count(*) FROM window_entries WHERE key = ?", (key,)).fetchone()
            if taken + amount > limit:
                return False
            connection.executemany("INSERT INTO window_entries (key, at, expires) VALUES (?, ?, ?)",
                                   [(key, now, now + expiry)] * amount)
            return True

        return self.write(take)

    def taken(self, key: str, expiry: int) -> int:
        return self.read("SELECT count(*) FROM window_entries WHERE key = ? AND at > ?", (key, time.time() - expiry))[0]

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, taken = self.read("SELECT min(at), count(*) FROM window_entries WHERE key = ? AND at > ?",
                                  (key, now - expiry))
        return (oldest, taken) if taken else (now, 0)

    # Fixed-window counters (the `limits` interface every storage has; the app's strategy does not use them)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        def add(connection: sqlite3.Connection, now: float) -> int:
            connection.execute("DELETE FROM counters WHERE key = ? AND expires <= ?", (key, now))
            (count,) = connection.execute(
                "INSERT INTO counters (key, count, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = count + excluded.count RETURNING count",
                (key, amount, now + expiry)).fetchone()
            return count

        return self.write(add)

    def get(self, key: str) -> int:
        row = self.read("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self.read("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self.read("SELECT 1", ())
        except (sqlite3.Error, OSError):
            return False
        return True

    def reset(self) -> int | None:
        def empty(connection: sqlite3.Connection, now: float) -> int:
            removed = connection.execute("DELETE FROM window_entries").rowcount
            return removed + connection.execute("DELETE FROM counters").rowcount

        return self.write(empty)

    def clear(self, key: str) -> None:
        def forget(connection: sqlite3.Connection, now: float) -> None:
            connection.execute("DELETE FROM window_entries WHERE key = ?", (key,))
            connection.execute("DELETE FROM counters WHERE key = ?", (key,))

        self.write(forget)
