"""`flask --app webapp db ...`: see and apply the store's schema revisions (webapp/store/migrations/).

    flask --app webapp db current      the database's revision, and whether it is this app's newest
    flask --app webapp db upgrade      apply the revisions it lacks (the app also does this on first use)
    flask --app webapp db downgrade R  go back to revision R (e.g. 0007): for a roll-back of the app
    flask --app webapp db history      every revision, oldest first

Each runs under the writers' lock, on the database DIGITDRAW_DATABASE names.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.store import get_store, migrate
from webapp.store.refusals import StoreRefused


@click.group("db")
def db_command() -> None:
    """See and apply the drawings store's schema revisions."""


def run_locked(work):
    """`work(connection)` in a write transaction holding the writers' lock; a refusal is one line."""
    try:
        with get_store().database.schema_transaction() as connection:
            return work(connection)
    except StoreRefused as error:
        raise click.ClickException(str(error)) from None


@db_command.command("current")
@with_appcontext
def current_command() -> None:
    """Print the database's revision."""
    def show(connection) -> None:
        revision = migrate.current_revision(connection)
        if revision is None:
            step = migrate.legacy_step(connection)
            click.echo(f"none: made before Alembic, at step {step} (upgrade takes it over)" if step
                       else "none: an empty database (upgrade creates the tables)")
        else:
            newest = migrate.head()
            click.echo(f"{revision}" + (" (head)" if revision == newest else f" (this app's newest is {newest})"))

    run_locked(show)


@db_command.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade_command(revision: str) -> None:
    """Apply the revisions the database lacks, up to REVISION (default: the newest)."""
    run_locked(lambda connection: migrate.upgrade(connection, revision))
    click.echo(f"The database is at revision {run_locked(migrate.current_revision)}.")


@db_command.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade_command(revision: str) -> None:
    """Undo the revisions after REVISION (the app upgrades again when it next starts: stop it first)."""
    run_locked(lambda connection: migrate.downgrade(connection, revision))
    click.echo(f"The database is at revision {run_locked(migrate.current_revision)}.")


@db_command.command("history")
def history_command() -> None:
    """List every revision, oldest first."""
    for script in reversed(list(migrate.scripts().walk_revisions())):
        click.echo(f"{script.revision}  {script.doc.splitlines()[0] if script.doc else ''}")
