"""Feedback from the people who draw: the API that stores their labels, the /drawings page, the export.

A labelled drawing is stored with the 28x28 input recomputed here from the
uploaded bytes and the answers the server's own models give for it (never
what the client claims), so every row is what the model really saw and said.
Only a small re-encoded copy of the upload is kept (webapp/vision/kept_images.py).
A number (`mode=number`) is stored as one row per digit, each with its own
digit of the label. Writes come only from our own pages or from scripts that
are no browser page at all (webapp/http/same_origin.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import asdict

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.http.errors import ApiError
from webapp.http.model_words import title as model_title
from webapp.http.ratelimits import client_key
from webapp.http.requests import (
    chosen_classifier,
    chosen_mode,
    digit_field,
    field,
    models,
    uploaded_image_bytes,
    whole_number,
)
from webapp.http.security import private
from webapp.http.teacher import collecting, ensure_secret_key, is_teacher, teacher_required
from webapp.inference.reading import Reading, read
from webapp.sentences import N_
from webapp.store import drawing_scores
from webapp.store import get_store as store
from webapp.store.drawings import NewDrawing
from webapp.vision import kept_images, preprocess, segment
from webapp.vision.images import png_data_url

log = logging.getLogger("digitdraw")
bp = Blueprint("feedback", __name__)

PAGE_SIZE = 48
MAX_PAGE_SIZE = 200
UNDO_SECONDS = 60             # how long the person who saved an answer can take it back
LARGEST_ID = 2**63 - 1        # SQLite's largest row id; a larger one in a URL is no drawing (404)
WRITER_HEX_DIGITS = 16        # of a student's hashed address: 64 bits, no two students of a school alike


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(model_title, "model_title")



def optional_label(value: str | None) -> int | None:
    return None if value in (None, "") else digit_field("label", value)


def label_field(mode: str) -> str:
    """The `label` field: one digit in digit mode, the number's digits left to right in number mode."""
    value = field("label")
    if mode == "digit":
        return str(digit_field("label", value))
    if not value:
        raise ApiError(400, "Say which number it is: send `label` as its digits, left to right (e.g. 42).")
    if len(value) > segment.MAX_DIGITS or not (value.isascii() and value.isdigit()):
        raise ApiError(400, f"`label` must be the number's digits, at most {segment.MAX_DIGITS} of them (e.g. 42).")
    return value


@bp.post("/api/feedback")
def add_feedback():
    """Keep a drawing with the digit (or, in number mode, the digits) the person says it shows; 201 with the id(s).

    A client's `prediction` field is accepted and ignored: old pages send it.
    """
    data = uploaded_image_bytes()
    mode = chosen_mode()
    label = label_field(mode)
    if not collecting():
        raise ApiError(403, N_("The teacher has turned collecting drawings off, so answers are not kept now."))
    shown = chosen_classifier()   # the model whose answer the person saw
    reading = read(data, mode, models().ordered(), current_app.config["MAX_IMAGE_PIXELS"])
    if not reading.digits:
        raise ApiError(400, N_("Nothing is drawn in this image, so there is nothing to keep."))
    found = len(reading.digits)
    if found != len(label):
        holds = (N_("The drawing holds %(found)s digit but the label has %(given)s: send one digit of the label "
                    "for each digit drawn, left to right.") if found == 1 else
                 N_("The drawing holds %(found)s digits but the label has %(given)s: send one digit of the label "
                    "for each digit drawn, left to right."))
        raise ApiError(400, holds, found=found, given=len(label))
    copies = kept_copies(reading.image, reading.digits, mode)
    writer = writer_of_request()
    ids = store().add(*(NewDrawing(image=copy, pixels=digit.pixels, label=int(digit_label), mode=mode,
                                   answers=drawing_scores.answers_to(reading, index), writer=writer,
                                   **shown_answer(shown, reading, index))
                        for index, (digit, digit_label, copy) in enumerate(zip(reading.digits, label, copies))))
    undo = {"undo": undo_tokens().dumps(ids), "undo_seconds": UNDO_SECONDS}
    if mode == "digit":
        return jsonify(id=ids[0], label=int(label), **undo), 201
    return jsonify(id=ids[0], ids=ids, label=label, **undo), 201


def writer_of_request() -> str:
    """Who drew it, as fine-tuning needs to know (to hold out every student's drawings): the rate limits'
    client (an address, an IPv6 /64) hashed with the app's secret key, so the store never keeps an address."""
    key = ensure_secret_key()
    return hmac.new(key.encode() if isinstance(key, str) else key, client_key().encode(),
                    hashlib.sha256).hexdigest()[:WRITER_HEX_DIGITS]


def shown_answer(shown, reading: Reading, index: int) -> dict:
    """The model the person saw and its answer to digit `index`, as NewDrawing fields."""
    said = next((answer.probabilities[index] for answer in reading.answers if answer.classifier is shown), None)
    if said is None:
        return {}
    return {"model": shown.name, "model_version": shown.version, "prediction": int(said.argmax()),
            "probabilities": said}


def kept_copies(image, digits: list[preprocess.Digit], mode: str) -> list[bytes]:
    """The images to keep: the whole drawing downscaled, or in number mode each digit's part of it."""
    copy = kept_images.downscaled(image, current_app.config["FEEDBACK_IMAGE_SIDE"])
    if mode == "digit":
        return [kept_images.encoded(copy)]
    source_size = image.info.get("source_size", image.size)
    return [kept_images.encoded(kept_images.crop_of(copy, digit.box, source_size)) for digit in digits]


@bp.get("/api/drawings")
@private
def list_drawings():
    """A page of stored drawings, newest first, with the total for paging; with `after`, what a page following
    the collection asks every few seconds (newer_drawings)."""
    limit = whole_number("limit", PAGE_SIZE, smallest=1, largest=MAX_PAGE_SIZE)
    label = optional_label(request.args.get("label"))
    if request.args.get("after") is not None:
        return jsonify(newer_drawings(whole_number("after", 0, largest=LARGEST_ID), limit, label))
    offset = whole_number("offset", 0)
    rounds = is_teacher()   # the drawings of class rounds are the teacher's to show
    items = [item_of(drawing) for drawing in store().page(limit, offset, label, rounds)]
    return jsonify(items=items, total=store().count(label, rounds), limit=limit, offset=offset, label=label)


def item_of(drawing) -> dict:
    return {"id": drawing.id, "created": drawing.created, "label": drawing.label, "prediction": drawing.prediction,
            "model": drawing.model, "model_version": drawing.model_version, "mode": drawing.mode,
            "probabilities": drawing.probabilities, "input": png_data_url(drawing.pixels)}


def newer_drawings(after: int, limit: int, label: int | None) -> dict:
    """The drawings with an id above `after` (newest first, at most `limit`; `more` when others arrived too),
    the counts by label and each loaded model's score, read from counts every write keeps up to date: a poll
    reads the newest rows by their index and never every drawing, however many there are."""
    rounds = is_teacher()   # the drawings of class rounds are the teacher's to show
    newest = [drawing for drawing in store().page(limit + 1, 0, label, rounds) if drawing.id > after]
    total, _ = store().usage()   # the drawings' row counter
    scores = [drawing_scores.score_of(classifier, store().confusion(drawing_scores.key_of(classifier)), total)
              for classifier in models().ordered()]
    # A model version that has read every drawing has one answer per drawing in its confusion counts, so their
    # rows are the labels' counts; only while every loaded version is still catching up are they counted.
    complete = next((score for score in scores if score.read == total), None)
    label_counts = [sum(row) for row in complete.confusion_matrix] if complete else store().label_counts()
    if not rounds:   # less the rounds' drawings, counted by their index (a class's rounds, not every drawing)
        label_counts = [all_ - in_rounds for all_, in_rounds in zip(label_counts, store().round_label_counts())]
        total = sum(label_counts)
    return {"items": [item_of(drawing) for drawing in newest[:limit]], "more": len(newest) > limit,
            "total": total if label is None else label_counts[label], "limit": limit, "offset": 0, "label": label,
            "after": after, "label_counts": label_counts, "scores": [asdict(score) for score in scores]}


@bp.delete(f"/api/drawings/<int(max={LARGEST_ID}):drawing_id>")
@teacher_required("Deleting a drawing")
def delete_drawing(drawing_id: int):
    if not store().delete(drawing_id):
        raise ApiError(404, f"There is no drawing #{drawing_id}.")
    log.info("drawing #%d deleted by the teacher", drawing_id)
    return "", 204


@bp.delete("/api/drawings")
@teacher_required("Clearing every drawing")
def clear_drawings():
    """The teacher empties the whole collection (the page asks first); 200 with how many went."""
    deleted = store().clear()
    log.info("all %d drawings deleted by the teacher", deleted)
    return jsonify(deleted=deleted)


@bp.get(f"/api/drawings/<int(max={LARGEST_ID}):drawing_id>/original")
@teacher_required("Seeing a drawing as it was drawn", changes_state=False)
def original_image(drawing_id: int):
    """The kept copy of what was drawn (at most FEEDBACK_IMAGE_SIDE pixels), for the teacher only:
    an uploaded photo may show more than a digit."""
    image = store().original(drawing_id)
    if image is None:
        raise ApiError(404, f"There is no drawing #{drawing_id}.")
    return current_app.response_class(image, mimetype=kept_images.mimetype_of(image))


@bp.post("/api/feedback/undo")
def undo_feedback():
    """Take back a stored answer: the `undo` token its 201 carried, within UNDO_SECONDS."""
    try:
        ids = undo_tokens().loads(field("undo") or "", max_age=UNDO_SECONDS)
    except SignatureExpired:
        raise ApiError(403, N_("Too late to undo: an answer can be taken back for %(seconds)s seconds. The teacher "
                               "can still delete it."), seconds=UNDO_SECONDS) from None
    except BadSignature:
        raise ApiError(400, "Send the `undo` token the saved answer came with.") from None
    deleted = [drawing_id for drawing_id in ids if store().delete(drawing_id)]
    if not deleted:
        raise ApiError(404, N_("This answer was already taken back or deleted."))
    log.info("answer undone: drawing%s %s", "" if len(deleted) == 1 else "s", ", ".join(map(str, deleted)))
    return jsonify(deleted=deleted)


def undo_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ensure_secret_key(), salt="digitdraw.undo-feedback")


@bp.get("/drawings")
@private
def drawings_page():
    """The collected drawings as a grid, and how each loaded model does on all of them."""
    label = optional_label(request.args.get("label"))
    page = whole_number("page", 1, smallest=1)
    rounds = is_teacher()   # the drawings of class rounds are the teacher's to show
    total = store().count(label, rounds)
    drawings = store().page(PAGE_SIZE, (page - 1) * PAGE_SIZE, label, rounds)
    scores = drawing_scores.scores(store(), models())
    shown = next((score for score in scores if score.name == request.args.get("model")),
                 scores[0] if scores else None)

    def page_url(**changes) -> str:
        """This page with some of label, page and model changed; None drops one."""
        current = {"label": label, "page": page, "model": shown.name if shown else None}
        return url_for("feedback.drawings_page", **{**current, **changes})

    return render_template(
        "drawings.html", drawings=[(d, png_data_url(d.pixels)) for d in drawings], label=label,
        page=page, pages=max(1, -(-total // PAGE_SIZE)), label_counts=store().label_counts(rounds),
        scores=scores, shown=shown, page_url=page_url, version_scores=drawing_scores.version_scores(store()),
        mnist_accuracy={name: models().classifiers[name].report.get("test_accuracy") for name in models().names})
