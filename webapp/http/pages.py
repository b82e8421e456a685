"""The HTML pages: the drawing page (with its join QR code dialog) and the evaluation page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from webapp.http.join import join_details
from webapp.http.teacher import collecting

bp = Blueprint("pages", __name__)


@bp.get("/")
def draw():
    return render_template("draw.html", models=current_app.extensions["models"].summaries(),
                           unsure_threshold=current_app.config["UNSURE_THRESHOLD"], collecting=collecting(),
                           **join_details())


@bp.get("/evaluation")
def evaluation():
    """The page shell; the browser fetches each model's report from /api/reports/<name> and draws it."""
    return render_template("evaluation.html", models=current_app.extensions["models"].summaries())
