"""The JSON API: /api/predict, /api/models, /api/health (see DESIGN.md)."""

from __future__ import annotations

import numpy as np
from flask import Blueprint, current_app, jsonify, request

from webapp import preprocess
from webapp.echo import shortened
from webapp.images import png_data_url

bp = Blueprint("api", __name__, url_prefix="/api")

MODES = ("digit", "number")


def models():
    return current_app.extensions["models"]


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@bp.errorhandler(BadRequest)
@bp.errorhandler(preprocess.ImageRejected)
def answer_bad_request(error):
    return jsonify(error=str(error)), error.status


def uploaded_image_bytes() -> bytes:
    """The `image` file of a multipart form, or a raw `image/*` body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise BadRequest("No image was sent: add the drawing as the form field `image`.")
        return upload.read()
    if request.mimetype.startswith("image/"):
        return request.get_data(cache=False)
    if not request.content_length and not request.mimetype:
        raise BadRequest("No image was sent: POST a PNG, JPEG, WebP, GIF or BMP.")
    raise BadRequest(f"Send the image as multipart/form-data (field `image`) or as a raw image/* body, "
                     f"not {shortened(request.mimetype) if request.mimetype else 'a body without Content-Type'}.",
                     status=415)


def choice(field: str, default: str | None) -> str | None:
    value = request.form.get(field) or request.args.get(field)
    return value if value else default


def prediction(probabilities) -> dict:
    return {"digit": int(probabilities.argmax()), "confidence": round(float(probabilities.max()), 6),
            "probabilities": [round(float(p), 6) for p in probabilities]}


def chosen_mode() -> str:
    """The request's `mode` (default `digit`), or a 400 naming the valid modes."""
    mode = choice("mode", "digit")
    if mode not in MODES:
        raise BadRequest(f"Unknown mode {shortened(mode)}: use one of {', '.join(MODES)}.")
    return mode


def chosen_classifier():
    """The model the request names (the best one when none is named), or a 400 naming the valid ones.

    None only when no model is named and none is loaded.
    """
    name = choice("model", None)
    classifier = models().get(name)
    if name and classifier is None:
        raise BadRequest(f"Unknown model {shortened(name)}: use one of {', '.join(models().names)}.")
    return classifier


@bp.post("/predict")
def predict():
    data = uploaded_image_bytes()
    mode = chosen_mode()
    if not models().classifiers:
        raise BadRequest("No model is loaded on this server; see /api/health.", status=503)
    classifier = chosen_classifier()

    image = preprocess.decode(data, current_app.config["MAX_IMAGE_PIXELS"])
    digits = preprocess.digits_in(image, mode)
    if not digits:
        return jsonify(digit=None, confidence=None, probabilities=None, model=classifier.name,
                       input=None, digits=[], number="")
    probabilities = classifier.predict(np.stack([digit.pixels for digit in digits]))
    found = [{**prediction(p), "box": list(digit.box)} for digit, p in zip(digits, probabilities)]
    inputs = [png_data_url(digit.pixels) for digit in digits]
    first = found[0]  # in number mode the top-level answer is the leftmost digit
    return jsonify(**{key: first[key] for key in ("digit", "confidence", "probabilities")},
                   model=classifier.name, input=inputs[0], inputs=inputs,
                   digits=found, number="".join(str(d["digit"]) for d in found))


@bp.get("/models")
def list_models():
    return jsonify([models().classifiers[name].describe() for name in models().names])


@bp.get("/health")
def health():
    """503 only without a model: a failing drawings store (reported under `store`) leaves predictions working."""
    registry = models()
    status = 200 if registry.classifiers else 503
    return jsonify(status="ok" if registry.classifiers else "unavailable", models=registry.names,
                   broken=registry.broken, store=current_app.extensions["feedback"].health()), status


@bp.get("/reports/<name>")
def model_report(name: str):
    """The evaluation report written by train.py, looked up by model name (never by path)."""
    classifier = models().classifiers.get(name)
    if classifier is None:
        raise BadRequest(f"Unknown model {shortened(name)}: use one of {', '.join(models().names)}.", status=404)
    if not classifier.report:
        raise BadRequest(f"Model {name!r} has no evaluation report; run `make train` to write it.", status=404)
    return jsonify(classifier.report)
