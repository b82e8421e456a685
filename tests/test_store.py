"""Store on a real SQLite file and on a real PostgreSQL server (every test that takes `store` or
`database` runs on both): round trips, transactions, writers in several processes, answers and confusion
counts, the quota; on SQLite also the WAL limit, a backup restored through SQLite and a file made read-only
under it; on PostgreSQL three instances creating one schema at the same moment. The schema itself, the
Alembic revisions and stores made before them: tests/test_store_schema.py."""

import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa

from webapp.store import migrate
from webapp.store.database import close_all
from webapp.store.drawings import NewDrawing, Store
from webapp.store.refusals import AlreadyKept, SchemaTooNew, StoreFull, StoreUnavailable, TooManyFromOneDevice

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def store(database):
    return Store(database())


@pytest.fixture()
def sqlite_store(tmp_path):
    return Store(tmp_path / "instance" / "drawings.sqlite")


def add_digit(store, mnist, index, **fields):
    [drawing_id] = store.add(NewDrawing(image=b"png bytes %d" % index, pixels=mnist.x_test[index],
                                        label=int(mnist.y_test[index]), **fields))
    return drawing_id


def test_a_new_file_is_created_on_first_use_in_wal_mode_at_the_latest_schema(sqlite_store):
    store = sqlite_store
    assert not store.path.exists()
    assert store.count() == 0
    assert store.path.is_file()
    assert revision_of(store.path) == migrate.head()
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_store_the_app_creates_is_for_its_user_alone(sqlite_store, mnist, tmp_path):
    """It holds the signing key and the drawings as drawn: SQLite alone would make the file 0644."""
    above = mode_of(tmp_path)
    add_digit(sqlite_store, mnist, 0)
    path = sqlite_store.path
    assert mode_of(path.parent) == 0o700
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    assert [mode_of(file) for file in files] == [0o600] * 3
    assert mode_of(tmp_path) == above   # a folder the app did not make is left as it was


def test_a_store_that_exists_keeps_the_modes_its_owner_gave_it(tmp_path, mnist):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    Store(folder / "drawings.sqlite").count()
    (folder / "drawings.sqlite").chmod(0o640)
    close_all()
    add_digit(Store(folder / "drawings.sqlite"), mnist, 0)
    assert (mode_of(folder), mode_of(folder / "drawings.sqlite")) == (0o750, 0o640)
    assert mode_of(folder / "drawings.sqlite-wal") == 0o640   # SQLite gives it the file's mode


def test_a_drawing_reads_back_as_it_was_stored(store, mnist):
    probabilities = np.full(10, 0.1)
    drawing_id = add_digit(store, mnist, 0, model="cnn", model_version="abc123", prediction=7,
                           probabilities=probabilities, mode="number")
    [drawing] = store.page(10)
    assert drawing.id == drawing_id
    assert drawing.label == 7 and drawing.prediction == 7
    assert (drawing.model, drawing.model_version, drawing.mode) == ("cnn", "abc123", "number")
    assert drawing.probabilities == [0.1] * 10
    assert drawing.created.endswith("+00:00")
    np.testing.assert_array_equal(drawing.pixels, mnist.x_test[0])


def test_float_inputs_are_stored_as_the_uint8_image_the_model_saw(store, mnist):
    store.add(NewDrawing(image=b"png", pixels=mnist.x_test[1].astype(np.float32) / 255, label=2))
    ids, x, y = store.labelled_inputs()
    assert x.dtype == np.uint8 and x.shape == (1, 28, 28) and y.tolist() == [2]
    np.testing.assert_array_equal(x[0], mnist.x_test[1])


def test_page_count_filter_and_delete(store, mnist):
    ids = [add_digit(store, mnist, index) for index in range(30)]
    labels = mnist.y_test[:30]
    assert store.count() == 30
    assert store.count(label=1) == int(np.sum(labels == 1))
    assert [d.id for d in store.page(5)] == ids[::-1][:5]            # newest first
    assert [d.id for d in store.page(5, offset=5)] == ids[::-1][5:10]
    assert {d.label for d in store.page(30, label=1)} == {1}
    assert store.label_counts() == np.bincount(labels, minlength=10).tolist()

    assert store.delete(ids[3]) is True
    assert store.delete(ids[3]) is False
    assert store.count() == 29 and ids[3] not in store.labelled_inputs()[0]
    assert add_digit(store, mnist, 40) == ids[-1] + 1                # ids are never reused


def test_a_failed_write_leaves_nothing_behind(store, mnist):
    add_digit(store, mnist, 0)
    with pytest.raises(sa.exc.IntegrityError):
        store.add(NewDrawing(image=b"png", pixels=mnist.x_test[1], label=12))   # the CHECK constraint refuses it
    assert store.count() == 1


@pytest.mark.parametrize("mark", ["alembic_version", "user_version"])
def test_a_file_from_a_newer_app_is_refused_untouched(tmp_path, mark):
    """A revision this app does not know, or a step number past those made before Alembic."""
    path = tmp_path / "newer.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE drawings (id INTEGER PRIMARY KEY, future TEXT)")
        if mark == "alembic_version":
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
            connection.execute("INSERT INTO alembic_version VALUES ('0100_from_the_future')")
        else:
            connection.execute("PRAGMA user_version = 99")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew, match="Update the app"):
        Store(path).count()
    assert path.read_bytes() == before


WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from webapp.store.drawings import NewDrawing, Store

    store = Store(sys.argv[1])
    worker, count = int(sys.argv[2]), int(sys.argv[3])
    pixels = np.full((28, 28), worker, np.uint8)
    for n in range(count):
        pixels[27, 27] = n   # each drawing its own: the same drawing is kept once
        store.add(NewDrawing(image=f"{worker}-{n}".encode(), pixels=pixels, label=worker))
""")


def test_writers_in_separate_processes_lose_nothing(database):
    """Like gunicorn workers (or instances): each process opens the same fresh database and writes at once."""
    path, workers, per_worker = database("shared"), 4, 50
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(worker), str(per_worker)],
                                  cwd=PROJECT_ROOT, stderr=subprocess.PIPE)
                 for worker in range(workers)]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    store = Store(path)
    ids, x, y = store.labelled_inputs()
    assert len(ids) == len(set(ids.tolist())) == workers * per_worker
    assert np.bincount(y, minlength=workers).tolist() == [per_worker] * workers
    assert all((x[y == worker][:, :27] == worker).all() for worker in range(workers))


CNN, MLP = ("cnn", "v1"), ("mlp", "v1")


def test_answers_kept_at_store_time_add_up_to_confusion_counts_through_deletes(store, mnist):
    ids = [store.add(NewDrawing(image=b"png", pixels=mnist.x_test[i], label=int(mnist.y_test[i]),
                                answers={CNN: int(mnist.y_test[i]), MLP: (int(mnist.y_test[i]) + i % 2) % 10}))[0]
           for i in range(20)]
    assert np.trace(store.confusion(CNN)) == store.confusion(CNN).sum() == 20
    assert store.confusion(MLP).sum() == 20 and np.trace(store.confusion(MLP)) == 10
    for drawing_id in ids[:4]:   # two right and two wrong answers of the MLP
        store.delete(drawing_id)
    assert store.confusion(CNN).sum() == 16 and np.trace(store.confusion(MLP)) == 8
    assert store.confusion(("cnn", "another version")).sum() == 0


def test_a_new_model_version_answers_older_drawings_once_each(store, mnist):
    for index in range(10):
        add_digit(store, mnist, index, answers={CNN: 0})
    newer = ("cnn", "v2")
    ids, x, y = store.unanswered(newer, limit=4)
    assert ids.tolist() == [10, 9, 8, 7] and y.tolist() == mnist.y_test[6:10][::-1].tolist()
    np.testing.assert_array_equal(x[0], mnist.x_test[9])
    store.add_answers(newer, ids, y, y)
    store.add_answers(newer, ids, y, y)        # another worker read the same batch meanwhile
    store.delete(6)
    store.add_answers(newer, np.array([6]), np.array([mnist.y_test[5]]), np.array([0]))   # deleted meanwhile
    assert store.confusion(newer).sum() == 4 == np.trace(store.confusion(newer))
    assert len(store.unanswered(newer, limit=100)[0]) == 5
    assert store.unanswered(CNN, limit=100)[0].size == 0


def test_adding_past_the_row_quota_keeps_nothing_of_that_write(database, mnist):
    store = Store(database("rows"), max_rows=3)
    add_digit(store, mnist, 0)
    three = [NewDrawing(image=b"png", pixels=mnist.x_test[i], label=int(mnist.y_test[i]), answers={CNN: 1})
             for i in range(1, 4)]
    with pytest.raises(StoreFull, match="at most 3 drawings") as refused:
        store.add(*three)
    assert refused.value.status == 507
    assert store.count() == 1 and store.confusion(CNN).sum() == 0
    store.add(*three[:2])
    assert store.count() == 3


def test_the_byte_quota_counts_the_pages_in_use(database, mnist):
    store = Store(database("bytes"), max_bytes=512 * 1024)
    image = np.random.default_rng(0).bytes(10_000)   # 10 kB that do not compress (PostgreSQL would try)
    added = 0
    with pytest.raises(StoreFull, match="at most 0.5 MiB"):
        while True:
            store.add(NewDrawing(image=image, pixels=mnist.x_test[added], label=7))
            added += 1
    rows, used = store.usage()
    assert rows == added and 30 <= added <= 50   # the empty SQLite file's pages count too
    assert used <= 512 * 1024
    assert store.health()["status"] == "full"


def test_deleting_drawings_from_a_full_store_makes_room_again(database, mnist):
    """The teacher's way out of a full store (the 507 sentence says so): on PostgreSQL too, whose files keep
    the space of deleted rows."""
    store = Store(database("full"), max_bytes=256 * 1024)
    image = np.random.default_rng(1).bytes(10_000)
    ids = []
    with pytest.raises(StoreFull):
        while True:
            ids.append(store.add(NewDrawing(image=image, pixels=mnist.x_test[len(ids)], label=7))[0])
    for drawing_id in ids[:3]:
        assert store.delete(drawing_id)
    assert store.health()["status"] == "ok"
    assert len([store.add(NewDrawing(image=image, pixels=mnist.x_test[1000 + n], label=7)) for n in range(3)]) == 3
    with pytest.raises(StoreFull):
        store.add(NewDrawing(image=image, pixels=mnist.x_test[2000], label=7))
    assert store.clear() == len(ids)
    assert store.usage()[0] == 0 and store.health()["status"] == "ok"


def test_the_wal_is_truncated_back_to_its_limit(tmp_path, mnist):
    limit = 256 * 1024
    store = Store(tmp_path / "wal.sqlite", wal_limit=limit)
    wal = Path(f"{store.path}-wal")
    largest = 0
    for index in range(300):
        store.add(NewDrawing(image=bytes(4000), pixels=mnist.x_test[index], label=int(mnist.y_test[index])))
        largest = max(largest, wal.stat().st_size)
    assert store.path.stat().st_size > 4 * limit   # far more was written than the WAL may hold
    assert largest <= limit + 16 * 1024            # a checkpoint's worth plus the transaction that passed it


def revision_of(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    connection.close()
    return revision


def row_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        count = connection.execute("SELECT count(*) FROM drawings").fetchone()[0]
    connection.close()
    return count


def test_a_backup_restored_through_sqlite_is_what_every_store_on_the_file_reads(tmp_path, mnist):
    """The README's way to restore a backup while the server runs (`sqlite3 drawings.sqlite ".restore
    backup.sqlite"`): SQLite writes it into the live file under its own locks, so every worker sees it."""
    live, backup = tmp_path / "drawings.sqlite", tmp_path / "backup.sqlite"
    worker_a, worker_b = Store(live), Store(live)
    add_digit(worker_a, mnist, 0)
    add_digit(worker_b, mnist, 1)
    with sqlite3.connect(live) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)   # `.backup backup.sqlite`
    for index in range(2, 6):
        add_digit(worker_a, mnist, index)
    with sqlite3.connect(backup) as source, sqlite3.connect(live) as target:
        source.backup(target)   # `.restore backup.sqlite`
    source.close()
    target.close()
    copy.close()
    assert worker_a.count() == worker_b.count() == row_count(live) == 2
    assert add_digit(worker_b, mnist, 20) == 3   # the restored file's own sequence
    assert [d.label for d in worker_a.page(10)] == [mnist.y_test[i] for i in (20, 1, 0)]


def test_a_read_only_file_refuses_writes_with_503_and_still_reads(sqlite_store, mnist, immutable):
    store = sqlite_store
    add_digit(store, mnist, 0)
    immutable(store.path)
    reopened = Store(store.path)
    assert reopened.count() == 1
    with pytest.raises(StoreUnavailable, match="read-only") as refused:
        add_digit(reopened, mnist, 1)
    assert refused.value.status == 503
    health = reopened.health()
    assert health["status"] == "failing" and "read-only" in health["problem"] and health["rows"] == 1


def test_a_full_disk_is_507_simulated_with_sqlites_page_limit(sqlite_store, mnist, monkeypatch):
    """SQLite's own SQLITE_FULL, raised by capping the file at its current size (a full disk cannot be made here)."""
    store = sqlite_store
    add_digit(store, mnist, 0)
    engine = store.database.engine
    sa.event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA max_page_count = 1"))
    engine.dispose()   # every connection from now on is capped (SQLite keeps the current size as the cap)
    with pytest.raises(StoreFull, match="disk is full") as refused:
        store.add(NewDrawing(image=bytes(range(256)) * 64, pixels=mnist.x_test[1], label=2))
    assert refused.value.status == 507 and store.count() == 1


STARTER = textwrap.dedent("""
    import logging, sys, time
    from webapp.store.drawings import Store

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))   # every instance opens the empty database at this moment
    print(Store(sys.argv[1]).count())
""")


def test_three_instances_starting_at_once_on_an_empty_postgresql_create_the_schema_once(postgres_database):
    url = postgres_database("empty")
    start = time.time() + 3.0   # after the three interpreters have imported everything
    processes = [subprocess.Popen([sys.executable, "-c", STARTER, url, str(start)], cwd=PROJECT_ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["0", "0", "0"]
    upgraded = [err for _, err in outputs if "schema upgraded" in err]
    assert len(upgraded) == 1, [err for _, err in outputs]   # by the instance that came first; the others waited
    assert f"to {migrate.head()}" in upgraded[0]
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head(),)]


def test_a_postgresql_database_from_a_newer_app_is_refused_untouched(postgres_database):
    url = postgres_database("newer")
    Store(url).count()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0100_from_the_future'")
        connection.execute("CREATE TABLE future_things (id BIGINT)")
    with pytest.raises(SchemaTooNew, match="Update the app"):
        Store(url).count()
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0100_from_the_future"


def test_a_file_another_program_holds_is_a_503_sentence_never_a_driver_error(tmp_path, monkeypatch):
    """A store at the newest schema but back in rollback-journal mode (as a copy made outside SQLite's backup
    may be), read by another program: switching it to WAL on first use cannot happen then. A busy store,
    answered as such: the bare sqlite3 error there was a 500."""
    from webapp.store import database

    path = tmp_path / "drawings.sqlite"
    made = Store(path)
    made.count()
    made.database.close()
    journal = sqlite3.connect(path, isolation_level=None)
    assert journal.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    journal.close()
    monkeypatch.setattr(database, "SQLITE_BUSY_SECONDS", 0.2)   # the wait, not what is tested
    other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM drawings").fetchone()   # holds a read lock
    store = Store(path)
    try:
        with pytest.raises(StoreUnavailable) as refused:
            store.count()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert refused.value.status == 503
    assert store.count() == 0   # and once the other program is done, the store is used as usual


def test_the_same_drawing_is_kept_once(store, mnist):
    """A script replaying one drawing (or a phone sending it twice) adds nothing: all or nothing per write."""
    add_digit(store, mnist, 0)
    with pytest.raises(AlreadyKept, match="kept once") as refused:
        add_digit(store, mnist, 0)
    assert refused.value.status == 409
    with pytest.raises(AlreadyKept):   # a write holding a copy keeps none of its drawings
        store.add(NewDrawing(image=b"png", pixels=mnist.x_test[1], label=2),
                  NewDrawing(image=b"png", pixels=mnist.x_test[0], label=7))
    assert store.count() == 1 and store.usage()[0] == 1


def test_one_device_may_add_so_many_of_one_label_an_hour(store, mnist):
    store.max_per_label_hour = 3
    digits = [NewDrawing(image=b"png", pixels=mnist.x_test[i], label=1, writer="device-a") for i in range(5)]
    store.add(*digits[:3])
    with pytest.raises(TooManyFromOneDevice, match="sent 3 drawings labelled 1 in the last hour") as refused:
        store.add(digits[3])
    assert refused.value.status == 429 and refused.value.retry_after == 3600
    store.add(NewDrawing(image=b"png", pixels=mnist.x_test[10], label=2, writer="device-a"))   # another digit
    store.add(NewDrawing(image=b"png", pixels=mnist.x_test[11], label=1, writer="device-b"))   # another device
    with pytest.raises(TooManyFromOneDevice):   # one write cannot pass the cap at once either
        store.add(NewDrawing(image=b"png", pixels=mnist.x_test[12], label=3, writer="device-c"),
                  *[NewDrawing(image=b"png", pixels=mnist.x_test[13 + i], label=3, writer="device-c")
                    for i in range(3)])
    assert store.count() == 5
