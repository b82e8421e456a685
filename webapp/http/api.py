"""The JSON API: /api/predict, /api/models, /api/health, /api/reports/<name> (see docs/API.md)."""

from __future__ import annotations

import numpy as np
from flask import Blueprint, current_app, jsonify

from webapp.http.errors import ApiError
from webapp.http.model_words import summary_in_words
from webapp.http.requests import (
    ALL_MODELS,
    chosen_classifiers,
    chosen_mode,
    field,
    models,
    unknown_model,
    uploaded_image_bytes,
)
from webapp.inference.reading import Answer, read
from webapp.store import get_store
from webapp.store.refusals import StoreRefused
from webapp.store.versions import SHIPPED
from webapp.vision.images import png_data_url

bp = Blueprint("api", __name__, url_prefix="/api")


def prediction(probabilities: np.ndarray) -> dict:
    return {"digit": int(probabilities.argmax()), "confidence": round(float(probabilities.max()), 6),
            "probabilities": [round(float(p), 6) for p in probabilities]}


def answer_json(answer: Answer, digits: list) -> dict:
    """One model's answer: every digit with its box, the first digit's fields at the top level."""
    found = [{**prediction(p), "box": list(digit.box)} for digit, p in zip(digits, answer.probabilities)]
    return {**{key: found[0][key] for key in ("digit", "confidence", "probabilities")},
            "model": answer.classifier.name, "digits": found, "number": "".join(str(d["digit"]) for d in found)}


@bp.post("/predict")
def predict():
    """One model's answer (the best one unless `model` names another); with `model=all` also every
    model's answer under `models`, from one decode of the drawing (the page's compare view)."""
    data = uploaded_image_bytes()
    mode = chosen_mode()
    classifiers = chosen_classifiers()
    reading = read(data, mode, classifiers, current_app.config["MAX_IMAGE_PIXELS"])
    if not reading.digits:
        nothing = {"digit": None, "confidence": None, "probabilities": None, "digits": [], "number": ""}
        extra = {"models": [{**nothing, "model": c.name} for c in classifiers]} if field("model") == ALL_MODELS else {}
        return jsonify(**nothing, model=classifiers[0].name, input=None, inputs=[], **extra)
    inputs = [png_data_url(digit.pixels) for digit in reading.digits]
    answers = [answer_json(answer, reading.digits) for answer in reading.answers]
    extra = {"models": answers} if field("model") == ALL_MODELS else {}
    return jsonify(**answers[0], input=inputs[0], inputs=inputs, **extra)


@bp.get("/models")
def list_models():
    """Each model with the version every worker serves (`id` null: the model folder's file, not yet a stored
    version; it becomes version 1 when versions are first listed or a fine-tuning starts)."""
    live = current_app.extensions["live_models"]
    listed = []
    for summary, classifier in zip(models().summaries(), models().ordered()):
        try:
            version = live.version_summary(classifier.name)
        except StoreRefused:
            version = None
        shipped = {"id": None, "number": None, "sha256": classifier.sha256, "source": "model folder", "origin": SHIPPED}
        listed.append({**summary_in_words(summary), "version": version or shipped})
    return jsonify(listed)


@bp.get("/health")
def health():
    """503 only without a model: a failing drawings store (reported under `store`) leaves predictions working."""
    registry = models()
    status = 200 if registry.classifiers else 503
    return jsonify(status="ok" if registry.classifiers else "unavailable", models=registry.names,
                   broken=registry.broken, store=get_store().health()), status


@bp.get("/reports/<name>")
def model_report(name: str):
    """The evaluation report written by train.py, looked up by model name (never by path)."""
    classifier = models().classifiers.get(name)
    if classifier is None:
        raise unknown_model(name, 404)
    if not classifier.report:
        raise ApiError(404, f"Model {name!r} has no evaluation report; run `make train` to write it.")
    return jsonify(classifier.report)
