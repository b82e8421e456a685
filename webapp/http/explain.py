"""POST /api/explain: why the model said what it said, for one drawn digit (see docs/API.md).

The same inputs as /api/predict in digit mode, plus `target` (the digit to explain, default the answer).
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from flask import Blueprint, Flask, current_app, jsonify
from flask_babel import gettext
from PIL import Image

from webapp.http.api import prediction
from webapp.http.echo import shortened
from webapp.http.errors import ApiError
from webapp.http.requests import chosen_classifiers, chosen_mode, digit_field, field, models, uploaded_image_bytes
from webapp.inference.explainer import Explainer, load_explainers
from webapp.inference.plain_names import layer_words
from webapp.inference.reading import read
from webapp.sentences import N_
from webapp.vision import activation_images, preprocess
from webapp.vision.images import png_data_url

log = logging.getLogger("digitdraw")
bp = Blueprint("explain", __name__, url_prefix="/api")
# At most this many explanations run or wait at once in one process; more get a 503 with Retry-After. Each
# takes tens of milliseconds of CPU and, in a gevent worker, holds its loop meanwhile.
MOST_AT_ONCE = 4
running = threading.BoundedSemaphore(MOST_AT_ONCE)

# What each step of the digit path does, for a student (names from preprocess.stages()).
CAPTIONS = {
    "decoded": N_("Your drawing as it reached the server."),
    "ink": N_("The ink, found by how much darker it is than the paper."),
    "cropped, specks removed": N_("Cut out around the ink, stray specks dropped."),
    "stroke width like MNIST": N_("Strokes made as thick as a pen in MNIST."),
    "longest side 20 pixels": N_("Shrunk so its longest side is 20 pixels, like every MNIST digit."),
    "centred by mass in 28x28": N_("Put in a 28x28 square with its centre of mass in the middle: what the model "
                                   "reads."),
}


def init_app(app: Flask) -> None:
    registry = app.extensions["models"]
    explainers, missing = load_explainers(app.config["MODEL_DIR"], {
        name: classifier.sha256 for name, classifier in registry.classifiers.items()})
    app.extensions["explainers"], app.extensions["explain_missing"] = explainers, missing
    for name, reason in missing.items():
        log.warning("model %s cannot be explained: %s", name, reason)
    app.register_blueprint(bp)


def explainer_for(name: str) -> Explainer:
    explainer = current_app.extensions["explainers"].get(name)
    if explainer is None:
        raise ApiError(503, current_app.extensions["explain_missing"].get(
            name, f"Model {name} cannot be explained on this server."))
    return explainer


@bp.post("/explain")
def explain():
    data = uploaded_image_bytes()
    if chosen_mode() != "digit":
        raise ApiError(400, "Explaining reads one digit: send mode=digit (or no mode).")
    if field("model") == "all":
        raise ApiError(400, f"Explain one model at a time: `model` is one of {', '.join(models().names)}.")
    classifier = chosen_classifiers()[0]
    target_text = field("target")
    target = None if target_text is None else digit_field("target", target_text)
    explainer = explainer_for(classifier.name)
    if not running.acquire(blocking=False):
        raise ApiError(503, "The server is explaining many drawings right now: try again in a second.")
    try:
        return explained(data, classifier, explainer, target)
    finally:
        running.release()


def explained(data: bytes, classifier, explainer: Explainer, target: int | None):
    reading = read(data, "digit", [classifier], current_app.config["MAX_IMAGE_PIXELS"])
    if not reading.digits:
        return jsonify(digit=None, confidence=None, probabilities=None, model=classifier.name, target=target,
                       input=None, stages=[], saliency=[], evidence=None, layers=[], neighbours=[],
                       filters=filters_json(explainer))
    pixels = reading.digits[0].pixels
    answer = prediction(reading.answers[0].probabilities[0])
    target = answer["digit"] if target is None else target
    saliency, neighbours = explainer.explain(pixels, target)
    return jsonify(**answer, model=classifier.name, target=target, input=png_data_url(pixels),
                   stages=stages_json(reading.image),
                   saliency=saliency_json(saliency),
                   evidence=round(saliency.peak, 3),
                   layers=layers_json(explainer, pixels),
                   neighbours=[{"label": n.label, "similarity": round(n.similarity, 4),
                                "image": png_data_url(n.pixels)} for n in neighbours],
                   filters=filters_json(explainer))


def saliency_json(saliency) -> list[list[float]]:
    """A saliency map as the answers carry it: 28 rows of 28 values in [0, 1], 3 decimals."""
    return [[round(float(value), 3) for value in row] for row in saliency.map]


@bp.get("/explain/<name>")
def model_inside(name: str):
    """What does not depend on a drawing: the layers in flow order and the first convolution's filters."""
    if name not in models().classifiers:
        raise ApiError(404, f"There is no model {shortened(name)}; the models are {', '.join(models().names)}.")
    explainer = explainer_for(name)
    layers = [{"name": layer["name"], "plain": plain, "kind": layer["kind"], "shape": layer["shape"]}
              for layer, plain in zip(explainer.layers, layer_names_in_words(layer_words(explainer.layers)))]
    return jsonify(model=name, layers=layers, filters=filters_json(explainer))


def layer_names_in_words(words: list[tuple[str, dict]]) -> list[str]:
    """Plain names (plain_names.layer_words) in the request's language."""
    return [gettext(template, **values) if values else gettext(template) for template, values in words]


def stages_json(image) -> list[dict]:
    """The digit path step by step; the drawing itself as a person sees it (a canvas's transparent paper white,
    made at the size it is shown)."""
    steps = preprocess.stages(image)
    if steps and steps[0][0] == "decoded" and image.mode in ("RGBA", "LA", "PA"):
        shown = image.convert("RGBA")
        shown.thumbnail((activation_images.DECODED_SIDE, activation_images.DECODED_SIDE))
        paper = Image.new("RGBA", shown.size, "white")
        steps[0] = ("decoded", np.asarray(Image.alpha_composite(paper, shown).convert("L")))
    return [{"name": name, "caption": gettext(CAPTIONS[name]) if name in CAPTIONS else name.capitalize() + ".",
             "image": png_data_url(activation_images.small(step), compression=1)} for name, step in steps]


def layers_json(explainer: Explainer, pixels) -> list[dict]:
    """Every layer with its plain name and its activation as an image; a layer that passes its input on
    unchanged (dropout when reading) reuses the image before it."""
    shown, previous = [], None
    for layer, plain in zip(explainer.layer_outputs(pixels), layer_names_in_words(layer_words(explainer.layers))):
        same = previous is not None and previous[0].shape == layer.activation.shape \
            and np.array_equal(previous[0], layer.activation)
        image = previous[1] if same else png_data_url(activation_images.activation_image(layer.activation),
                                                      compression=1)
        shown.append({"name": layer.name, "plain": plain, "kind": layer.kind, "shape": list(layer.shape),
                      "image": image})
        previous = (layer.activation, image)
    return shown


def filters_json(explainer: Explainer) -> dict | None:
    """The first convolution's learned filters (None for a model without convolutions)."""
    if explainer.first_filters is None:
        return None
    return {"layer": explainer.first_filters_layer, "count": len(explainer.first_filters),
            "size": list(explainer.first_filters.shape[1:]),
            "image": png_data_url(activation_images.filters_image(explainer.first_filters))}
