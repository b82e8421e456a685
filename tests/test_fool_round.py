"""Fool the model, teach it, test it again, over HTTP with the real app, shipped models, real MNIST and a SQLite
file (and PostgreSQL where marked): the fool round's answers with the heat map, the round's fixed held-out
fifth on a real fine-tuning run's record, the replay of old and new versions and the version diff, each
checked against the classifiers themselves (webapp/http/rounds.py, version_compare.py)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from support import TEACHER_TOKEN, canvas_png, make_app
from support.versions import publish_network_as
from webapp.inference.classifier import Classifier
from webapp.store.held_out import round_turn_held_out
from webapp.store.versions import ModelVersions

TEACHER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}
STUDENT = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture()
def app(database):
    return make_app(database())


def send(client, round_id: int, digit_image: np.ndarray, device: int = 1, **fields):
    """A student's drawing from device `device` (its own address on the class's wifi)."""
    return client.post(f"/api/rounds/{round_id}/drawings",
                       data={"image": (io.BytesIO(canvas_png(digit_image)), "drawing.png"), **fields},
                       content_type="multipart/form-data", environ_base={"REMOTE_ADDR": f"10.1.0.{device}"})


def fool_round(client, **body) -> int:
    started = client.post("/api/rounds", json={"kind": "digit", "digit": 3, "fool": True, **body}, headers=TEACHER)
    assert started.status_code == 201, started.get_json()
    return started.get_json()["id"]


def test_a_fool_round_says_at_once_whether_the_drawing_fooled_the_model_and_where_it_looked(app, mnist):
    client = app.test_client()
    round_id = fool_round(client)
    assert client.get("/api/rounds/current").get_json()["prompt"] == "Fool the model with a 3"
    served = app.extensions["models"].ordered()[0]
    threes = np.flatnonzero(mnist.y_test == 3)[:1]
    sevens = np.flatnonzero(mnist.y_test == 7)[:1]   # a 7 sent as a "3": the model reads 7, so it is fooled
    plain = send(client, round_id, mnist.x_test[threes[0]]).get_json()
    tricked = send(client, round_id, mnist.x_test[sevens[0]]).get_json()
    assert plain["right"] is True and tricked["right"] is False and tricked["digit"] == 7 and tricked["label"] == 3
    for answer in (plain, tricked):
        saliency = np.array(answer["saliency"])
        assert saliency.shape == (28, 28) and 0 <= saliency.min() and saliency.max() == pytest.approx(1.0, abs=1e-3)
        assert answer["input"].startswith("data:image/png;base64,") and answer["model"] == served.name
    # the heat map lights ink only: where the model looked is where the student drew
    assert (np.array(tricked["saliency"]) > 0).sum() > 10
    listed = client.get(f"/api/rounds/{round_id}/drawings", headers=TEACHER).get_json()["items"]
    assert [(item["label"], item["right"]) for item in listed] == [(3, True), (3, False)]
    # an ordinary round answers without the heat map
    client.post(f"/api/rounds/{round_id}/end", headers=TEACHER)
    other = client.post("/api/rounds", json={"kind": "digit", "digit": 3}, headers=TEACHER).get_json()
    assert other["fool"] is False and other["prompt"] == "Draw a 3"
    answer = send(client, other["id"], mnist.x_test[np.flatnonzero(mnist.y_test == 3)[1]]).get_json()
    assert "saliency" not in answer


@pytest.mark.parametrize("fool", ["yes", 1, None])
def test_fool_must_be_true_or_false(client, fool):
    response = client.post("/api/rounds", json={"kind": "any", "fool": fool}, headers=TEACHER)
    assert response.status_code == 400 and "`fool`" in response.get_json()["error"]


def test_a_round_holds_out_every_fifth_drawing_from_its_third_and_hiding_one_moves_none(app, mnist):
    client = app.test_client()
    round_id = fool_round(client)
    threes = np.flatnonzero(mnist.y_test == 3)[:12]
    ids = [send(client, round_id, mnist.x_test[i], device=i % 6).get_json()["id"] for i in threes[:6]]
    assert client.delete(f"/api/rounds/{round_id}/drawings/{ids[3]}", headers=TEACHER).status_code == 204
    ids += [send(client, round_id, mnist.x_test[i], device=i % 6).get_json()["id"] for i in threes[6:]]
    held = {item["id"]: item["held_out"] for item in
            client.get(f"/api/rounds/{round_id}/drawings", headers=TEACHER).get_json()["items"]}
    expected = {drawing_id: round_turn_held_out(turn) for turn, drawing_id in enumerate(ids, start=1)}
    del expected[ids[3]]
    assert held == expected and sum(held.values()) == 2   # turns 3 and 8 (the hidden 4th kept its turn)
    # a resend of a drawing whose answer was lost takes no new turn
    again = send(client, round_id, mnist.x_test[threes[-1]], device=threes[-1] % 6)
    assert again.status_code == 200 and again.get_json()["already"]
    exported = np.load(io.BytesIO(client.get(f"/api/rounds/{round_id}/export.npz", headers=TEACHER).data))
    assert dict(zip(exported["ids"].tolist(), exported["held_out"].tolist())) == {k: int(v) for k, v in held.items()}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_teaching_never_trains_on_the_rounds_fifth_and_the_replay_tells_old_from_new(app, mnist):
    pytest.importorskip("tensorflow")
    from training.cli import finetune_command

    client = app.test_client()
    round_id = fool_round(client, kind="any")
    indexes = np.arange(2000, 2030)
    ids = [send(client, round_id, mnist.x_test[i], device=i % 8, label=str(int(mnist.y_test[i]))).get_json()["id"]
           for i in indexes]
    held_in_round = {drawing_id for turn, drawing_id in enumerate(ids, start=1) if round_turn_held_out(turn)}
    assert len(held_in_round) == 6
    run = app.test_cli_runner().invoke(finetune_command, ["--model", "mlp", "--json", "--epochs", "1",
                                                          "--replay", "500"])
    assert run.exit_code == 0, run.output
    result = json.loads(run.stdout)
    version = ModelVersions(app.extensions["store"]).of_model("mlp")[0]
    assert version.number == 2 and version.id == result["version_id"]
    # the run's record: the round's fifth is held out and none of it trained on
    assert held_in_round <= set(version.trained_on["held_out_ids"])
    assert not held_in_round & set(version.trained_on["drawing_ids"])
    assert set(version.trained_on["drawing_ids"]) == set(ids) - set(version.trained_on["held_out_ids"])

    replay = client.get(f"/api/rounds/{round_id}/replay?model=mlp", headers=TEACHER)
    assert replay.status_code == 200, replay.get_json()
    body = replay.get_json()
    assert body["complete"] and body["old"]["number"] == 1 and body["new"]["number"] == 2
    versions = ModelVersions(app.extensions["store"])
    new = Classifier("mlp", versions.files(version.id)["tflite"], version.report)
    old = Classifier("mlp", versions.files(body["old"]["id"])["tflite"], versions.get(body["old"]["id"]).report)
    # the stored drawings, as the replay reads them (the PNG through the app's preprocessing, not MNIST's pixels)
    exported = np.load(io.BytesIO(client.get(f"/api/rounds/{round_id}/export.npz", headers=TEACHER).data))
    stored = dict(zip(exported["ids"].tolist(), exported["x"]))
    pixels = np.stack([stored[drawing_id] for drawing_id in ids]).astype(np.float32) / 255.0
    old_digits, new_digits = old.predict(pixels).argmax(axis=1), new.predict(pixels).argmax(axis=1)
    labels = mnist.y_test[indexes]
    by_id = {item["id"]: item for item in body["drawings"]}
    for drawing_id, label, was, now in zip(ids, labels, old_digits, new_digits):
        item = by_id[drawing_id]
        assert (item["label"], item["old"], item["new"]) == (label, was, now)
        assert item["split"] == ("held_out" if drawing_id in held_in_round else "learnt")
    held = [i for i, drawing_id in enumerate(ids) if drawing_id in held_in_round]
    assert body["groups"]["held_out"] == {"drawings": 6, "old_right": int((old_digits[held] == labels[held]).sum()),
                                          "new_right": int((new_digits[held] == labels[held]).sum())}
    assert body["groups"]["learnt"]["drawings"] == 24 and body["groups"]["not_learnt"]["drawings"] == 0
    assert body["mnist_test"] == {"old": versions.get(body["old"]["id"]).report["test_accuracy"],
                                  "new": version.report["test_accuracy"]}


def test_the_replay_shows_the_class_s_earlier_rounds_before_and_after(app, mnist):
    client = app.test_client()
    first = fool_round(client, kind="any")
    earlier = np.arange(100, 110)
    for i in earlier:
        send(client, first, mnist.x_test[i], device=i % 5, label=str(int(mnist.y_test[i])))
    client.post(f"/api/rounds/{first}/end", headers=TEACHER)
    second = fool_round(client, digit=4)
    fours = np.flatnonzero(mnist.y_test == 4)[:5]
    for i in fours:
        send(client, second, mnist.x_test[i], device=i % 5)
    assert client.get(f"/api/rounds/{second}/replay?model=mlp", headers=TEACHER).status_code == 409   # one version
    publish_network_as(app.extensions["store"], "mlp", "mlp-wide")
    body = client.get(f"/api/rounds/{second}/replay?model=mlp", headers=TEACHER).get_json()
    registry = app.extensions["models"].classifiers
    pixels = mnist.x_test[earlier].astype(np.float32) / 255.0
    right = {name: int((registry[name].predict(pixels).argmax(axis=1) == mnist.y_test[earlier]).sum())
             for name in ("mlp", "mlp-wide")}
    assert body["earlier_rounds"] == [{"id": first, "prompt": "Fool the model with any digit", "kind": "any",
                                       "digit": None, "fool": True,
                                       "drawings": 10, "old_right": right["mlp"], "new_right": right["mlp-wide"]}]
    assert body["all"]["drawings"] == 5 and body["groups"]["not_learnt"]["drawings"] == 4
    # The round's report still counts each drawing once per model: the served version's answers only.
    report = client.get(f"/api/rounds/{second}", headers=TEACHER).get_json()
    assert {model["model"]: model["read"] for model in report["models"]} == {"cnn": 5, "mlp-wide": 5, "mlp": 5}
    served_mlp = registry["mlp"].predict(mnist.x_test[fours].astype(np.float32) / 255.0).argmax(axis=1)
    mlp = next(model for model in report["models"] if model["model"] == "mlp")
    assert mlp["right"] == int((served_mlp == 4).sum())
    tiles = client.get(f"/api/rounds/{second}/drawings", headers=TEACHER).get_json()["items"]
    assert [tile["answers"]["mlp"] for tile in tiles] == served_mlp.tolist()


def test_the_version_diff_lists_exactly_the_drawings_that_changed(app, mnist):
    client = app.test_client()
    store = app.extensions["store"]
    from webapp.store.drawings import NewDrawing
    indexes = np.arange(0, 600)
    labels = mnist.y_test[indexes].copy()
    labels[::7] = (labels[::7] + 1) % 10   # some labels the models will get wrong either way
    ids = store.add(*[NewDrawing(image=b"png", pixels=mnist.x_test[i], label=int(label))
                      for i, label in zip(indexes, labels)])
    version = publish_network_as(store, "mlp", "mlp-wide")
    registry = app.extensions["models"].classifiers
    pixels = mnist.x_test[indexes].astype(np.float32) / 255.0
    old, new = (registry[name].predict(pixels).argmax(axis=1) for name in ("mlp", "mlp-wide"))
    expected = {"right_to_wrong": {ids[i] for i in range(len(ids)) if old[i] == labels[i] != new[i]},
                "wrong_to_right": {ids[i] for i in range(len(ids)) if old[i] != labels[i] == new[i]}}
    assert expected["right_to_wrong"] and expected["wrong_to_right"]
    first = ModelVersions(store).get(version.parent_id)
    body = client.get(f"/api/models/mlp/versions/diff?from={first.id}&to={version.id}", headers=TEACHER).get_json()
    assert body["complete"] is False and body["left"] == 2 * 600 - 2 * 500   # read in bounded steps
    while not body["complete"]:
        body = client.get(f"/api/models/mlp/versions/diff?from={first.id}&to={version.id}",
                          headers=TEACHER).get_json()
    for direction in ("right_to_wrong", "wrong_to_right"):
        assert {item["id"] for item in body[direction]} == expected[direction]
        for item in body[direction]:
            i = ids.index(item["id"])
            assert (item["label"], item["old"], item["new"]) == (labels[i], old[i], new[i])
    for row in body["per_digit"]:
        mine = labels == row["digit"]
        assert row["read"] == mine.sum() and row["old_right"] == (old[mine] == row["digit"]).sum()
        assert row["right_to_wrong"] == sum(1 for i in expected["right_to_wrong"]
                                            if labels[ids.index(i)] == row["digit"])
    # the other way round, the lists swap
    back = client.get(f"/api/models/mlp/versions/diff?from={version.id}&to={first.id}", headers=TEACHER).get_json()
    assert {item["id"] for item in back["wrong_to_right"]} == expected["right_to_wrong"]


@pytest.mark.parametrize("query, status", [("from=1&to=1", 400), ("from=x", 400), ("from=99999", 404),
                                           ("to=0", 400), ("", 409)])
def test_a_version_diff_that_makes_no_sense_is_a_clear_4xx(client, query, status):
    response = client.get(f"/api/models/mlp/versions/diff?{query}", headers=TEACHER)
    assert response.status_code == status and response.get_json()["error"]
    assert client.get("/api/models/nope/versions/diff", headers=TEACHER).status_code == 404


def test_a_student_cannot_teach_replay_compare_mark_unfair_or_roll_back(app, mnist):
    client = app.test_client()
    round_id = fool_round(client)
    sent = send(client, round_id, mnist.x_test[np.flatnonzero(mnist.y_test == 3)[0]]).get_json()["id"]
    version = publish_network_as(app.extensions["store"], "mlp", "mlp-wide")
    refused = [client.post(f"/api/rounds/{round_id}/teach", json={}, headers=STUDENT),
               client.get(f"/api/rounds/{round_id}/replay"),
               client.get("/api/models/mlp/versions/diff"),
               client.delete(f"/api/rounds/{round_id}/drawings/{sent}", headers=STUDENT),
               client.post(f"/api/models/mlp/versions/{version.parent_id}/serve", headers=STUDENT)]
    assert [response.status_code for response in refused] == [403] * 5
    assert all(response.get_json()["error"] for response in refused)


def test_teaching_a_round_without_drawings_or_an_unknown_one_is_refused(client):
    round_id = fool_round(client)
    assert client.post(f"/api/rounds/{round_id}/teach", headers=TEACHER).status_code == 409
    assert client.post("/api/rounds/999/teach", headers=TEACHER).status_code == 404
    assert client.post(f"/api/rounds/{round_id}/teach", data="[1]", content_type="application/json",
                       headers=TEACHER).status_code == 400
    assert client.post(f"/api/rounds/{round_id}/teach", json={"model": "nope"},
                       headers=TEACHER).status_code == 404
