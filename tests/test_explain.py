"""POST /api/explain on the real app with every shipped model and its explain files, and the two honesty checks
on real MNIST test digits: deleting the most salient ink hurts far more than deleting ink at random, and a
digit's nearest training digits in the model's feature space mostly carry its label."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_explain import deletion_drops, neighbour_agreement
from support import canvas_png, post_image
from webapp import PROJECT_ROOT
from webapp.inference.classifier import ModelRegistry
from webapp.inference.explainer import INK, load_explainers, log_odds

MODELS = ["cnn", "mlp", "mlp-wide"]
PROJECT_MODEL_DIR = PROJECT_ROOT / "model"


@pytest.fixture(scope="module")
def explainers():
    registry = ModelRegistry.from_folder(PROJECT_MODEL_DIR)
    explainers, missing = load_explainers(PROJECT_MODEL_DIR, {name: registry.get(name).sha256 for name in MODELS})
    assert missing == {}
    return explainers


@pytest.mark.parametrize("model", MODELS)
def test_the_answer_has_every_field_for_each_shipped_model(client, seven, model, explainers):
    response = post_image(client, seven, "/api/explain", model=model)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"digit", "confidence", "probabilities", "model", "target", "input", "stages", "saliency",
                         "evidence", "layers", "neighbours", "filters"}
    assert body["digit"] == 7 and body["target"] == 7 and body["model"] == model
    assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-4
    assert body["input"].startswith("data:image/png;base64,")
    names = [stage["name"] for stage in body["stages"]]
    assert names[0] == "decoded" and names[-1] == "centred by mass in 28x28"
    assert {"ink", "cropped, specks removed", "longest side 20 pixels"} <= set(names)
    assert all(stage["caption"].endswith(".") and stage["image"].startswith("data:image/png")
               for stage in body["stages"])
    saliency = np.asarray(body["saliency"])
    assert saliency.shape == (28, 28) and saliency.min() >= 0 and saliency.max() == 1 and body["evidence"] >= 0.1
    described = explainers[model].layers
    assert [(layer["name"], layer["kind"], layer["shape"]) for layer in body["layers"]] == \
        [(layer["name"], layer["kind"], layer["shape"]) for layer in described]
    assert body["layers"][-1]["shape"] == [10]
    assert len(body["neighbours"]) == 8
    similarities = [neighbour["similarity"] for neighbour in body["neighbours"]]
    assert similarities == sorted(similarities, reverse=True)
    assert all(neighbour["label"] in range(10) for neighbour in body["neighbours"])
    if model == "cnn":
        assert body["filters"]["count"] == 32 and body["filters"]["layer"] == described[1]["name"]
    else:
        assert body["filters"] is None


def test_the_layer_list_is_what_the_model_file_computes_in_order(mnist, explainers):
    """Each listed layer's activation, as the explain file's layer_outputs signature computes it, has the
    listed shape; the first is the input reshaped, the last the ten scores of the served model."""
    registry = ModelRegistry.from_folder(PROJECT_MODEL_DIR)
    pixels = mnist.x_test[0].astype(np.float32) / 255
    for name in MODELS:
        layers = explainers[name].layer_outputs(pixels)
        assert [layer.activation.shape for layer in layers] == [tuple(layer.shape) for layer in layers]
        scores = layers[-1].activation
        assert np.allclose(scores / scores.sum(), registry.get(name).predict(pixels[None])[0], atol=1e-5)


def test_the_explain_files_score_exactly_like_the_served_model(mnist, explainers):
    """The logits the saliency is measured on give the probabilities the served .tflite gives."""
    registry = ModelRegistry.from_folder(PROJECT_MODEL_DIR)
    pixels = mnist.x_test[:20].astype(np.float32) / 255
    for name in MODELS:
        logits, _ = explainers[name].scores(pixels)
        scores = 1 / (1 + np.exp(-logits)) if explainers[name].output_activation == "sigmoid" else np.exp(logits)
        assert np.allclose(scores / scores.sum(axis=1, keepdims=True), registry.get(name).predict(pixels), atol=1e-5)


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_log_odds_are_those_of_the_probability_the_page_shows(activation):
    logits = np.array([[2.0, -1.0, 0.5, 3.0, -2.0, 0.0, 1.0, -0.5, 0.2, 0.1]])
    scores = 1 / (1 + np.exp(-logits)) if activation == "sigmoid" else np.exp(logits)
    shown = scores / scores.sum()
    for target in (0, 3, 9):
        expected = np.log(shown[0, target]) - np.log(1 - shown[0, target])
        assert log_odds(logits, target, activation)[0] == pytest.approx(expected, rel=1e-9)


def test_pixels_without_ink_get_no_saliency_and_no_ink_for_the_target_lights_nothing(mnist, explainers):
    pixels = mnist.x_test[3].astype(np.float32) / 255   # a 0
    explained = explainers["cnn"].saliency(pixels, 0)
    assert explained.map[pixels <= INK].max() == 0 and explained.peak > 1
    against = explainers["cnn"].saliency(pixels, 1)   # hardly any ink of a 0 speaks for 1
    assert against.peak < 0.1 * explained.peak and not against.map.any()


def test_explain_files_made_from_another_model_file_are_refused(tmp_path, seven):
    import json
    import shutil

    from support import make_app
    for path in PROJECT_MODEL_DIR.glob("mlp.*"):
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(PROJECT_MODEL_DIR / "mnist-neighbours.npz", tmp_path)
    description = json.loads((tmp_path / "mlp.explain.json").read_text())
    (tmp_path / "mlp.explain.json").write_text(json.dumps({**description, "model_sha256": "0" * 64}))
    client = make_app(tmp_path / "d.sqlite", MODEL_DIR=str(tmp_path)).test_client()
    response = post_image(client, seven, "/api/explain")
    assert response.status_code == 503 and "made from another mlp.tflite" in response.get_json()["error"]


def test_explanations_are_rate_limited_per_client(tmp_path, seven):
    from support import make_app
    client = make_app(tmp_path / "d.sqlite", RATELIMIT_ENABLED=True).test_client()
    statuses = [post_image(client, seven, "/api/explain").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_the_target_changes_the_saliency(client, seven):
    own = np.asarray(post_image(client, seven, "/api/explain").get_json()["saliency"])
    other = post_image(client, seven, "/api/explain", target="1").get_json()
    assert other["target"] == 1 and other["digit"] == 7
    assert not np.allclose(own, np.asarray(other["saliency"]))


@pytest.mark.parametrize("fields, error", [
    ({"target": "10"}, "`target` must be one digit from 0 to 9, not '10'."),
    ({"target": "seven"}, "`target` must be one digit from 0 to 9, not 'seven'."),
    ({"mode": "number"}, "Explaining reads one digit: send mode=digit (or no mode)."),
    ({"model": "all"}, "Explain one model at a time: `model` is one of cnn, mlp-wide, mlp."),
    ({"model": "resnet"}, "Unknown model 'resnet': use one of cnn, mlp-wide, mlp."),
])
def test_a_bad_field_is_a_400_naming_the_valid_values(client, seven, fields, error):
    response = post_image(client, seven, "/api/explain", **fields)
    assert response.status_code == 400 and response.get_json() == {"error": error}


def test_nothing_drawn_is_a_200_with_empty_fields(client):
    blank = canvas_png(np.zeros((28, 28), np.uint8))
    body = post_image(client, blank, "/api/explain").get_json()
    assert body["digit"] is None and body["stages"] == [] and body["saliency"] == [] and body["neighbours"] == []
    assert body["evidence"] is None and body["filters"]["count"] == 32


def test_bad_input_gets_the_same_4xx_as_predict(client):
    for body, content_type in ((b"not an image", "image/png"), (b"x", "text/plain"), (b"", "")):
        answers = [client.post(path, data=body, content_type=content_type) for path in ("/api/predict", "/api/explain")]
        assert answers[0].status_code in (400, 415)
        assert [a.status_code for a in answers] == [answers[0].status_code] * 2
        assert answers[0].get_json() == answers[1].get_json()
    assert client.get("/api/explain").status_code == 405


def test_a_model_without_explain_files_is_a_503_that_says_how_to_make_them(tmp_path, seven):
    import shutil

    from support import make_app
    for suffix in (".tflite", ".json"):
        shutil.copy(PROJECT_MODEL_DIR / f"mlp{suffix}", tmp_path / f"mlp{suffix}")
    client = make_app(tmp_path / "d.sqlite", MODEL_DIR=str(tmp_path)).test_client()
    assert post_image(client, seven, "/api/predict").status_code == 200
    response = post_image(client, seven, "/api/explain")
    assert response.status_code == 503 and "python -m training.explain_export" in response.get_json()["error"]


def test_saliency_is_honest_deleting_the_most_salient_ink_hurts_far_more_than_random(mnist, explainers):
    """A smaller run of the benchmark's deletion test (benchmarks/bench_explain.py): 50 test digits."""
    registry = ModelRegistry.from_folder(PROJECT_MODEL_DIR)
    rng = np.random.default_rng(0)
    for name in ("cnn", "mlp"):
        top, random = deletion_drops(explainers[name], registry.get(name), mnist, range(50), rng)
        assert top > 0.05 and top > 5 * random, (name, top, random)


def test_the_nearest_training_digits_mostly_share_the_label(mnist, explainers):
    """A smaller run of the benchmark's agreement test: 50 test digits the model reads right."""
    registry = ModelRegistry.from_folder(PROJECT_MODEL_DIR)
    for name in MODELS:
        agreement = neighbour_agreement(explainers[name], registry.get(name), mnist, range(50))
        assert agreement >= 0.9, (name, agreement)


def test_a_models_inside_without_a_drawing(client, explainers):
    cnn = client.get("/api/explain/cnn").get_json()
    assert [layer["name"] for layer in cnn["layers"]] == [layer["name"] for layer in explainers["cnn"].layers]
    assert cnn["filters"]["count"] == 32 and cnn["filters"]["image"].startswith("data:image/png")
    assert client.get("/api/explain/mlp").get_json()["filters"] is None
    missing = client.get("/api/explain/resnet")
    assert missing.status_code == 404 and missing.get_json()["error"].startswith("There is no model 'resnet'")
