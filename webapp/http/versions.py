"""Model versions and fine-tuning over HTTP (see docs/API.md).

    GET  /api/models/<name>/versions                 every version of a model, newest first (public)
    POST /api/models/<name>/versions/<id>/serve      serve that version: publish or roll back (teacher)
    POST /api/finetune   {"model": name}             start fine-tuning in its own low-priority process (teacher)
    GET  /api/finetune                               the latest run: state, progress lines, result (teacher)

Fine-tuning never runs in a web worker: the worker starts `flask --app webapp finetune --job ID` under
`nice`, in its own session (it outlives a worker restart), and the run reports into the store.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

from flask import Blueprint, Flask, current_app, jsonify, request

from webapp import PROJECT_ROOT
from webapp.feedback.finetune_jobs import FinetuneJobs, JobRunning
from webapp.feedback.model_versions import ModelVersions
from webapp.feedback.store import StoreRefused
from webapp.http.errors import ApiError
from webapp.http.requests import models, unknown_model
from webapp.http.same_origin import require_same_origin
from webapp.http.teacher import require_teacher

log = logging.getLogger("digitdraw")
bp = Blueprint("versions", __name__, url_prefix="/api")
FINETUNE_NICENESS = 19
_children: list[subprocess.Popen] = []   # started runs, reaped when they end
_children_lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.before_request
def refuse_cross_site_writes() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        require_same_origin(allow_listed_origins=False)


def versions() -> ModelVersions:
    return ModelVersions(current_app.extensions["feedback"])


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
    known_model(name)

    def listing():
        kept = versions()
        kept.register_folder(current_app.config["MODEL_DIR"], [name])   # the shipped model: the first version
        return [version.summary() for version in kept.of_model(name)]

    listed = in_store(listing)
    return jsonify(model=name, current=next((v["id"] for v in listed if v["current"]), None), versions=listed)


@bp.post("/models/<name>/versions/<int:version_id>/serve")
def serve_version(name: str, version_id: int):
    """Make a version the one every worker serves (within MODEL_RELOAD_SECONDS)."""
    require_teacher("Choosing the model version")
    known_model(name)
    try:
        version = in_store(lambda: versions().make_current(name, version_id))
    except ValueError as error:
        raise ApiError(404, f"{name} has no version with id {version_id}.") from error
    log.info("teacher made %s version %s (#%s) current", name, version.number, version.id)
    in_store(current_app.extensions["live_models"].refresh)   # this worker at once; the others within seconds
    return jsonify(version.summary())


def optional_int(payload: dict, key: str, low: int, high: int) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ApiError(400, f"`{key}` must be a whole number from {low} to {high}.")
    return value


@bp.post("/finetune")
def start_finetune():
    require_teacher("Fine-tuning")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, 'Send JSON such as {"model": "cnn"}.')
    name = payload.get("model") or (models().names[0] if models().names else None)
    if not isinstance(name, str):
        raise ApiError(400, "`model` must be a model's name.")
    known_model(name)
    epochs = optional_int(payload, "epochs", 1, 20)
    replay = optional_int(payload, "replay", 0, 55_000)
    limit = optional_int(payload, "limit", 1, 10_000_000)
    try:
        job_id = in_store(lambda: FinetuneJobs(current_app.extensions["feedback"]).start(name))
    except JobRunning as error:
        raise ApiError(409, str(error)) from error
    launch(job_id, name, epochs, replay, limit)
    log.info("teacher started fine-tuning %s (run %s)", name, job_id)
    return jsonify(id=job_id, model=name, state="running", progress=[], result=None), 202


@bp.get("/finetune")
def finetune_status():
    require_teacher("Watching fine-tuning", changes_state=False)
    reap()
    job = in_store(FinetuneJobs(current_app.extensions["feedback"]).latest)
    return jsonify(job.as_json() if job else None)


def launch(job_id: int, name: str, epochs: int | None, replay: int | None, limit: int | None) -> None:
    """`flask finetune --job ID` in its own process at the lowest priority, told this app's settings."""
    config = current_app.config
    command = [sys.executable, "-m", "flask", "--app", "webapp", "finetune", "--model", name, "--job", str(job_id)]
    for option, value in (("--epochs", epochs), ("--replay", replay), ("--limit", limit)):
        if value is not None:
            command += [option, str(value)]
    environment = {**os.environ, "DIGITDRAW_DATABASE": str(config["DATABASE"]),
                   "DIGITDRAW_MODEL_DIR": str(config["MODEL_DIR"]),
                   "DIGITDRAW_FINETUNE_MAX_TEST_DROP": str(config["FINETUNE_MAX_TEST_DROP"]),
                   "DIGITDRAW_FINETUNE_MAX_DRAWINGS_DROP": str(config["FINETUNE_MAX_DRAWINGS_DROP"])}
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                             preexec_fn=lambda: os.nice(FINETUNE_NICENESS))
    with _children_lock:
        _children.append(child)


def reap() -> None:
    """Collect the exit status of runs that ended (no zombies left behind)."""
    with _children_lock:
        _children[:] = [child for child in _children if child.poll() is None]
