"""What the teacher decided for everyone (collecting on or off) and the key that signs sessions and undo
tokens: rows of one small table, so every worker and instance sharing the database agrees on them."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from webapp.store.drawings import Store
from webapp.store.schema import classroom

SECRET_KEY = "secret_key"
SET_SETTING = sa.text("INSERT INTO classroom (name, value) VALUES (:name, :value)"
                      " ON CONFLICT (name) DO UPDATE SET value = excluded.value")


class Classroom:
    def __init__(self, store: Store):
        self.store = store

    def setting(self, name: str, default: str) -> str:
        rows = self.store.read(sa.select(classroom.c.value).where(classroom.c.name == name))
        return rows[0][0] if rows else default

    def set_setting(self, name: str, value: str) -> None:
        self.store.transaction(lambda connection: connection.execute(SET_SETTING, {"name": name, "value": value}))

    def shared_secret(self) -> str:
        """A random key made once for everything that shares this database (workers, instances, restarts)."""
        found = self.setting(SECRET_KEY, "")
        if found:
            return found

        def make(connection) -> str:
            connection.execute(sa.text("INSERT INTO classroom (name, value) VALUES (:name, :value)"
                                       " ON CONFLICT DO NOTHING"),
                               {"name": SECRET_KEY, "value": secrets.token_hex(32)})
            return connection.execute(sa.select(classroom.c.value).where(classroom.c.name == SECRET_KEY)).scalar_one()

        return self.store.transaction(make)
