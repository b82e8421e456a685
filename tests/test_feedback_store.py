"""FeedbackStore on real SQLite files: round trips, transactions, migrations, writers in several processes."""

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from webapp.data import load_mnist
from webapp.feedback import MIGRATIONS, SCHEMA_VERSION, FeedbackStore, SchemaTooNew

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture()
def store(tmp_path):
    return FeedbackStore(tmp_path / "instance" / "drawings.sqlite")


def add_digit(store, mnist, index, **fields):
    return store.add(image=b"png bytes %d" % index, pixels=mnist.x_test[index],
                     label=int(mnist.y_test[index]), **fields)


def test_a_new_file_is_created_on_first_use_in_wal_mode_at_the_latest_schema(store):
    assert not store.path.exists()
    assert store.count() == 0
    assert store.path.is_file()
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


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
    store.add(image=b"png", pixels=mnist.x_test[1].astype(np.float32) / 255, label=2)
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
    with pytest.raises(sqlite3.IntegrityError):
        store.add(image=b"png", pixels=mnist.x_test[1], label=12)   # the CHECK constraint refuses it
    assert store.count() == 1


def write_version_1_file(path: Path, mnist, rows: int) -> None:
    """A drawings file as the first schema left it, with a few rows in it."""
    with sqlite3.connect(path) as connection:
        for statement in MIGRATIONS[0]:
            connection.execute(statement)
        for index in range(rows):
            connection.execute(
                "INSERT INTO drawings (created, image, input, label, model, prediction, probabilities)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                ("2026-01-01T00:00:00.000+00:00", b"png", mnist.x_test[index].tobytes(),
                 int(mnist.y_test[index]), "mlp", int(mnist.y_test[index]), None))
        connection.execute("PRAGMA user_version = 1")
    connection.close()


def test_an_older_file_is_migrated_in_place_and_keeps_its_rows(tmp_path, mnist):
    path = tmp_path / "old.sqlite"
    write_version_1_file(path, mnist, rows=5)
    store = FeedbackStore(path)
    assert store.count() == 5
    assert store.schema_version() == SCHEMA_VERSION
    old = store.page(5)
    assert {d.mode for d in old} == {"digit"} and {d.model_version for d in old} == {None}
    assert [d.label for d in old] == mnist.y_test[:5][::-1].tolist()
    new_id = add_digit(store, mnist, 5, model="cnn", model_version="abc123")
    assert new_id == 6 and store.page(1)[0].model_version == "abc123"
    with sqlite3.connect(path) as connection:
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(drawings)")}
    assert "drawings_by_label" in indexes


def test_a_file_from_a_newer_app_is_refused_untouched(tmp_path):
    path = tmp_path / "newer.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE drawings (id INTEGER PRIMARY KEY, future TEXT)")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(SchemaTooNew, match="Update the app"):
        FeedbackStore(path).count()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    connection.close()


WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from webapp.feedback import FeedbackStore

    store = FeedbackStore(sys.argv[1])
    worker, count = int(sys.argv[2]), int(sys.argv[3])
    pixels = np.full((28, 28), worker, np.uint8)
    for n in range(count):
        store.add(image=f"{worker}-{n}".encode(), pixels=pixels, label=worker)
""")


def test_writers_in_separate_processes_lose_nothing(tmp_path):
    """Like gunicorn workers: each process opens the same fresh file and writes at once."""
    path, workers, per_worker = tmp_path / "shared.sqlite", 4, 50
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(worker), str(per_worker)],
                                  cwd=PROJECT_ROOT, stderr=subprocess.PIPE)
                 for worker in range(workers)]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    store = FeedbackStore(path)
    ids, x, y = store.labelled_inputs()
    assert len(ids) == len(set(ids.tolist())) == workers * per_worker
    assert np.bincount(y, minlength=workers).tolist() == [per_worker] * workers
    assert all((x[y == worker] == worker).all() for worker in range(workers))
