"""The HTML pages: the drawing page and the evaluation page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


def model_summaries() -> list[dict]:
    """Every loaded model, best first, as /api/models lists them."""
    registry = current_app.extensions["models"]
    return [registry.classifiers[name].describe() for name in registry.names]


@bp.get("/")
def draw():
    return render_template("draw.html", models=model_summaries(),
                           unsure_threshold=current_app.config["UNSURE_THRESHOLD"])


@bp.get("/evaluation")
def evaluation():
    """The page shell; the browser fetches each model's report from /api/reports/<name> and draws it."""
    return render_template("evaluation.html", models=model_summaries())
