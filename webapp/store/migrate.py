"""Bringing a database's schema to this app's: the Alembic revisions in webapp/store/migrations/.

`upgrade` runs inside the caller's write transaction, holding the writers' lock (SQLite's BEGIN IMMEDIATE,
PostgreSQL's advisory lock), so instances and workers starting together on an empty database apply each
revision once, all or nothing. A database made before Alembic (SQLite counting its steps in `PRAGMA
user_version`, PostgreSQL in a `schema_migrations` table) is taken over in place: stamped with the revision of
the step it had reached, then upgraded, losing nothing; its old marks (SQLite's user_version, PostgreSQL's
`schema_migrations`) stay as they were, so the release before Alembic can open it again after `flask db
downgrade` to the revision of its step. A database whose revision this app does not know was
written by a newer Digit Draw: it is refused before anything is written to it.

`flask --app webapp db current|upgrade|downgrade|history` (webapp/store/commands.py) runs the same code.
"""

from __future__ import annotations

import logging
import os
import socket
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from webapp.store.refusals import SchemaTooNew

log = logging.getLogger("digitdraw")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LEGACY_STEPS = 7   # the numbered steps of the store before Alembic; step N became revision "000N"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return scripts().get_current_head()


def known(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except Exception:   # alembic raises several kinds for a revision it has never heard of
        return False


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def legacy_step(connection: sa.Connection) -> int:
    """How far a database made before Alembic got (0 for an empty one)."""
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql("PRAGMA user_version").scalar_one()
    if sa.inspect(connection).has_table("schema_migrations"):
        return connection.exec_driver_sql("SELECT coalesce(max(version), 0) FROM schema_migrations").scalar_one()
    return 0


def check_known(connection: sa.Connection) -> str | None:
    """The database's revision (None: before Alembic or empty); SchemaTooNew when a newer app wrote it."""
    revision = current_revision(connection)
    if revision is not None and not known(revision):
        raise SchemaTooNew(f"The drawings database has schema revision {revision}, which this Digit Draw does "
                           "not know: a newer version wrote it. Update the app to open it.")
    if revision is None and legacy_step(connection) > LEGACY_STEPS:
        raise SchemaTooNew(f"The drawings database has schema version {legacy_step(connection)}; this Digit Draw "
                           f"knows versions up to {LEGACY_STEPS}. Update the app to open it.")
    return revision


def upgrade(connection: sa.Connection, target: str = "head") -> None:
    """Take over a database made before Alembic, then apply the revisions it lacks (in the caller's transaction)."""
    revision = check_known(connection)
    if revision is None and legacy_step(connection):
        command.stamp(alembic_config(connection), f"{legacy_step(connection):04d}")
        revision = current_revision(connection)
    if revision != (head() if target == "head" else target):
        command.upgrade(alembic_config(connection), target)
        log.info("drawings store: schema upgraded from %s to %s by %s pid %s", revision or "nothing",
                 current_revision(connection), socket.gethostname(), os.getpid())


def downgrade(connection: sa.Connection, target: str) -> None:
    check_known(connection)
    command.downgrade(alembic_config(connection), target)


def is_current(connection: sa.Connection) -> bool:
    """The cheap check each process makes before anything else: one read of alembic_version."""
    try:
        return current_revision(connection) == head()
    except sa.exc.DBAPIError:
        return False
