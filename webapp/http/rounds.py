"""The class's rounds over HTTP (docs/API.md): the teacher starts, pauses, ends and deletes them and hides
drawings; students' pages ask for the current round and send their drawing to it; walls follow a round
(webapp/http/round_events.py) and read its summary.

Students see their own reading only: a round's drawings, summary and stream are the teacher's (the wall is
shown on the projector only when the teacher shows it).
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, current_app, jsonify, request

from webapp.http import explain, exports, nicknames, round_events, versions
from webapp.http.drawings import kept_copies, shown_answer, writer_of_request
from webapp.http.errors import ApiError
from webapp.http.model_words import title as model_title
from webapp.http.requests import (
    digit_field,
    field,
    json_body,
    models,
    served_versions,
    uploaded_image_bytes,
    whole_number,
)
from webapp.http.teacher import is_teacher, teacher_required
from webapp.inference.reading import read
from webapp.sentences import N_
from webapp.store import drawing_scores, version_answers
from webapp.store import get_store as store
from webapp.store.drawings import NewDrawing
from webapp.store.refusals import AlreadyKept, StoreRefused
from webapp.store.rounds import KINDS, Round, Rounds
from webapp.vision.images import png_data_url

log = logging.getLogger("digitdraw")
bp = Blueprint("rounds", __name__, url_prefix="/api/rounds")

LARGEST_ID = 2**63 - 1
SEEN_EVERY_SECONDS = 5.0     # a device following a round is recorded at most this often per worker
_last_recorded: dict[tuple[int, str], float] = {}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(nicknames.remember_nickname)


def rounds() -> Rounds:
    return Rounds(store(), served_versions())


def round_json(found: Round) -> dict:
    return found.as_json()


@bp.post("")
@teacher_required("Starting a round")
def start_round():
    """JSON {"kind": "digit", "digit": 4} or {"kind": "any"}, with "fool": true for a fool-the-model round; 201
    with the round, 409 while another is open."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, 'Send JSON such as {"kind": "digit", "digit": 4} or {"kind": "any"}.')
    kind = body.get("kind")
    if kind not in KINDS:
        raise ApiError(400, f"`kind` must be one of {', '.join(KINDS)}.")
    digit = body.get("digit")
    if kind == "digit":
        if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9:
            raise ApiError(400, "A \"digit\" round needs `digit`, one digit from 0 to 9.")
    else:
        digit = None
    fool = body.get("fool", False)
    if not isinstance(fool, bool):
        raise ApiError(400, "`fool` must be true or false.")
    started = rounds().start(kind, digit, fool)
    log.info("round %d started: %s", started.id, started.prompt)
    return jsonify(round_json(started)), 201


@bp.get("")
@teacher_required("Listing the rounds", changes_state=False)
def list_rounds():
    return jsonify([{**round_json(found), "sent": sent} for found, sent in rounds().all()])


@bp.get("/current")
def current_round():
    """The open or paused round (200) with this device's nickname, or 204 when there is none."""
    found = rounds().current()
    if found is None:
        return "", 204
    if is_teacher():   # the teacher's wall follows the round too, but is no student's device
        return jsonify(round_json(found))
    nickname = nicknames.device_nickname()
    record_device(found.id, nickname)
    return jsonify({**round_json(found), "nickname": nickname})


def record_device(round_id: int, device: str) -> None:
    """Count the device as following the round, writing at most every SEEN_EVERY_SECONDS per worker; only a
    device that kept the nickname it was given (a request without the cookie writes nothing), and never at the
    cost of an answer: a store that cannot take the write leaves the count as it was."""
    if nicknames.is_new():
        return
    now = time.monotonic()
    key = (round_id, device)
    if now - _last_recorded.get(key, -SEEN_EVERY_SECONDS) < SEEN_EVERY_SECONDS:
        return
    if len(_last_recorded) > 10_000:
        _last_recorded.clear()
    _last_recorded[key] = now
    try:
        rounds().seen(round_id, device)
    except StoreRefused as refused:
        log.warning("round %d: a device not counted: %s", round_id, refused)


@bp.get(f"/<int(max={LARGEST_ID}):round_id>")
@teacher_required("Seeing a round's results", changes_state=False)
def get_round(round_id: int):
    """The round with its counts, each model's accuracy and the served model's confusion matrix."""
    return jsonify(round_report(round_id))


def round_report(round_id: int) -> dict:
    found = rounds().get(round_id)
    summary = rounds().summary(round_id)
    behind = [classifier for classifier in models().ordered()
              if summary["models"].get(classifier.name, [0, 0])[1] < summary["sent"]]
    if behind:   # a version served since some were sent reads them (at most a bounded batch per request)
        try:
            for classifier in behind:
                version_answers.catch_up(store(), drawing_scores.key_of(classifier), classifier, [round_id])
            summary = rounds().summary(round_id)
        except StoreRefused:
            pass   # the report shows what was read before
    accuracy = []
    for classifier in models().ordered():
        right, total = summary["models"].get(classifier.name, [0, 0])
        accuracy.append({"model": classifier.name, "title": model_title(classifier.name), "right": right,
                         "read": total, "accuracy": right / total if total else None,
                         "mnist_per_digit": mnist_per_digit(classifier)})
    served = models().ordered()[0].name if models().ordered() else None
    return {**round_json(found), "sent": summary["sent"], "senders": summary["senders"],
            "devices": summary["devices"], "models": accuracy, "served_model": served,
            "confusion": summary["confusion"], "per_digit": per_digit(summary["confusion"])}


def per_digit(matrix: list[list[int]]) -> list[dict]:
    """The served model's right readings and drawings per digit the class drew."""
    return [{"digit": digit, "right": row[digit], "total": sum(row)} for digit, row in enumerate(matrix)]


def mnist_per_digit(classifier) -> list[float] | None:
    """The model's accuracy per digit on MNIST test, from its training report (None when it has none)."""
    matrix = classifier.report.get("confusion_matrix")
    if not matrix:
        return None
    return [row[digit] / sum(row) if sum(row) else None for digit, row in enumerate(matrix)]


@bp.get(f"/<int(max={LARGEST_ID}):round_id>/drawings")
@teacher_required("Seeing a round's drawings", changes_state=False)
def round_drawings(round_id: int):
    """The round's drawings after `after` (oldest first, at most `limit`) and the ids the teacher hid."""
    rounds().get(round_id)
    after = whole_number("after", 0, largest=LARGEST_ID)
    limit = whole_number("limit", 500, smallest=1, largest=1000)
    found = rounds().drawings(round_id, after, limit)
    return jsonify(items=[round_events.tile_json(drawing, request.script_root) for drawing in found],
                   hidden=rounds().hidden(round_id))


@bp.post(f"/<int(max={LARGEST_ID}):round_id>/drawings")
def send_drawing(round_id: int):
    """A student's drawing for the round (multipart `image`, and `label` in an "any" round); 201 with the served
    model's reading; 409 when the round is paused or ended."""
    data = uploaded_image_bytes()
    found = rounds().check_open(round_id)
    label = found.digit if found.kind == "digit" else digit_field("label", field("label"))
    ordered = models().ordered()
    if not ordered:
        raise ApiError(503, "No model is loaded on this server; see /api/health.")
    served = ordered[0]
    reading = read(data, "digit", ordered, current_app.config["MAX_IMAGE_PIXELS"])
    if not reading.digits:
        raise ApiError(400, N_("Nothing is drawn in this image: draw the digit, then send it."))
    [copy] = kept_copies(reading.image, reading.digits[:1], "digit")
    nickname = nicknames.device_nickname()
    pixels = reading.digits[0].pixels
    shown = shown_answer(served, reading, 0)
    try:
        drawing_id = rounds().add_drawing(NewDrawing(
            image=copy, pixels=pixels, label=int(label), answers=drawing_scores.answers_to(reading, 0),
            writer=writer_of_request(), round_id=round_id, nickname=nickname, **shown))
    except AlreadyKept:
        sent = rounds().sent_already(round_id, nickname, pixels)
        if sent is None:
            raise ApiError(409, N_("This drawing is exactly like one kept already: draw it again a little "
                                   "differently.")) from None
        # Sent again after its answer was lost on the wifi: kept once, answered as the first time.
        extra = where_it_looked(served.name, pixels, sent.digit) if found.fool and sent.digit is not None else {}
        return jsonify(id=sent.id, round=round_id, label=sent.label, digit=sent.digit,
                       confidence=round(sent.confidence or 0.0, 6), model=sent.model,
                       model_title=model_title(sent.model or served.name), right=sent.digit == sent.label,
                       nickname=nickname, already=True, **extra), 200
    record_device(round_id, nickname)
    log.info("round %d: drawing #%d sent", round_id, drawing_id)
    confidence = float(shown["probabilities"][shown["prediction"]])
    extra = where_it_looked(served.name, pixels, shown["prediction"]) if found.fool else {}
    return jsonify(id=drawing_id, round=round_id, label=int(label), digit=shown["prediction"],
                   confidence=round(confidence, 6), model=served.name, model_title=model_title(served.name),
                   right=shown["prediction"] == int(label), nickname=nickname, **extra), 201


def where_it_looked(model: str, pixels, digit: int) -> dict:
    """In a fool round: whether the drawing fooled the model is `right` false; this adds the model's input and
    the heat map of the ink that made it read `digit` (null when the model cannot be explained here or many
    explanations are running: the answer never waits for one)."""
    explainer = current_app.extensions["explainers"].get(model)
    saliency = None
    if explainer is not None and explain.running.acquire(blocking=False):
        try:
            saliency = explain.saliency_json(explainer.saliency(pixels, digit))
        finally:
            explain.running.release()
    return {"input": png_data_url(pixels), "saliency": saliency}


@bp.get(f"/<int(max={LARGEST_ID}):round_id>/events")
@teacher_required("Following a round", changes_state=False)
def round_stream(round_id: int):
    """Server-sent events: `drawing` (id: the drawing's), `hidden`, `state`; Last-Event-ID resumes."""
    rounds().get(round_id)
    return round_events.stream(round_id, last_event_id())


def last_event_id() -> int:
    given = request.headers.get("Last-Event-ID") or request.args.get("lastEventId") or "0"
    if not (given.isascii() and given.isdigit() and len(given) <= 19):
        raise ApiError(400, "`Last-Event-ID` must be the id of the last drawing the wall received.")
    return min(int(given), LARGEST_ID)


def change_state(round_id: int, state: str, action: str):
    changed = rounds().set_state(round_id, state)
    log.info("round %d %s by the teacher", round_id, action)
    return jsonify(round_json(changed))


@bp.post(f"/<int(max={LARGEST_ID}):round_id>/pause")
@teacher_required("Pausing a round")
def pause_round(round_id: int):
    return change_state(round_id, "paused", "paused")


@bp.post(f"/<int(max={LARGEST_ID}):round_id>/resume")
@teacher_required("Resuming a round")
def resume_round(round_id: int):
    return change_state(round_id, "open", "resumed")


@bp.post(f"/<int(max={LARGEST_ID}):round_id>/end")
@teacher_required("Ending a round")
def end_round(round_id: int):
    return change_state(round_id, "ended", "ended")


@bp.delete(f"/<int(max={LARGEST_ID}):round_id>")
@teacher_required("Deleting a round")
def delete_round(round_id: int):
    deleted = rounds().delete(round_id)
    log.info("round %d deleted by the teacher with its %d drawings", round_id, deleted)
    return jsonify(deleted=deleted)


@bp.delete(f"/<int(max={LARGEST_ID}):round_id>/drawings/<int(max={LARGEST_ID}):drawing_id>")
@teacher_required("Hiding a drawing")
def hide_drawing(round_id: int, drawing_id: int):
    """Take a drawing off the wall and out of the store."""
    if not rounds().hide(round_id, drawing_id):
        raise ApiError(404, f"Round {round_id} has no drawing #{drawing_id}.")
    log.info("round %d: drawing #%d hidden by the teacher", round_id, drawing_id)
    return "", 204



@bp.post(f"/<int(max={LARGEST_ID}):round_id>/teach")
@teacher_required("Teaching the model")
def teach(round_id: int):
    """Fine-tune a model (default: the served one) on the collected drawings, this round's fair ones with the
    corrections collected before, as POST /api/finetune does; the round's fixed fifth is held out. 202 with the
    run (follow it with GET /api/finetune)."""
    body = json_body() if request.content_length else {}
    if not isinstance(body, dict):
        raise ApiError(400, 'Send JSON such as {"model": "cnn"}, or nothing for the served model.')
    name, allow_one_device = versions.run_choices(body)
    versions.known_model(name)
    rounds().get(round_id)   # 404 for a round that does not exist
    if not rounds().count(round_id):
        raise ApiError(409, N_("Round %(round)s has no drawings yet: there is nothing to teach from."), round=round_id)
    log.info("round %d: the teacher teaches %s from the wall", round_id, name)
    return versions.start_run(name, allow_one_device=allow_one_device)


@bp.get(f"/<int(max={LARGEST_ID}):round_id>/export.zip")
@teacher_required("Downloading a round", changes_state=False)
def export_round_zip(round_id: int):
    """The round's drawings as a zip: one PNG each and drawings.csv (nicknames only with `nicknames=1`)."""
    rounds().get(round_id)
    return exports.zip_response(round_id, f"digitdraw-round-{round_id}.zip")


@bp.get(f"/<int(max={LARGEST_ID}):round_id>/export.npz")
@teacher_required("Downloading a round", changes_state=False)
def export_round_npz(round_id: int):
    """The round's drawings as the arrays `train.py --extra-data` reads."""
    rounds().get(round_id)
    return exports.npz_response(round_id, f"digitdraw-round-{round_id}.npz")
