"""Downloads of the class's drawings for the teacher (webapp/store/exports.py makes them): a zip of PNGs with a
CSV, and the `.npz` for `train.py --extra-data`; of one round (webapp/http/rounds.py) or of every drawing."""

from __future__ import annotations

from flask import Blueprint, current_app, request, stream_with_context

from webapp.http.requests import models, served_versions
from webapp.http.teacher import teacher_required
from webapp.store import exports
from webapp.store import get_store as store

bp = Blueprint("exports", __name__, url_prefix="/api/drawings")


def attachment(response, filename: str):
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def zip_response(round_id: int | None, filename: str):
    names = [classifier.name for classifier in models().ordered()]
    chunks = exports.zip_chunks(store(), names, round_id, with_nicknames=request.args.get("nicknames") == "1",
                                served=served_versions())
    return attachment(current_app.response_class(stream_with_context(chunks), mimetype="application/zip"), filename)


def npz_response(round_id: int | None, filename: str):
    data, _ = exports.npz_bytes(store(), round_id)
    return attachment(current_app.response_class(data, mimetype="application/octet-stream"), filename)


@bp.get("/export.zip")
@teacher_required("Downloading the drawings", changes_state=False)
def export_zip():
    """Every drawing as a zip: one PNG each and drawings.csv (nicknames only with `nicknames=1`)."""
    return zip_response(None, "digitdraw-drawings.zip")


@bp.get("/export.npz")
@teacher_required("Downloading the drawings", changes_state=False)
def export_npz():
    """Every drawing as the arrays `train.py --extra-data` reads (what `flask export-drawings` writes)."""
    return npz_response(None, "digitdraw-drawings.npz")
