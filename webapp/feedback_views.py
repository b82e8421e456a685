"""Feedback from the people who draw: the API that stores their labels, the /drawings page, the export.

A labelled drawing is stored with the 28x28 input recomputed here from the
original bytes (never trusted from the client) and the probabilities the named
model gives for it, so every row is what the model really saw and said.
"""

from __future__ import annotations

import hmac
from pathlib import Path

import click
import numpy as np
from flask import Blueprint, Flask, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from webapp import preprocess
from webapp.api import (BadRequest, answer_bad_request, choice, chosen_classifier, chosen_mode, models,
                        uploaded_image_bytes)
from webapp.feedback import DrawingScorer, FeedbackStore
from webapp.echo import shortened
from webapp.images import png_data_url

bp = Blueprint("feedback", __name__, cli_group=None)
bp.register_error_handler(BadRequest, answer_bad_request)
bp.register_error_handler(preprocess.ImageRejected, answer_bad_request)

FORM_FIELDS_ALLOWANCE = 64 * 1024   # the multipart body holds a few small fields besides the image
PAGE_SIZE = 48
MAX_PAGE_SIZE = 200
LARGEST_COUNT = 999_999_999   # counts have at most 9 digits: never too large for int() or SQLite
LARGEST_ID = 2**63 - 1        # SQLite's largest row id; a larger one in a URL is no drawing (404)


def init_app(app: Flask) -> None:
    """Register the store (opened lazily, on the first request that needs it) and the routes."""
    app.extensions["feedback"] = FeedbackStore(app.config["DATABASE"])
    app.extensions["drawing_scorer"] = DrawingScorer()
    app.register_blueprint(bp)


def store() -> FeedbackStore:
    return current_app.extensions["feedback"]


@bp.errorhandler(RequestEntityTooLarge)
def answer_too_large(error):
    limit = current_app.config["FEEDBACK_MAX_IMAGE_BYTES"]
    return jsonify(error=f"The drawing is too large to keep: the limit is {limit:,} bytes."), 413


def digit_field(field: str, value: str | None) -> int:
    """A form or query value that must be exactly one digit 0-9."""
    if value is None or value not in {str(digit) for digit in range(10)}:
        raise BadRequest(f"`{field}` must be one digit from 0 to 9, not {shortened(value)}."
                         if value else f"Say which digit it is: send `{field}` as one digit from 0 to 9.")
    return int(value)


def whole_number(field: str, default: int, smallest: int = 0, largest: int = LARGEST_COUNT) -> int:
    """A query-string count such as `limit`, `offset` or `page`, within its bounds; the digits are
    counted before converting, so thousands of them never reach int() (which refuses over 4,300)."""
    value = request.args.get(field, "")
    if value == "":
        return default
    is_number = value.isascii() and value.isdigit() and len(value) <= len(str(largest))
    if not is_number or not smallest <= int(value) <= largest:
        raise BadRequest(f"`{field}` must be a whole number from {smallest} to {largest:,}, not {shortened(value)}.")
    return int(value)


def optional_label(value: str | None) -> int | None:
    return None if value in (None, "") else digit_field("label", value)


@bp.post("/api/feedback")
def add_feedback():
    """Keep one drawing with the digit the person says it is; 201 with its id."""
    limit = current_app.config["FEEDBACK_MAX_IMAGE_BYTES"]
    request.max_content_length = limit + FORM_FIELDS_ALLOWANCE   # refuse a huge body before reading it
    data = uploaded_image_bytes()
    if len(data) > limit:
        raise RequestEntityTooLarge()
    label = digit_field("label", choice("label", None))
    claimed = choice("prediction", None)
    prediction = None if claimed is None else digit_field("prediction", claimed)
    mode = chosen_mode()
    classifier = chosen_classifier()

    image = preprocess.decode(data, current_app.config["MAX_IMAGE_PIXELS"])
    digits = preprocess.digits_in(image, "digit")   # a label is one digit, so the drawing is read as one
    if not digits:
        raise BadRequest("Nothing is drawn in this image, so there is nothing to keep.")
    pixels = digits[0].pixels
    probabilities = classifier.predict(pixels[np.newaxis])[0] if classifier else None
    if prediction is None and probabilities is not None:
        prediction = int(probabilities.argmax())
    drawing_id = store().add(
        image=data, pixels=pixels, label=label, prediction=prediction, probabilities=probabilities,
        model=classifier.name if classifier else None, model_version=classifier.version if classifier else None,
        mode=mode)
    return jsonify(id=drawing_id, label=label), 201


@bp.get("/api/drawings")
def list_drawings():
    """A page of stored drawings, newest first, with the total for paging."""
    limit = whole_number("limit", PAGE_SIZE, smallest=1, largest=MAX_PAGE_SIZE)
    offset = whole_number("offset", 0)
    label = optional_label(request.args.get("label"))
    items = [{"id": d.id, "created": d.created, "label": d.label, "prediction": d.prediction,
              "model": d.model, "model_version": d.model_version, "mode": d.mode,
              "probabilities": d.probabilities, "input": png_data_url(d.pixels)}
             for d in store().page(limit, offset, label)]
    return jsonify(items=items, total=store().count(label), limit=limit, offset=offset, label=label)


def require_delete_token() -> None:
    """Only someone holding DELETE_TOKEN may delete; with no token configured nobody may."""
    expected = current_app.config.get("DELETE_TOKEN")
    if not expected:
        raise BadRequest("Deleting drawings is turned off on this server (no DELETE_TOKEN is set).", 403)
    header = request.headers.get("Authorization", "")
    given = header[len("Bearer "):] if header.startswith("Bearer ") else request.headers.get("X-Delete-Token", "")
    if not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise BadRequest("Deleting a drawing needs the teacher's token: send it as "
                         "`Authorization: Bearer <token>` or `X-Delete-Token`.", 403)


@bp.delete(f"/api/drawings/<int(max={LARGEST_ID}):drawing_id>")
def delete_drawing(drawing_id: int):
    require_delete_token()
    if not store().delete(drawing_id):
        raise BadRequest(f"There is no drawing #{drawing_id}.", 404)
    return "", 204


@bp.get("/drawings")
def drawings_page():
    """The collected drawings as a grid, and how each loaded model does on all of them."""
    label = optional_label(request.args.get("label"))
    page = whole_number("page", 1, smallest=1)
    total = store().count(label)
    drawings = store().page(PAGE_SIZE, (page - 1) * PAGE_SIZE, label)
    scores = current_app.extensions["drawing_scorer"].scores(models(), *store().labelled_inputs())
    shown = next((score for score in scores if score.name == request.args.get("model")),
                 scores[0] if scores else None)

    def page_url(**changes) -> str:
        """This page with some of label, page and model changed; None drops one."""
        current = {"label": label, "page": page, "model": shown.name if shown else None}
        return url_for("feedback.drawings_page", **{**current, **changes})

    return render_template(
        "drawings.html", drawings=[(d, png_data_url(d.pixels)) for d in drawings], label=label,
        page=page, pages=max(1, -(-total // PAGE_SIZE)), label_counts=store().label_counts(),
        scores=scores, shown=shown, page_url=page_url,
        mnist_accuracy={name: models().classifiers[name].report.get("test_accuracy") for name in models().names})


@bp.cli.command("export-drawings")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_drawings(out: Path) -> None:
    """Write the labelled drawings to OUT as Keras-layout arrays: x (N, 28, 28) uint8, y (N,) uint8.

    Their ids go along, so `train.py --extra-data` holds out the same drawings in every export.
    """
    ids, x, y = store().labelled_inputs()
    with open(out, "wb") as handle:   # a handle, so numpy does not append its own .npz suffix
        np.savez_compressed(handle, x=x, y=y, ids=ids)
    click.echo(f"Wrote {len(y)} drawings to {out} (x {x.shape} uint8, y {y.shape} uint8).")
