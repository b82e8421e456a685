"""The store: everything Digit Draw keeps, in one database that every worker and instance shares.

    drawings.py   the drawings people labelled, each model version's answers to them, the quota (Store)
    classroom.py  the teacher's choices and the shared signing key
    teacher_sessions.py  the teacher's sign-ins still good (signing out, here or everywhere, ends them)
    versions.py   every published model version with its files; which one each model serves
    jobs.py       the teacher's fine-tuning runs and their progress
    drawing_scores.py  how each model version does on the drawings, from counts kept by every write
    held_out.py   which drawings a fine-tuning run only scores
    schema.py     the tables (SQLAlchemy Core), the same for SQLite and PostgreSQL
    database.py   the engine from DIGITDRAW_DATABASE: pools, the writers' lock, faults as sentences
    migrate.py    the Alembic revisions in migrations/, applied once however many processes start
    commands.py   `flask --app webapp db current|upgrade|downgrade|history`

Only this file knows Flask (flaskr's `init_app` and `get_db`, here `get_store`); the modules above are used
as they are by training/ and the commands.
"""

from __future__ import annotations

from flask import Flask, current_app

from webapp.store.drawings import Store

EXTENSION = "store"


def init_app(app: Flask) -> None:
    """The app's store, opened lazily (the first request that needs it creates or migrates the database)."""
    from webapp.store.commands import db_command

    app.extensions[EXTENSION] = Store(app.config["DATABASE"], max_rows=app.config["FEEDBACK_MAX_ROWS"],
                                      max_bytes=app.config["FEEDBACK_MAX_BYTES"],
                                      max_per_label_hour=app.config["FEEDBACK_MAX_PER_LABEL_HOUR"],
                                      wal_limit=app.config["DATABASE_WAL_LIMIT"])
    app.cli.add_command(db_command)


def get_store() -> Store:
    """The store of the app handling the current request or command."""
    return current_app.extensions[EXTENSION]
