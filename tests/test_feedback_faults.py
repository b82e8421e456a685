"""The drawings store under pressure and faults, through the real app: a full quota, a read-only file,
a full disk, a flood from one client. Feedback answers with a sentence and the right status; predictions
and /api/health go on working, and health says what is wrong with the store."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import event

from deploy.local_servers import ServerMissing, start_postgres
from support import canvas_png, make_app
from training.mnist import load_mnist
from webapp.store.database import close_all

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def pngs():
    mnist = load_mnist()
    return [(canvas_png(mnist.x_test[index]), str(mnist.y_test[index])) for index in range(400)]


def make_client(database: Path, **config):
    return make_app(database, **config).test_client()


def post(client, png_and_label, path="/api/feedback"):
    png, label = png_and_label
    return client.post(path, data={"image": (io.BytesIO(png), "drawing.png"), "label": label},
                       content_type="multipart/form-data")


def test_a_full_quota_is_507_with_a_sentence_and_predictions_go_on(tmp_path, pngs):
    client = make_client(tmp_path / "drawings.sqlite", FEEDBACK_MAX_ROWS=2)
    assert [post(client, pngs[i]).status_code for i in range(2)] == [201, 201]
    refused = post(client, pngs[2])
    assert refused.status_code == 507
    assert "full" in refused.get_json()["error"] and "2 drawings" in refused.get_json()["error"]
    assert post(client, pngs[2], "/api/predict").status_code == 200
    health = client.get("/api/health")
    assert health.status_code == 200 and health.get_json()["store"]["status"] == "full"


def test_a_read_only_database_is_503_while_predictions_and_health_stay_200(tmp_path, pngs, immutable):
    database = tmp_path / "drawings.sqlite"
    assert post(make_client(database), pngs[0]).status_code == 201
    immutable(database)
    client = make_client(database)

    refused = post(client, pngs[1])
    assert refused.status_code == 503 and "read-only" in refused.get_json()["error"]
    assert post(client, pngs[1], "/api/predict").status_code == 200
    assert client.get("/api/drawings").get_json()["total"] == 1   # what is kept can still be read
    assert client.get("/drawings").status_code == 200
    health = client.get("/api/health")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    store = health.get_json()["store"]
    assert store["status"] == "failing" and "read-only" in store["problem"] and store["rows"] == 1


def test_a_full_disk_is_507_simulated_with_sqlites_page_limit(tmp_path, pngs, monkeypatch):
    """SQLite's own SQLITE_FULL, raised by capping the file at its size (no full disk can be made here)."""
    database = tmp_path / "drawings.sqlite"
    client = make_client(database)
    assert post(client, pngs[0]).status_code == 201
    engine = client.application.extensions["store"].database.engine
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA max_page_count = 1"))
    engine.dispose()   # every connection from now on is capped (SQLite keeps the current size as the cap)
    statuses = [post(client, pngs[i]) for i in range(1, 40)]
    refused = next(response for response in statuses if response.status_code != 201)
    assert refused.status_code == 507 and "disk is full" in refused.get_json()["error"]
    assert post(client, pngs[1], "/api/predict").status_code == 200


def test_a_one_client_flood_stays_under_the_quota_and_the_wal_under_its_limit(tmp_path, pngs):
    database, quota, wal_limit = tmp_path / "drawings.sqlite", 2 * MIB, 256 * 1024
    client = make_client(database, FEEDBACK_MAX_BYTES=quota, DATABASE_WAL_LIMIT=wal_limit)
    wal = Path(f"{database}-wal")
    statuses, largest_wal = [], 0
    for png_and_label in pngs:
        statuses.append(post(client, png_and_label).status_code)
        largest_wal = max(largest_wal, wal.stat().st_size)
    store = client.get("/api/health").get_json()["store"]
    kept = statuses.count(201)
    print(f"flood of {len(pngs)} posts: {kept} kept, {statuses.count(507)} refused with 507; "
          f"store {store['bytes']:,} bytes of {quota:,}; largest WAL {largest_wal:,} bytes (limit {wal_limit:,})")
    first_refusal = statuses.index(507)
    assert set(statuses) == {201, 507} and first_refusal > 0
    assert statuses[first_refusal:].count(201) <= 3   # once full, only a smaller drawing still fits now and then
    assert store["bytes"] <= quota and store["rows"] == kept and store["status"] == "full"
    assert largest_wal <= wal_limit + 64 * 1024   # a checkpoint's worth plus the post that passed it


def test_a_postgresql_server_that_goes_away_is_503_and_is_used_again_when_it_is_back(pngs):
    """The shared store's server stops under a running app (a real PostgreSQL of this test's own): drawings
    get a 503 sentence, predictions and health answer, and the first drawing after the restart is kept."""
    folder = tempfile.mkdtemp(prefix="digitdraw-postgres-outage-")
    try:
        server = start_postgres(folder, durable=False)
    except ServerMissing as missing:
        shutil.rmtree(folder, ignore_errors=True)
        (pytest.fail if os.environ.get("CI") else pytest.skip)(str(missing))
    try:
        client = make_client(server.url)
        assert post(client, pngs[0]).status_code == 201
        server.stop()
        refused = post(client, pngs[1])
        assert refused.status_code == 503 and "cannot be reached" in refused.get_json()["error"]
        assert post(client, pngs[1], path="/api/predict").status_code == 200
        health = client.get("/api/health")
        assert health.status_code == 200 and health.get_json()["store"]["status"] == "failing"
        server = start_postgres(folder, server.port, durable=False)
        assert post(client, pngs[2]).status_code == 201
        assert client.get("/api/drawings").get_json()["total"] == 2
    finally:
        close_all()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
