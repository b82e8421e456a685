"""Plain words for layers and models (issue 28): every layer of every shipped model gets a name a 12-year-old
reads, by its kind and place, the API gives it next to the technical name, and every model has a title."""

from __future__ import annotations

import json

import pytest

from support import post_image
from webapp import PROJECT_ROOT
from webapp.inference.plain_names import layer_names, model_title

MODELS = ["cnn", "mlp", "mlp-wide"]


def shipped_layers(model: str) -> list[dict]:
    return json.loads((PROJECT_ROOT / "model" / f"{model}.explain.json").read_text())["layers"]


@pytest.mark.parametrize("model", MODELS)
def test_every_shipped_layer_has_plain_words_without_its_technical_name(model):
    layers = shipped_layers(model)
    names = layer_names(layers)
    assert len(names) == len(layers)
    for layer, plain in zip(layers, names):
        assert not plain[0].islower() and "_" not in plain, plain
        assert layer["name"] not in plain and layer["kind"] not in plain.lower(), (layer, plain)
    assert names[-1] == "The answer: a score for each digit"


def test_the_cnn_layers_are_named_by_kind_and_place():
    names = dict(zip((layer["name"] for layer in shipped_layers("cnn")), layer_names(shipped_layers("cnn"))))
    convolutions = [plain for name, plain in names.items() if name.startswith("conv2d")]
    assert convolutions == ["First look at strokes", "Second look: strokes joined into corners and curves",
                            "Third look: finding bigger shapes", "Fourth look: finding bigger shapes",
                            "Fifth look: finding bigger shapes"]
    assert names["max_pooling2d_1"] == "Squeezing the picture smaller"
    assert names["dropout_2"] == names["dropout_3"] == "Switching off some units while learning"
    assert names["flatten_1"] == "Putting everything found in one long row"


def test_dense_layers_say_what_their_units_weigh():
    assert layer_names(shipped_layers("mlp-wide")) == [
        "Putting the pixels in one long row", "150 units, each weighing every pixel",
        "50 units, each weighing the 150 before", "The answer: a score for each digit"]


def test_a_kind_without_words_is_still_named_plainly():
    layers = [{"name": "lstm", "kind": "LSTM", "shape": [8]}, {"name": "out", "kind": "dense", "shape": [10]}]
    assert layer_names(layers) == ["Another step inside the network", "The answer: a score for each digit"]
    many = [{"name": f"c{i}", "kind": "convolution", "shape": [4, 4, 8]} for i in range(12)]
    assert layer_names(many)[10] == "Look number 11: finding bigger shapes"


def test_models_have_plain_titles():
    assert [model_title(name) for name in MODELS] == [
        "The convolutional network", "The classic network from the notebooks", "The wider classic network"]
    assert model_title("resnet") == "The network called resnet"


def test_the_api_gives_plain_words_next_to_the_technical_names(client, seven):
    listed = client.get("/api/models").get_json()
    assert {model["name"]: model["title"] for model in listed} == {name: model_title(name) for name in MODELS}
    for model in MODELS:
        expected = list(zip((layer["name"] for layer in shipped_layers(model)), layer_names(shipped_layers(model))))
        inside = client.get(f"/api/explain/{model}").get_json()["layers"]
        explained = post_image(client, seven, "/api/explain", model=model).get_json()["layers"]
        assert [(layer["name"], layer["plain"]) for layer in inside] == expected
        assert [(layer["name"], layer["plain"]) for layer in explained] == expected
