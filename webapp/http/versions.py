"""Model versions and fine-tuning over HTTP (see docs/API.md).

    GET  /api/models/<name>/versions                 every version of a model, newest first (public, read-only)
    POST /api/models/<name>/versions/<id>/serve      serve that version: publish or roll back (teacher)
    POST /api/finetune   {"model": name}             start fine-tuning in its own low-priority process (teacher)
    GET  /api/finetune                               the latest run: state, progress lines, result (teacher)
    GET  /api/finetune/readiness                     can a run start: the tools, the drawings per label, how many
                                                     are held out and how many more are needed (teacher)

Fine-tuning never runs in a web worker: the worker starts `nice -n 19 flask --app webapp finetune --job ID` in
its own session (it outlives a worker restart), and the run reports into the store; the run also puts itself in
Linux's idle scheduling class (training/cli.py).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

from flask import Blueprint, Flask, current_app, jsonify

from webapp import PROJECT_ROOT
from webapp.http.errors import ApiError, sentence_in_words
from webapp.http.requests import json_body, models, unknown_model
from webapp.http.teacher import teacher_required
from webapp.inference.classifier import Classifier
from webapp.sentences import N_
from webapp.store import drawings, get_store, one_device
from webapp.store.held_out import MIN_DRAWINGS, held_out_count, run_possible
from webapp.store.jobs import FinetuneJobs, JobRunning
from webapp.store.refusals import StoreRefused
from webapp.store.versions import SHIPPED, ModelVersions, VersionDamaged
from webapp.training_tools import why_finetuning_unavailable

log = logging.getLogger("digitdraw")
bp = Blueprint("versions", __name__, url_prefix="/api")
FINETUNE_NICENESS = 19
LARGEST_ID = 2**63 - 1                  # SQLite's largest row id
_children: list[tuple[subprocess.Popen, int]] = []   # started runs and their job ids, reaped when they end
_children_lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def versions() -> ModelVersions:
    return ModelVersions(get_store())


def known_model(name: str) -> str:
    if name not in models().classifiers:
        raise unknown_model(name, 404)
    return name


def in_store(work):
    """The store's answer, or a 503 sentence when it cannot be used."""
    try:
        return work()
    except StoreRefused as error:
        raise ApiError(error.status, str(error)) from error


@bp.get("/models/<name>/versions")
def list_versions(name: str):
    """Read-only: before any version is kept, the model folder's file is listed as version 1 (id null)."""
    known_model(name)
    store = get_store()
    listed = in_store(lambda: [version.summary() for version in versions().of_model(name)]) \
        if store.exists() else []   # no store yet: nothing kept, and a listing does not create one
    if not listed:
        classifier = models().classifiers[name]
        listed = [{"id": None, "model": name, "number": 1, "origin": SHIPPED, "created": None, "parent": None,
                   "sha256": classifier.sha256, "current": True, "kept": True,
                   "trained_on": {"source": "model folder (train.py)",
                                  "images": classifier.report.get("train_images")},
                   "test_accuracy": classifier.report.get("test_accuracy"),
                   "temperature": (classifier.report.get("calibration") or {}).get("temperature"),
                   "finetune": None}]
    return jsonify(model=name, current=next((v["id"] for v in listed if v["current"]), None), versions=listed)


@bp.post(f"/models/<name>/versions/<int(max={LARGEST_ID}):version_id>/serve")
@teacher_required("Choosing the model version")
def serve_version(name: str, version_id: int):
    """Make a version the one every worker serves (within MODEL_RELOAD_SECONDS), after checking it loads."""
    known_model(name)
    kept = versions()
    in_store(lambda: kept.register_folder(current_app.config["MODEL_DIR"], [name]))
    version = in_store(lambda: kept.get(version_id))
    if version is None or version.model != name:
        raise ApiError(404, f"{name} has no version with id {version_id}.")
    try:
        files = in_store(lambda: kept.files(version_id))
        Classifier(name, files["tflite"], version.report)
    except (VersionDamaged, ValueError, RuntimeError) as error:
        raise ApiError(409, f"{name} version {version.number} cannot be served: {error}") from error
    version = in_store(lambda: kept.make_current(name, version_id))
    log.info("teacher made %s version %s (#%s) current", name, version.number, version.id)
    live = current_app.extensions["live_models"]
    live.check_now()   # this worker at once; the others within MODEL_RELOAD_SECONDS
    return jsonify(version.summary())


def optional_int(payload: dict, key: str, low: int, high: int) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ApiError(400, f"`{key}` must be a whole number from {low} to {high}.")
    return value


@bp.post("/finetune")
@teacher_required("Fine-tuning")
def start_finetune():
    payload = json_body()
    if not isinstance(payload, dict):
        raise ApiError(400, 'Send JSON such as {"model": "cnn"}.')
    name, allow_one_device = run_choices(payload)
    return start_run(name, epochs=optional_int(payload, "epochs", 1, 20),
                     replay=optional_int(payload, "replay", 0, 55_000),
                     limit=optional_int(payload, "limit", 1, 10_000_000), allow_one_device=allow_one_device)


def run_choices(payload: dict) -> tuple[str, bool]:
    """The model to fine-tune (default: the best one, the one served first) and `allow_one_device`, checked."""
    name = payload.get("model") or (models().names[0] if models().names else None)
    if not isinstance(name, str):
        raise ApiError(400, "`model` must be a model's name.")
    allow_one_device = payload.get("allow_one_device", False)
    if not isinstance(allow_one_device, bool):
        raise ApiError(400, "`allow_one_device` must be true or false.")
    return name, allow_one_device


def start_run(name: str, *, epochs: int | None = None, replay: int | None = None, limit: int | None = None,
              allow_one_device: bool = False):
    """Start a fine-tuning run of `name` on the collected drawings: 202 with the run, or the refusal."""
    known_model(name)
    unavailable = why_finetuning_unavailable()
    if unavailable:
        raise ApiError(503, unavailable)
    total = in_store(get_store().count)
    if not run_possible(min(total, limit or total)):
        raise ApiError(409, N_("Fine-tuning needs at least %(least)s collected drawings; collect %(more)s more."),
                       least=MIN_DRAWINGS, more=MIN_DRAWINGS - min(total, limit or total))
    too_much_from_one_device = one_device.refusal(one_device.dominated_digits(in_store(get_store().senders)))
    if too_much_from_one_device and not allow_one_device and limit is None:
        raise ApiError(409, too_much_from_one_device.template, **too_much_from_one_device.values)
    reap()
    jobs = FinetuneJobs(get_store())
    try:
        job_id = in_store(lambda: jobs.start(name))
    except JobRunning as error:
        raise ApiError(409, str(error)) from error
    try:
        launch(job_id, name, epochs, replay, limit, allow_one_device)
    except OSError as error:
        reason = f"The fine-tuning process could not be started ({error.strerror or error})."
        in_store(lambda: jobs.finish(job_id, "failed", {"model": name, "published": False, "reason": reason}))
        raise ApiError(503, reason) from error
    log.info("teacher started fine-tuning %s (run %s)", name, job_id)
    return jsonify(id=job_id, model=name, state="running", progress=[], result=None), 202


@bp.get("/finetune")
@teacher_required("Watching fine-tuning", changes_state=False)
def finetune_status():
    reap()
    job = in_store(FinetuneJobs(get_store()).latest)
    return jsonify(job.as_json()) if job else ("", 204)   # no run yet


@bp.get("/finetune/readiness")
@teacher_required("Fine-tuning", changes_state=False)
def finetune_readiness():
    """What the teacher sees before pressing Fine-tune: whether it can run here and on these drawings."""
    senders = in_store(get_store().senders)
    collected = drawings.collected(senders)
    one_device_digits = one_device.dominated_digits(senders)
    total = collected["drawings"]
    held_out = held_out_count(max(total, MIN_DRAWINGS))
    unavailable = why_finetuning_unavailable()
    return jsonify(**collected, minimum=MIN_DRAWINGS, needed=max(0, MIN_DRAWINGS - total),
                   held_out=held_out, to_learn_from=max(0, total - held_out),
                   tools_ready=unavailable is None, reason=unavailable,
                   one_device=one_device_digits,
                   one_device_reason=sentence_in_words(one_device.refusal(one_device_digits)),
                   ready=unavailable is None and run_possible(total))


def launch(job_id: int, name: str, epochs: int | None, replay: int | None, limit: int | None,
           allow_one_device: bool = False) -> None:
    """`flask finetune --job ID` in its own process at the lowest priority, told this app's settings."""
    config = current_app.config
    command = ["nice", "-n", str(FINETUNE_NICENESS), sys.executable, "-m", "flask", "--app", "webapp",
               "finetune", "--model", name, "--job", str(job_id)]
    for option, value in (("--epochs", epochs), ("--replay", replay), ("--limit", limit)):
        if value is not None:
            command += [option, str(value)]
    if allow_one_device:
        command.append("--allow-one-device")
    environment = {**os.environ, "DIGITDRAW_DATABASE": str(config["DATABASE"]),
                   "DIGITDRAW_MODEL_DIR": str(config["MODEL_DIR"]),
                   "DIGITDRAW_FINETUNE_MAX_TEST_DROP": str(config["FINETUNE_MAX_TEST_DROP"]),
                   "DIGITDRAW_FINETUNE_MAX_DRAWINGS_DROP": str(config["FINETUNE_MAX_DRAWINGS_DROP"])}
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    with _children_lock:
        _children.append((child, job_id))


def reap() -> None:
    """Collect the exit status of runs that ended (no zombies left behind); a run whose process died without
    saying how it ended (killed, out of memory) is marked failed with its exit status."""
    with _children_lock:
        ended = [(child, job_id) for child, job_id in _children if child.poll() is not None]
        _children[:] = [entry for entry in _children if entry not in ended]
    jobs = FinetuneJobs(get_store())
    for child, job_id in ended:
        if child.returncode != 0:
            try:
                jobs.finish(job_id, "failed", {"published": False, "reason": f"The fine-tuning process ended "
                                               f"with exit status {child.returncode} before it finished."})
            except StoreRefused:
                pass
