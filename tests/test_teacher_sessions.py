"""The teacher's sessions in the store (webapp/store/teacher_sessions.py), on a SQLite file and on a real
PostgreSQL server: live until ended, one or all; only a hash of each id kept; expired rows never live and
deleted at later sign-ins, a bounded number at a time. Over HTTP: tests/test_teacher.py."""

import hashlib
import time

import pytest

from webapp.store.drawings import Store
from webapp.store.schema import teacher_sessions
from webapp.store.teacher_sessions import EXPIRED_DELETED_AT_ONCE, TeacherSessions

HOUR = 3600.0


@pytest.fixture()
def sessions(database):
    return TeacherSessions(Store(database()))


def rows(sessions: TeacherSessions) -> list:
    return sessions.store.read(teacher_sessions.select().order_by(teacher_sessions.c.expires))


def add_expired(sessions: TeacherSessions, count: int) -> None:
    """Sessions that ended by themselves an hour ago and were never signed out."""
    past = time.time() - HOUR
    sessions.store.transaction(lambda connection: connection.execute(teacher_sessions.insert(), [
        {"id": f"expired-{n}", "created": past - HOUR, "expires": past} for n in range(count)]))


def test_a_session_is_live_until_it_is_ended_and_ending_all_ends_every_one(sessions):
    first, second, third = (sessions.start(HOUR) for _ in range(3))
    assert len({first, second, third}) == 3 and all(map(sessions.is_live, (first, second, third)))
    sessions.end(first)
    assert not sessions.is_live(first) and sessions.is_live(second) and sessions.is_live(third)
    assert not sessions.is_live("an-id-nobody-was-given")
    assert sessions.end_all() == 2
    assert not sessions.is_live(second) and not sessions.is_live(third) and rows(sessions) == []


def test_the_store_keeps_a_hash_of_each_id_never_the_id(sessions):
    before = time.time()
    session_id = sessions.start(HOUR)
    [row] = rows(sessions)
    assert row.id == hashlib.sha256(session_id.encode()).hexdigest() and session_id not in row.id
    assert before <= row.created <= time.time() and row.expires == pytest.approx(row.created + HOUR)


def test_an_expired_session_is_not_live_and_sign_ins_delete_expired_rows_a_bounded_number_at_a_time(sessions):
    add_expired(sessions, EXPIRED_DELETED_AT_ONCE + 50)
    assert not sessions.is_live("expired-0")
    live = sessions.start(HOUR)
    assert len(rows(sessions)) == 50 + 1   # the first sign-in deleted EXPIRED_DELETED_AT_ONCE of them
    sessions.start(HOUR)
    assert [row.expires > time.time() for row in rows(sessions)] == [True, True] and sessions.is_live(live)
