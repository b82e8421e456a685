"""The store's database: one SQLAlchemy engine from DIGITDRAW_DATABASE, a SQLite file or a PostgreSQL server.

`DIGITDRAW_DATABASE=postgresql://user@host/db` (or `postgres://`) selects PostgreSQL, shared by several
instances; a path or `sqlite:///path` a SQLite file, for one machine. The store's queries are the same for
both; what differs is set here, on the engine and by its events:

- SQLite: WAL (readers go on while one writer writes), `synchronous=NORMAL` (never corrupts the file, loses
  nothing when the app crashes; only a power cut may drop the last commits: FULL would sync the disk on
  every commit, 8 ms a drawing instead of 0.2 ms), a busy timeout, the WAL cut back to WAL_LIMIT after a
  checkpoint, and `BEGIN IMMEDIATE` for writers (the file's write lock taken before anything is read, so
  writers queue up instead of failing half way; a busy file is tried again). SQLite's WAL needs the file on a
  local disk. The file is replaced only through SQLite (`sqlite3 drawings.sqlite ".restore backup.sqlite"`,
  see the README): a file swapped under a running server by `mv` is not followed. It holds the signing key
  and the drawings as they were drawn, so a folder and a file the app makes are its owner's alone (0700 and
  0600; SQLite gives the -wal and -shm files the database file's mode); ones that exist keep theirs.
- PostgreSQL: every write transaction first takes one advisory lock, as SQLite's BEGIN IMMEDIATE takes the
  file's, so the quota check, the ids handed out and "one fine-tuning run at a time" hold across instances;
  a write is never retried (a COMMIT cut off may have been kept, and a drawing must not be kept twice).
- Both: SQLAlchemy's pool, each connection checked before it is lent (a restarted server costs no request)
  and a fresh pool in a forked worker (it never touches its parent's sockets); the schema brought up to date
  by the first process that needs it, under the writers' lock (webapp/store/migrate.py); every database error
  turned into a StoreRefused sentence with its HTTP status, never a bare driver error.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import errors as pg_errors

from webapp.sentences import N_
from webapp.store import migrate
from webapp.store.refusals import StoreFull, StoreRefused, StoreUnavailable

WRITERS_LOCK = 0x44696769   # PostgreSQL's advisory lock every write transaction takes ("Digi")
SQLITE_BUSY_SECONDS = 10.0
SQLITE_WRITE_ATTEMPTS = 5
SQLITE_PAGE_SIZE_GUESS = 4096          # SQLite's default page size, to turn the WAL limit into pages
SQLITE_CHECKPOINT_PAGES = 1000         # SQLite's own default: checkpoint when the WAL holds this many pages
MIN_FREE_DISK_BYTES = 1024 * 1024      # less free space than this and the next write may fail half way
SQLITE_FOLDER_MODE = 0o700             # what the app creates: for its owner alone (the umask may take more)
SQLITE_FILE_MODE = 0o600
POSTGRES_POOL_SIZE = 8                 # connections per process at most (each gevent worker is one process)
POSTGRES_CONNECT_SECONDS = 3
POSTGRES_POOL_WAIT_SECONDS = 3         # for a pooled connection: longer means the server is down or swamped
POSTGRES_LOCK_WAIT_SECONDS = 10        # for the writers' lock (as SQLite's busy timeout)
POSTGRES_STATEMENT_SECONDS = 60

_OPENED: weakref.WeakSet[Database] = weakref.WeakSet()
_INHERITED_POOLS: list = []   # a parent's pooled connections, kept in a forked child and never closed there


def is_server_url(location: str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def open_database(location: str | Path, wal_limit: int | None = None) -> Database:
    """`postgresql://...`: that PostgreSQL database; `sqlite:///path` or a path: that SQLite file."""
    text = str(location)
    if is_server_url(text):
        return PostgresDatabase(text)
    return SqliteDatabase(text.removeprefix("sqlite://"), wal_limit)


WRITER = {"writer": True}   # the execution option the SQLite `begin` event and writers' transactions look for


class Database:
    """One database behind one engine; its schema brought up to date on first use in each process."""

    dialect = ""
    reader_options: dict = {}

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._write_lock = threading.Lock()   # threads of one process queue here, not in the database
        self._prepare_lock = threading.Lock()
        self._prepared_pid = 0
        _OPENED.add(self)

    def exists(self) -> bool:
        return True

    @contextmanager
    def refusing(self):
        """Database failures as StoreRefused sentences. A constraint failing is a bug in the caller, not a state
        of the disk: it stays as it is."""
        try:
            yield
        except sa.exc.IntegrityError:
            raise
        except (sa.exc.DBAPIError, sa.exc.TimeoutError, sqlite3.Error, psycopg.Error, OSError) as error:
            raise self.refusal_for(getattr(error, "orig", None) or error) from error

    @contextmanager
    def connection(self, writer: bool = False):
        """A pooled connection on a database whose schema is this app's."""
        with self.refusing():
            self._prepare_once()
            with self.engine.connect() as connection:
                yield connection.execution_options(**(WRITER if writer else self.reader_options))

    @contextmanager
    def schema_transaction(self):
        """A write transaction holding the writers' lock on a database whose schema may be anything: what
        migrations and `flask db` run in."""
        with self.refusing():
            self._before_first_use()
            with self.engine.connect().execution_options(writer=True) as connection, connection.begin():
                self.lock_writers(connection)
                yield connection

    def read(self, query, parameters=None) -> list[sa.Row]:
        with self.connection() as connection:
            return connection.execute(as_query(query), parameters or {}).fetchall()

    def transaction(self, work):
        """Run `work(connection)` in one write transaction holding the writers' lock: all of it is kept, or none."""
        with self._write_lock, self.connection(writer=True) as connection, connection.begin():
            self.lock_writers(connection)
            return work(connection)

    def lock_writers(self, connection: sa.Connection) -> None:
        """Take the database's write lock at the start of a write transaction (SQLite: its BEGIN IMMEDIATE)."""

    def _prepare_once(self) -> None:
        if self._prepared_pid == os.getpid():
            return
        with self._prepare_lock:
            if self._prepared_pid != os.getpid():
                self._before_first_use()
                with self.engine.connect() as connection:
                    current = migrate.is_current(connection)
                if not current:
                    with self.schema_transaction() as connection:
                        migrate.upgrade(connection)
                self._after_schema_ready()
                self._prepared_pid = os.getpid()

    def _before_first_use(self) -> None:
        """Anything the database needs before its first connection (SQLite: its folder)."""

    def _after_schema_ready(self) -> None:
        """Anything to set once the schema is known to be this app's (SQLite: WAL)."""

    def refusal_for(self, error: BaseException) -> StoreRefused:
        raise NotImplementedError

    def used_bytes(self, connection: sa.Connection) -> int:
        raise NotImplementedError

    def write_problem(self) -> str | None:
        return None

    def close(self) -> None:
        """Close this process's pooled connections (tests and commands that open many stores)."""
        self.engine.dispose()


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str | Path, wal_limit: int | None = None):
        self.path = Path(path)
        self.wal_limit = wal_limit
        engine = sa.create_engine(f"sqlite:///{self.path}", poolclass=sa.pool.QueuePool, pool_size=8,
                                  max_overflow=-1, connect_args={"timeout": SQLITE_BUSY_SECONDS,
                                                                 "check_same_thread": False})
        sa.event.listen(engine, "connect", self._configure)
        sa.event.listen(engine, "begin", begin_sqlite_transaction)
        super().__init__(engine)

    def exists(self) -> bool:
        """False until something is first kept: a read-only listing must not create the file."""
        return self.path.exists()

    def _configure(self, dbapi_connection: sqlite3.Connection, _record) -> None:
        dbapi_connection.isolation_level = None   # transactions are begun by begin_sqlite_transaction
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        if self.wal_limit is not None:
            # The WAL is cut back to the limit after each checkpoint, and checkpoints come often enough that it
            # does not outgrow the limit in between.
            pages = max(1, min(SQLITE_CHECKPOINT_PAGES, self.wal_limit // SQLITE_PAGE_SIZE_GUESS // 2))
            dbapi_connection.execute(f"PRAGMA journal_size_limit={int(self.wal_limit)}")
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={pages}")

    def _before_first_use(self) -> None:
        """The folder and the file, made for the app's user alone if they do not exist yet (SQLite would make
        the file readable by everyone, 0644). Folders above the file's are made as `mkdir -p` makes them, and
        whatever exists is left as its owner set it: the app never changes modes it did not choose."""
        folder = self.path.parent
        if not folder.is_dir():
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=SQLITE_FOLDER_MODE, exist_ok=True)
        create_private_file(self.path)

    def _after_schema_ready(self) -> None:
        """WAL is kept in the file, so once is enough; only now, so a file a newer app wrote stays as it was."""
        connection = self.engine.raw_connection()
        try:
            connection.driver_connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()

    def transaction(self, work):
        """Again from the start while another process holds the file (SQLite's own busy wait sleeps in steps
        of milliseconds, so threads of this process wait for each other on a lock instead)."""
        for attempt in range(1, SQLITE_WRITE_ATTEMPTS + 1):
            try:
                return super().transaction(work)
            except StoreUnavailable as error:
                if not is_sqlite_busy(error.__cause__) or attempt == SQLITE_WRITE_ATTEMPTS:
                    raise
            time.sleep(0.05 * attempt)

    def used_bytes(self, connection: sa.Connection) -> int:
        """The pages of the file that hold drawings (free pages left by deletes are reused before it grows)."""
        return max(0, connection.execute(SQLITE_USED_BYTES).scalar_one())

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

    def refusal_for(self, error: BaseException) -> StoreRefused:
        """The sentence and status for a failed read or write; predictions never depend on the store."""
        name = getattr(error, "sqlite_errorname", "")
        if name == "SQLITE_FULL" or getattr(error, "errno", None) == errno.ENOSPC:
            return StoreFull("The server's disk is full, so the drawing cannot be kept. Predictions still work.")
        if is_sqlite_busy(error):
            return StoreUnavailable(N_("The drawings store is busy; please try again in a moment."))
        if name.startswith("SQLITE_READONLY"):
            return StoreUnavailable("The drawings store is read-only on this server, so nothing can be kept. "
                                    "Predictions still work.")
        return StoreUnavailable("The drawings store cannot be used on this server right now "
                                f"({name or error.__class__.__name__}). Predictions still work.")


def create_private_file(path: Path) -> None:
    """An empty file, which SQLite opens as an empty database, made SQLITE_FILE_MODE in one step (O_EXCL: never
    a file that exists, nor one another process made meanwhile, so no descriptor of a file SQLite holds is
    opened and closed here, which would drop its locks). Its -wal and -shm get its mode from SQLite."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE))
    except FileExistsError:
        pass


# The pages of the file in use, less the model versions' files (kept in the same file, but not drawings: the
# quota is the drawings'), in one statement.
SQLITE_USED_BYTES = sa.text(
    "SELECT (page_count - freelist_count) * page_size"
    " - (SELECT coalesce(sum(length(content)), 0) FROM model_files)"
    " FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()")


def begin_sqlite_transaction(connection: sa.Connection) -> None:
    """BEGIN IMMEDIATE for a writer (the file's write lock first), a plain BEGIN for a reader."""
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get("writer") else "BEGIN")


def is_sqlite_busy(error: BaseException | None) -> bool:
    if isinstance(error, sa.exc.DBAPIError):
        error = error.orig
    message = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in message or "busy" in message)


class PostgresDatabase(Database):
    dialect = "postgresql"
    # A read is one statement: no BEGIN and ROLLBACK around it (two round trips), as the old pool's autocommit.
    reader_options = {"isolation_level": "AUTOCOMMIT"}

    def __init__(self, url: str):
        self.url = url
        driver_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        engine = sa.create_engine(
            driver_url, pool_size=POSTGRES_POOL_SIZE, max_overflow=0, pool_timeout=POSTGRES_POOL_WAIT_SECONDS,
            pool_pre_ping=True,
            connect_args={"connect_timeout": POSTGRES_CONNECT_SECONDS, "application_name": "digitdraw",
                          "options": f"-c lock_timeout={POSTGRES_LOCK_WAIT_SECONDS * 1000}"
                                     f" -c statement_timeout={POSTGRES_STATEMENT_SECONDS * 1000}"})
        super().__init__(engine)

    def lock_writers(self, connection: sa.Connection) -> None:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK})

    def used_bytes(self, connection: sa.Connection) -> int:
        """What the drawings take, as counted by every write (each kept image plus 1 KiB): PostgreSQL's files
        keep the space of deleted and refused rows for reuse and never shrink, so their size would keep a full
        store full after the teacher deletes drawings."""
        return int(connection.execute(sa.text("SELECT value FROM drawings_usage WHERE name = 'bytes'")).scalar_one())

    def refusal_for(self, error: BaseException) -> StoreRefused:
        """The sentence and status for a failed read or write; predictions never depend on the store."""
        if isinstance(error, pg_errors.DiskFull):
            return StoreFull("The database server's disk is full, so the drawing cannot be kept. "
                             "Predictions still work.")
        if isinstance(error, (pg_errors.LockNotAvailable, pg_errors.QueryCanceled)):
            return StoreUnavailable(N_("The drawings store is busy; please try again in a moment."))
        if isinstance(error, pg_errors.ReadOnlySqlTransaction):
            return StoreUnavailable("The drawings database is read-only, so nothing can be kept. "
                                    "Predictions still work.")
        if isinstance(error, (sa.exc.TimeoutError, psycopg.OperationalError)):
            return StoreUnavailable("The drawings database cannot be reached right now; please try again in a "
                                    "moment. Predictions still work.")
        return StoreUnavailable("The drawings store cannot be used on this server right now "
                                f"({error.__class__.__name__}). Predictions still work.")


def as_query(query):
    return sa.text(query) if isinstance(query, str) else query


def close_all() -> None:
    """Close every pool this process opened: for tests and commands that open many stores and go on."""
    for database in list(_OPENED):
        database.close()


def _fresh_pools_after_fork() -> None:
    """A forked worker opens its own connections and never closes its parent's: they are the parent's, and
    closing a SQLite connection in the child (even by the garbage collector) could checkpoint the parent's WAL
    or drop its locks, so the parent's pool stays referenced here for the child's life."""
    for database in list(_OPENED):
        _INHERITED_POOLS.append(database.engine.pool)
        database.engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_pools_after_fork)
