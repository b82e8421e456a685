"""The teacher's sign-ins that are still good, one row each, shared by every worker and instance.

A signed cookie alone cannot be taken back: a copy made before signing out (sniffed on a classroom's plain
HTTP wifi, say) would work until it expires. So each sign-in gets a random id, carried in the signed cookie,
and is good only while its row is here: signing out deletes the row, "sign out everywhere" every row. The
table keeps a SHA-256 of the id, never the id, so a copy of the database (or a backup) holds no live cookie.
Rows past their expiry count as ended and are deleted, a bounded number at a time, at later sign-ins.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import sqlalchemy as sa

from webapp.store.drawings import Store
from webapp.store.schema import teacher_sessions

ID_BYTES = 32                 # 256 random bits: never guessed, never repeated
EXPIRED_DELETED_AT_ONCE = 100  # a sign-in never waits for an unbounded clean-up


def hashed(session_id: str) -> str:
    """What the table keeps of an id: enough to find its row, useless as a cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class TeacherSessions:
    def __init__(self, store: Store):
        self.store = store

    def start(self, lifetime_seconds: float) -> str:
        """A new session's id (for the signed cookie), good for `lifetime_seconds`; expired rows go meanwhile."""
        session_id = secrets.token_urlsafe(ID_BYTES)
        now = time.time()

        def record(connection: sa.Connection) -> None:
            expired = (sa.select(teacher_sessions.c.id).where(teacher_sessions.c.expires <= now)
                       .limit(EXPIRED_DELETED_AT_ONCE).scalar_subquery())
            connection.execute(teacher_sessions.delete().where(teacher_sessions.c.id.in_(expired)))
            connection.execute(teacher_sessions.insert(), {"id": hashed(session_id), "created": now,
                                                           "expires": now + lifetime_seconds})

        self.store.transaction(record)
        return session_id

    def is_live(self, session_id: str) -> bool:
        """Is this session neither ended nor expired? One read by the primary key."""
        rows = self.store.read(sa.select(teacher_sessions.c.expires)
                               .where(teacher_sessions.c.id == hashed(session_id)))
        return bool(rows) and rows[0][0] > time.time()

    def end(self, session_id: str) -> None:
        """Sign this session out on every worker and instance."""
        self.store.transaction(lambda connection: connection.execute(
            teacher_sessions.delete().where(teacher_sessions.c.id == hashed(session_id))))

    def end_all(self) -> int:
        """Sign every teacher out, everywhere; how many sessions were live or not yet cleaned up."""
        return self.store.transaction(lambda connection: connection.execute(teacher_sessions.delete()).rowcount)
