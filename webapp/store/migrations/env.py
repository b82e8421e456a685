"""Alembic's entry point for the store: migrations run on the connection the app (or `flask db`) hands over,
inside its transaction and holding its lock (webapp/store/migrate.py); never from a URL of their own."""

from alembic import context

from webapp.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
