"""`flask finetune` end to end on small stores: the real shipped model, real MNIST, a real SQLite file.

The classic mlp keeps these runs to seconds (`--epochs`, `--replay` and `--limit` are the knobs)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from support import TEACHER_TOKEN, canvas_png, make_app, post_image
from training.cli import finetune_command
from webapp.store.drawings import NewDrawing
from webapp.store.versions import ModelVersions

pytest.importorskip("tensorflow")

BEARER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}


def keep_drawings(app, mnist, indexes, labels) -> None:
    """MNIST test digits kept as if students had labelled them (`labels`: what they said)."""
    store = app.extensions["store"]
    store.add(*[NewDrawing(image=cv2.imencode(".png", mnist.x_test[i])[1].tobytes(), pixels=mnist.x_test[i],
                           label=int(label)) for i, label in zip(indexes, labels)])


def run_finetune(app, *options) -> dict:
    result = app.test_cli_runner().invoke(finetune_command, args=["--model", "mlp", "--json", *options])
    assert result.exit_code == 0, result.output + (result.stderr or "")
    assert "[1/5]" in result.stderr and "[5/5]" in result.stderr   # progress while it runs
    return json.loads(result.stdout)   # nothing but the result on standard output


def test_corrections_that_agree_with_mnist_are_published_as_a_new_version(tmp_path, mnist):
    app = make_app(tmp_path / "drawings.sqlite")
    indexes = np.arange(300, 420)
    keep_drawings(app, mnist, indexes, mnist.y_test[indexes])
    result = run_finetune(app, "--epochs", "1", "--replay", "500")
    assert set(result) >= {"model", "version", "seconds", "drawings_used", "before", "after", "published"}
    assert result["published"] and result["version"] == 2 and result["model"] == "mlp"
    assert result["drawings_used"] + result["drawings_held_out"] == 120 and result["drawings_held_out"] > 0
    for scores in (result["before"], result["after"]):
        assert set(scores) == {"held_out_drawings", "mnist_validation", "mnist_test"}
    assert result["after"]["mnist_test"] >= result["before"]["mnist_test"] - 0.001

    versions = ModelVersions(app.extensions["store"]).of_model("mlp")
    assert [(v.number, v.current) for v in versions] == [(2, True), (1, False)]
    new = versions[0]
    assert new.parent_id == versions[1].id and new.trained_on["drawings"] == result["drawings_used"]
    assert new.report["finetune"]["before"] == result["before"]
    assert abs(new.report["test_accuracy"] - result["after"]["mnist_test"]) < 0.0005
    assert new.report["calibration"]["temperature"] > 0
    # The web app serves it, with its own Look inside.
    client = app.test_client()
    app.extensions["live_models"].interval = 0.0
    served = {model["name"]: model["version"] for model in client.get("/api/models").json}
    assert served["mlp"]["number"] == 2
    assert client.get("/api/explain/mlp").status_code == 200


def test_deliberately_wrong_labels_are_refused_and_the_old_version_stays(tmp_path, mnist):
    app = make_app(tmp_path / "drawings.sqlite")
    indexes = np.arange(0, 300)
    keep_drawings(app, mnist, indexes, (mnist.y_test[indexes] + 1) % 10)   # every label one off
    result = run_finetune(app, "--epochs", "4", "--replay", "0")
    assert not result["published"] and result["version"] is None and result["reason"]
    assert result["after"]["held_out_drawings"] is not None
    versions = ModelVersions(app.extensions["store"]).of_model("mlp")
    assert [(v.number, v.current) for v in versions] == [(1, True)]


def test_a_class_of_eight_with_twenty_drawings_can_fine_tune(tmp_path, mnist):
    """20 drawings by 8 students: 4 held out, from 4 students and 4 digits; the version records them."""
    app = make_app(tmp_path / "drawings.sqlite")
    indexes = np.arange(500, 520)
    store = app.extensions["store"]
    store.add(*[NewDrawing(image=cv2.imencode(".png", mnist.x_test[i])[1].tobytes(), pixels=mnist.x_test[i],
                           label=int(mnist.y_test[i]), writer=f"student-{n % 8}") for n, i in enumerate(indexes)])
    result = run_finetune(app, "--epochs", "1", "--replay", "500")
    assert (result["drawings_used"], result["drawings_held_out"], result["students"]) == (16, 4, 8)
    assert result["held_out_learnt_before"] == 0
    if result["published"]:
        trained_on = ModelVersions(store).of_model("mlp")[0].trained_on
        assert len(trained_on["held_out_ids"]) == 4 and len(trained_on["drawing_ids"]) == 16
        assert not set(trained_on["held_out_ids"]) & set(trained_on["drawing_ids"])
        # The public listing names how many, not which.
        listed = app.test_client().get("/api/models/mlp/versions").json["versions"][0]["trained_on"]
        assert "drawing_ids" not in listed and "held_out_ids" not in listed and listed["drawings"] == 16
    else:
        assert "drawings" in result["reason"] or "MNIST" in result["reason"]


def test_too_few_drawings_is_one_sentence_and_exit_status_1(tmp_path, mnist):
    app = make_app(tmp_path / "drawings.sqlite")
    keep_drawings(app, mnist, range(19), mnist.y_test[:19])
    result = app.test_cli_runner().invoke(finetune_command, args=["--model", "mlp"])
    assert result.exit_code == 1 and "at least 20 collected drawings and there are 19: collect 1 more" in result.stderr


def test_a_poison_the_mnist_guard_lets_through_is_refused_when_one_device_sent_it(tmp_path, mnist):
    """One device teaches that a continental 7 (with a bar) is a 1: 40 drawings. MNIST's 7s rarely have a bar,
    so MNIST test accuracy does not catch it, and the held-out drawings (its own among them) even improve: a
    run the teacher lets through publishes it. By default the run is refused, naming the device's share."""
    from benchmarks.styled_digits import styled_digits

    app = make_app(tmp_path / "drawings.sqlite")
    client = app.test_client()
    honest = [(canvas_png(mnist.x_test[i]), int(mnist.y_test[i])) for i in range(3000, 3020)]
    for n, (png, label) in enumerate(honest):   # a class of eight
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n % 8 + 1}"
        assert post_image(client, png, "/api/feedback", label=str(label)).status_code == 201
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    for drawing in styled_digits("bar-7", 40, seed=99):
        assert post_image(client, drawing.png, "/api/feedback", label="1").status_code == 201

    readiness = client.get("/api/finetune/readiness", headers=BEARER).json
    assert readiness["one_device"] == [{"digit": 1, "drawings": 40 + sum(label == 1 for _, label in honest),
                                        "from_one_device": 40}]
    refused = client.post("/api/finetune", headers=BEARER, json={"model": "mlp"})
    assert refused.status_code == 409 and "One device sent 40 of the" in refused.json["error"]
    result = app.test_cli_runner().invoke(finetune_command, args=["--model", "mlp", "--epochs", "1",
                                                                  "--replay", "500"])
    assert result.exit_code == 1 and "One device sent 40" in result.stderr

    let_through = run_finetune(app, "--epochs", "1", "--replay", "500", "--allow-one-device")
    assert let_through["published"], let_through["reason"]   # what the MNIST guard alone would have done
    assert let_through["before"]["mnist_test"] - let_through["after"]["mnist_test"] <= 0.001
