"""The store's database as one SQLite file on this machine: the default, for one machine.

Every call borrows a connection from the pool (webapp/feedback/sqlite_pool.py), so no two
threads use one at the same time and worker processes never share one; WAL lets
readers go on while one writer writes; `BEGIN IMMEDIATE` takes the write lock
before anything is read, so two writers queue up (and retry when the wait runs
out) instead of failing half way.

WAL with `synchronous=NORMAL` never corrupts the file and loses nothing when the
app crashes; only a power cut may drop the last commits. FULL would sync the
disk on every commit: 8 ms per drawing here instead of 0.2 ms. SQLite's WAL needs
the file on a local disk: several machines need the PostgreSQL store instead.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from webapp.feedback.refusals import SchemaTooNew, StoreFull, StoreRefused, StoreUnavailable
from webapp.feedback.schema import MIGRATIONS, SCHEMA_VERSION
from webapp.feedback.sqlite_pool import ConnectionPool

WRITE_ATTEMPTS = 5
MIN_FREE_DISK_BYTES = 1024 * 1024   # less free space than this and the next write may fail half way


class SqliteDatabase:
    """One SQLite file, created (with its folder) and migrated on first use."""

    def __init__(self, path: str | Path, wal_limit: int | None = None):
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._pool = ConnectionPool(self.path, wal_limit, prepare=prepare_file)

    def exists(self) -> bool:
        """False until something is first kept: a read-only listing must not create the file."""
        return self.path.exists()

    @contextmanager
    def connection(self):
        """A pooled connection; SQLite's and the file system's failures become StoreRefused sentences.

        A CHECK constraint failing is a bug in the caller, not a state of the disk: it stays as it is.
        """
        try:
            with self._pool.connection() as connection:
                yield connection
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.Error, OSError) as error:
            raise refusal_for(error) from error

    def transaction(self, work):
        """Run `work(connection)` in one write transaction, again from the start while the file is busy.

        Threads of this process wait for each other on a lock: SQLite's own busy wait
        sleeps in steps of milliseconds, which would make them slower than one thread.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            with self._write_lock, self.connection() as connection:
                try:
                    return run_in_transaction(connection, work)
                except sqlite3.OperationalError as error:
                    if not is_busy(error) or attempt == WRITE_ATTEMPTS:
                        raise
            time.sleep(0.05 * attempt)

    @staticmethod
    def used_bytes(connection: sqlite3.Connection) -> int:
        """The pages of the file that hold drawings (free pages left by deletes are reused before it grows)."""
        pages, free, size = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                             for name in ("page_count", "freelist_count", "page_size"))
        # Model versions live in the same file but are not drawings: the quota is the drawings'.
        models = connection.execute("SELECT coalesce(sum(length(content)), 0) FROM model_files").fetchone()[0]
        return max(0, (pages - free) * size - models)

    def write_problem(self) -> str | None:
        """Why a write would fail now, found without writing (the file is never opened outside SQLite:
        closing another descriptor of it would drop SQLite's locks)."""
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
            return "The drawings file is read-only, so no drawing can be kept."
        if not self.path.parent.is_dir():
            return "The folder of the drawings file does not exist and cannot be made."
        if not os.access(self.path.parent, os.W_OK):
            return "The folder of the drawings file is read-only, so no drawing can be kept."
        disk = os.statvfs(self.path.parent)
        if disk.f_bavail * disk.f_frsize < MIN_FREE_DISK_BYTES:
            return "The disk holding the drawings is full, so no drawing can be kept."
        return None


def prepare_file(connection: sqlite3.Connection) -> None:
    """Turn on WAL (stored in the file: once is enough) and create or migrate the schema."""
    connection.execute("PRAGMA journal_mode=WAL")
    run_in_transaction(connection, migrate)


def run_in_transaction(connection: sqlite3.Connection, work):
    """`work(connection)` between BEGIN IMMEDIATE and COMMIT; rolled back if anything fails."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
        connection.execute("COMMIT")
        return result
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def migrate(connection: sqlite3.Connection) -> None:
    """Apply the steps this file has not had yet, inside the caller's transaction (all or nothing)."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(f"The drawings database has schema version {version}; this Digit Draw "
                           f"knows versions up to {SCHEMA_VERSION}. Update the app to open it.")
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in statements:
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {number}")


def is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


def refusal_for(error: sqlite3.Error | OSError) -> StoreRefused:
    """The sentence and status for a failed read or write; predictions never depend on the store."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or getattr(error, "errno", None) == errno.ENOSPC:
        return StoreFull("The server's disk is full, so the drawing cannot be kept. Predictions still work.")
    if isinstance(error, sqlite3.OperationalError) and is_busy(error):
        return StoreUnavailable("The drawings store is busy; please try again in a moment.")
    if name.startswith("SQLITE_READONLY"):
        return StoreUnavailable("The drawings store is read-only on this server, so nothing can be kept. "
                                "Predictions still work.")
    return StoreUnavailable("The drawings store cannot be used on this server right now "
                            f"({name or error.__class__.__name__}). Predictions still work.")
