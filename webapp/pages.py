"""The HTML pages: the drawing page and the evaluation page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def draw():
    registry = current_app.extensions["models"]
    return render_template("draw.html", models=[registry.classifiers[n].describe() for n in registry.names],
                           unsure_threshold=current_app.config["UNSURE_THRESHOLD"])


@bp.get("/evaluation")
def evaluation():
    registry = current_app.extensions["models"]
    return render_template("evaluation.html", names=registry.names)
