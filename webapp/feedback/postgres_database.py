"""The store's database on a PostgreSQL server: one store shared by several instances and machines.

`DIGITDRAW_DATABASE=postgresql://user@host/db` selects it. The store's SQL is the same for both databases
(written with sqlite3's `?` placeholders, which PostgresConnection turns into psycopg's `%s`); what differs
lives here and in sqlite_database.py: connections, transactions, migrations, the quota's size.

- Connections come from psycopg_pool, one pool per process (a forked worker opens its own and never
  touches its parent's sockets), each checked before it is lent, so a restarted server costs no request.
- Every write transaction first takes one advisory lock, as SQLite's `BEGIN IMMEDIATE` takes the file's
  write lock: writers from every instance queue up, so the quota check, the ids handed out and "one
  fine-tuning run at a time" hold across instances exactly as they do in one SQLite file. Writes are a
  millisecond or two; reads never wait for the lock.
- The schema is created and migrated under that same lock, so instances starting at the same moment
  apply each step once; `schema_migrations` records which process applied it.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool, PoolTimeout

from webapp.feedback.refusals import SchemaTooNew, StoreFull, StoreRefused, StoreUnavailable
from webapp.feedback.schema import MIGRATIONS, SCHEMA_VERSION, for_postgresql

WRITERS_LOCK = 0x44696769   # the advisory lock every write transaction takes ("Digi")
POOL_SIZE = 8               # connections per process at most (each gevent worker is one process)
CONNECT_SECONDS = 3
POOL_WAIT_SECONDS = 3       # for a pooled connection: longer means the server is down or swamped
LOCK_WAIT_SECONDS = 10      # for the writers' lock (as SQLite's busy timeout)
STATEMENT_SECONDS = 60

# Every database opened in this process, until close_all: a pool is never left to the garbage collector, which
# would close it from whichever thread it happens to run in (even one of the pool's own).
OPENED: set[PostgresDatabase] = set()


class PostgresConnection:
    """A pooled psycopg connection (autocommit) that takes the store's SQL as written for sqlite3."""

    def __init__(self, connection: psycopg.Connection):
        self.raw = connection

    def execute(self, sql: str, parameters=()) -> psycopg.Cursor:
        return self.raw.execute(placeholders(sql), parameters)

    def executemany(self, sql: str, rows) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(placeholders(sql), list(rows))
        return cursor


@functools.lru_cache(maxsize=1024)
def placeholders(sql: str) -> str:
    """sqlite3's `?` placeholders as psycopg's `%s` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase:
    """One PostgreSQL database, its schema created and migrated on first use by whichever process is first."""

    def __init__(self, url: str):
        self.url = url
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        self._inherited: list[ConnectionPool] = []   # a parent's pools: never closed here (their sockets are its)
        self._prepared_pid = 0
        OPENED.add(self)

    def exists(self) -> bool:
        """The database is the server's: there is always one to read (its tables come on first use)."""
        return True

    @contextmanager
    def connection(self):
        """A pooled connection; the server's failures (or its absence) become StoreRefused sentences.
        A constraint failing is a bug in the caller, not a state of the server: it stays as it is."""
        try:
            with self._this_process_pool().connection(timeout=POOL_WAIT_SECONDS) as connection:
                self._prepare_once(connection)
                yield PostgresConnection(connection)
        except psycopg.IntegrityError:
            raise
        except psycopg.Error as error:
            raise refusal_for(error) from error

    def transaction(self, work):
        """Run `work(connection)` in one transaction holding the writers' lock. Never retried: when the
        connection breaks during COMMIT, nobody knows whether it was kept, and a drawing must not be kept twice
        (the person gets a 503 and may send it again)."""
        with self._write_lock, self.connection() as connection:
            with connection.raw.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(?)", (WRITERS_LOCK,))
                return work(connection)

    @staticmethod
    def used_bytes(connection: PostgresConnection) -> int:
        """What the drawings take, as counted by every write (each kept image plus 1 KiB): PostgreSQL's files
        keep the space of deleted and refused rows for reuse and never shrink, so their size would keep a full
        store full after the teacher deletes drawings."""
        return int(connection.execute("SELECT value FROM drawings_usage WHERE name = 'bytes'").fetchone()[0])

    def write_problem(self) -> str | None:
        """Nothing to find out without the server: a write that fails says why (see refusal_for)."""
        return None

    def _this_process_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                if self._pool is not None:
                    self._inherited.append(self._pool)
                self._pool = ConnectionPool(
                    self.url, min_size=1, max_size=POOL_SIZE, open=False, timeout=POOL_WAIT_SECONDS, num_workers=1,
                    check=ConnectionPool.check_connection, name=f"digitdraw-{os.getpid()}",
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_SECONDS, "application_name": "digitdraw",
                            "options": f"-c lock_timeout={LOCK_WAIT_SECONDS * 1000}"
                                       f" -c statement_timeout={STATEMENT_SECONDS * 1000}"})
                self._pool.open(wait=False)
                self._pool_pid = os.getpid()
            return self._pool

    def _prepare_once(self, connection: psycopg.Connection) -> None:
        if self._prepared_pid == os.getpid():
            return
        with self._lock:
            if self._prepared_pid != os.getpid():
                migrate(connection)
                self._prepared_pid = os.getpid()

    def close(self) -> None:
        """Close this process's pool (tests and commands that open many stores)."""
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None


def close_all() -> None:
    """Close every pool this process opened: for tests and commands that open many stores and go on."""
    while OPENED:
        OPENED.pop().close()


def migrate(connection: psycopg.Connection) -> None:
    """Apply the steps the database has not had yet, all in one transaction under the writers' lock."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITERS_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                           " version INTEGER PRIMARY KEY, applied TEXT NOT NULL, applied_by TEXT NOT NULL)")
        version = connection.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(f"The drawings database has schema version {version}; this Digit Draw "
                               f"knows versions up to {SCHEMA_VERSION}. Update the app to open it.")
        applied = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                connection.execute(for_postgresql(statement))
            connection.execute("INSERT INTO schema_migrations (version, applied, applied_by) VALUES (%s, %s, %s)",
                               (number, applied, f"{socket.gethostname()} pid {os.getpid()}"))


def refusal_for(error: psycopg.Error) -> StoreRefused:
    """The sentence and status for a failed read or write; predictions never depend on the store."""
    if isinstance(error, errors.DiskFull):
        return StoreFull("The database server's disk is full, so the drawing cannot be kept. "
                         "Predictions still work.")
    if isinstance(error, (errors.LockNotAvailable, errors.QueryCanceled)):
        return StoreUnavailable("The drawings store is busy; please try again in a moment.")
    if isinstance(error, errors.ReadOnlySqlTransaction):
        return StoreUnavailable("The drawings database is read-only, so nothing can be kept. Predictions still work.")
    if isinstance(error, (PoolTimeout, psycopg.OperationalError)):
        return StoreUnavailable("The drawings database cannot be reached right now; please try again in a moment. "
                                "Predictions still work.")
    return StoreUnavailable("The drawings store cannot be used on this server right now "
                            f"({error.__class__.__name__}). Predictions still work.")
