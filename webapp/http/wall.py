"""The class's wall (/wall): the teacher's page for the projector or a second screen, where rounds are started,
paused and ended and the class's drawings arrive live with how the model read them (static/js/wall-page.js).
Students' drawings are the teacher's to show: anyone else is sent to sign in first."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from webapp.http.join import join_details
from webapp.http.model_words import title as model_title
from webapp.http.requests import models
from webapp.http.security import private
from webapp.http.teacher import is_teacher

bp = Blueprint("wall", __name__)


@bp.get("/wall")
@private
def page():
    if not is_teacher():
        return redirect(url_for("teacher.page", next=url_for("wall.page")), 303)
    listed = [{"name": classifier.name, "title": model_title(classifier.name)}
              for classifier in models().ordered()]
    return render_template("wall.html", models=listed, **join_details())
