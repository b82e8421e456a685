"""Model versions in the store: the shipped models as version 1, publishing, rolling back, every request of
the app following the current version, and damaged or half-written versions never served."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from support import TEACHER_TOKEN, digit_pngs, make_app, post_image
from support.versions import MODEL_DIR, files_of, publish_network_as, report_of
from webapp.store.versions import ModelVersions

BEARER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}


@pytest.fixture()
def app(database):
    """Every test here runs on a SQLite file and on PostgreSQL (tests/conftest.py's `database`)."""
    return make_app(database())


@pytest.fixture(scope="module")
def unsure() -> bytes:
    """A 1 drawn as its outline: the two dense networks read it differently (8 at 94 % and at 49 %), so
    whichever network serves shows in the probabilities; a clean digit both read at 99.9999 %."""
    from benchmarks.styled_digits import styled_digits

    return styled_digits("outline-1", 1, seed=1)[0].png


@pytest.fixture()
def live_app(database):
    """The app looking for new versions on every request (no interval)."""
    return make_app(database(), MODEL_RELOAD_SECONDS=0.0)


def publish_other_network(app, as_model: str, from_model: str):
    return publish_network_as(app.extensions["store"], as_model, from_model)


def probabilities(client, png: bytes, model: str) -> np.ndarray:
    response = post_image(client, png, query=f"?model={model}")
    assert response.status_code == 200, response.json
    return np.array(response.json["probabilities"])


def test_the_shipped_model_is_listed_as_version_1_and_a_listing_writes_nothing(client, app):
    assert client.get("/api/models").json[0]["version"]["id"] is None
    assert client.get("/api/models").json[0]["version"]["origin"] == "shipped"
    listed = client.get("/api/models/mlp/versions").json
    assert listed["model"] == "mlp" and len(listed["versions"]) == 1
    shipped = listed["versions"][0]
    assert (shipped["id"], shipped["number"], shipped["current"], shipped["origin"]) == (None, 1, True, "shipped")
    assert shipped["sha256"] == app.extensions["models"].classifiers["mlp"].sha256
    assert not Path(app.config["DATABASE"]).exists()   # a public GET never writes

    ModelVersions(app.extensions["store"]).register_folder(MODEL_DIR, ["mlp"])   # as a teacher's action does
    stored = client.get("/api/models/mlp/versions").json
    first = stored["versions"][0]
    assert first["number"] == 1 and first["current"] and first["parent"] is None and first["id"] is not None
    assert first["origin"] == "shipped" and first["created"]   # kept now, and still the shipped one
    assert first["sha256"] == shipped["sha256"] and stored["current"] == first["id"]
    ModelVersions(app.extensions["store"]).register_folder(MODEL_DIR, ["mlp"])
    assert client.get("/api/models/mlp/versions").json["versions"] == [first]   # registered twice, kept once


def test_a_fine_tuned_version_says_so_and_the_shipped_one_stays_shipped(client, app):
    versions = ModelVersions(app.extensions["store"])
    versions.register_folder(MODEL_DIR, ["mlp"])
    report = {**report_of("mlp-wide"), "finetune": {"before": {}, "after": {}}}   # as training/finetune.py writes
    tuned = versions.publish("mlp", files_of("mlp-wide"), report, {"source": "fine-tuned on collected drawings"},
                             parent_id=versions.current()["mlp"].id)
    listed = client.get("/api/models/mlp/versions").json["versions"]
    assert [(v["number"], v["origin"]) for v in listed] == [(2, "fine-tuned"), (1, "shipped")]
    assert listed[0]["created"] == tuned.created
    served = {model["name"]: model["version"] for model in client.get("/api/models").json}
    assert served["mlp"]["origin"] == "fine-tuned"


def test_folder_files_that_do_not_belong_together_are_not_kept_as_a_version(app, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for suffix, content in files_of("mlp").items():
        (folder / f"mlp.{suffix}").write_bytes(content)
    (folder / "mlp.json").write_text(json.dumps(report_of("mlp-wide")))   # train.py half way through writing
    versions = ModelVersions(app.extensions["store"])
    versions.register_folder(folder, ["mlp"])
    assert versions.of_model("mlp") == []


def test_a_published_version_is_served_at_once_and_a_roll_back_too(live_app, unsure):
    client = live_app.test_client()
    before = probabilities(client, unsure, "mlp")
    version = publish_other_network(live_app, "mlp", "mlp-wide")
    assert version.number == 2 and version.current
    after = probabilities(client, unsure, "mlp")
    assert np.allclose(after, probabilities(client, unsure, "mlp-wide"), atol=1e-6)
    assert not np.allclose(after, before, atol=1e-4)
    served = {model["name"]: model["version"] for model in client.get("/api/models").json}
    assert served["mlp"]["number"] == 2 and served["mlp"]["parent"] is not None

    first = client.get("/api/models/mlp/versions").json["versions"][-1]
    rolled = client.post(f"/api/models/mlp/versions/{first['id']}/serve", headers=BEARER)
    assert rolled.status_code == 200 and rolled.json["number"] == 1 and rolled.json["current"]
    assert np.allclose(probabilities(client, unsure, "mlp"), before, atol=1e-6)
    listed = client.get("/api/models/mlp/versions").json["versions"]
    assert [(v["number"], v["current"]) for v in listed] == [(2, False), (1, True)]


def test_another_worker_follows_a_publish_within_its_reload_interval(database, unsure):
    shared = database()
    publisher, worker = make_app(shared), make_app(shared, MODEL_RELOAD_SECONDS=0.0)
    client = worker.test_client()
    before = probabilities(client, unsure, "mlp")
    publish_other_network(publisher, "mlp", "mlp-wide")
    assert not np.allclose(probabilities(client, unsure, "mlp"), before, atol=1e-4)
    assert worker.extensions["live_models"].served["mlp"] == \
        ModelVersions(publisher.extensions["store"]).current()["mlp"].id


def test_look_inside_follows_the_served_version(live_app, seven):
    client = live_app.test_client()
    layers_before = client.get("/api/explain/mlp").json
    publish_other_network(live_app, "mlp", "mlp-wide")
    post_image(client, seven, query="?model=mlp")
    layers_after = client.get("/api/explain/mlp").json
    assert layers_after != layers_before   # 784-150-50-10 now, not 784-50-50-10
    assert "150" in json.dumps(layers_after) and "150" not in json.dumps(layers_before)


def test_a_damaged_version_is_never_served_and_the_previous_one_stays(live_app, seven, caplog):
    client = live_app.test_client()
    before = probabilities(client, seven, "mlp")
    live_app.config["MODEL_RELOAD_SECONDS"] = 3600.0   # publish without this worker loading it yet
    live_app.extensions["live_models"].interval = 3600.0
    version = publish_other_network(live_app, "mlp", "mlp-wide")
    content = live_app.extensions["store"].read(
        "SELECT content FROM model_files WHERE version_id = :id AND suffix = 'tflite'", {"id": version.id})[0][0]
    live_app.extensions["store"].transaction(lambda connection: connection.execute(text(   # zeroed on disk
        "UPDATE model_files SET content = :zeros WHERE version_id = :id AND suffix = 'tflite'"),
        {"zeros": bytes(len(content)), "id": version.id}))
    live_app.extensions["live_models"].interval = 0.0
    assert np.allclose(probabilities(client, seven, "mlp"), before, atol=1e-6)
    assert "is not served" in caplog.text and "sha256" in caplog.text
    first = ModelVersions(live_app.extensions["store"]).of_model("mlp")[-1]
    client.post(f"/api/models/mlp/versions/{first.id}/serve", headers=BEARER)
    refused = client.post(f"/api/models/mlp/versions/{version.id}/serve", headers=BEARER)   # the teacher tries it
    assert refused.status_code == 409 and "cannot be served" in refused.json["error"]
    assert ModelVersions(live_app.extensions["store"]).current()["mlp"].id == first.id


def test_a_version_without_its_model_file_is_never_served(live_app, seven):
    client = live_app.test_client()
    before = probabilities(client, seven, "mlp")
    versions = ModelVersions(live_app.extensions["store"])
    versions.register_folder(MODEL_DIR, ["mlp"])
    def half_written(connection):   # a row whose files never arrived
        version_id = connection.execute(text(
            "INSERT INTO model_versions (model, number, created, parent_id, sha256, trained_on, report)"
            " VALUES ('mlp', 9, '2026-11-23T00:00:00+00:00', NULL, 'ab', '{}', '{}') RETURNING id")).scalar_one()
        connection.execute(text("UPDATE current_versions SET version_id = :id WHERE model = 'mlp'"), {"id": version_id})

    live_app.extensions["store"].transaction(half_written)
    assert np.allclose(probabilities(client, seven, "mlp"), before, atol=1e-6)


def test_publishing_needs_the_served_and_the_keras_file(app):
    with pytest.raises(ValueError, match="keras"):
        ModelVersions(app.extensions["store"]).publish("mlp", {"tflite": b"x"}, {}, {}, None)


def test_the_same_file_published_twice_is_one_version(app):
    versions = ModelVersions(app.extensions["store"])
    versions.register_folder(MODEL_DIR, ["mlp"])
    first = versions.current()["mlp"]
    again = versions.publish("mlp", files_of("mlp"), report_of("mlp"), {}, parent_id=first.id)
    assert again.id == first.id and len(versions.of_model("mlp")) == 1


@pytest.mark.parametrize("headers, path, status", [
    ({}, "/api/models/mlp/versions/1/serve", 403),                    # a student
    (BEARER, "/api/models/mlp/versions/999/serve", 404),              # no such version
    (BEARER, "/api/models/nope/versions/1/serve", 404),               # no such model
    (BEARER, "/api/models/mlp/versions/99999999999999999999999/serve", 404),   # no id SQLite can hold
    ({}, "/api/finetune", 403),
])
def test_choosing_versions_and_fine_tuning_are_the_teachers(client, headers, path, status):
    client.get("/api/models/mlp/versions")
    response = client.post(path, headers=headers, json={"model": "mlp"})
    assert response.status_code == status and response.json["error"]


def test_a_version_of_another_model_cannot_be_served_as_this_one(client, app):
    ModelVersions(app.extensions["store"]).register_folder(MODEL_DIR, ["cnn"])
    cnn = client.get("/api/models/cnn/versions").json["versions"][0]
    response = client.post(f"/api/models/mlp/versions/{cnn['id']}/serve", headers=BEARER)
    assert response.status_code == 404


@pytest.mark.parametrize("payload", [[], {"model": 3}, {"model": "nope"}, {"model": "mlp", "epochs": 0},
                                     {"model": "mlp", "replay": "lots"}, {"model": "mlp", "epochs": True}])
def test_a_bad_fine_tuning_request_is_a_4xx_sentence(client, payload):
    response = client.post("/api/finetune", headers=BEARER, json=payload)
    assert 400 <= response.status_code < 500 and response.json["error"]


def test_the_model_versions_do_not_count_against_the_drawings_quota(app):
    store = app.extensions["store"]
    ModelVersions(store).register_folder(MODEL_DIR, ["cnn", "mlp", "mlp-wide"])
    rows, used = store.usage()
    assert rows == 0 and used < 1024 * 1024   # the versions' ~12 MB of files are not drawings


def test_the_drawings_page_shows_each_version_on_the_drawings_it_read(live_app, mnist):
    client = live_app.test_client()
    seven, another_seven = digit_pngs(mnist, 7, 2)
    assert post_image(client, seven, path="/api/feedback", label="7", model="mlp").status_code == 201
    publish_other_network(live_app, "mlp", "mlp-wide")
    assert post_image(client, another_seven, path="/api/feedback", label="7", model="mlp").status_code == 201
    page = client.get("/drawings").get_data(as_text=True)
    assert "Each model version on the drawings it read" in page
    assert "version 2 (served)" in page and "version 1" in page   # the shipped file read the first drawing


def test_before_the_first_fine_tuning_run_there_is_no_run_to_show(client):
    answer = client.get("/api/finetune", headers=BEARER)
    assert answer.status_code == 204 and answer.data == b""
