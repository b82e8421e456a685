"""Digit Draw: draw a digit, a Keras network trained on MNIST says which it is."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from webapp import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings' defaults, then DIGITDRAW_* environment variables or `test_config`.

    A bad environment value stops start-up with one line naming it (settings.SettingError).
    """
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    app.config.from_mapping(
        MODEL_DIR=str(PROJECT_ROOT / "model"),
        DATABASE=os.path.join(app.instance_path, "drawings.sqlite"),
        TEACHER_TOKEN=None,   # teacher mode is off until DIGITDRAW_TEACHER_TOKEN is set
        **settings.defaults(),
    )
    if test_config is None:
        app.config.from_mapping(settings.from_environment())
    else:
        app.config.from_mapping(test_config)

    from webapp.http import cross_origin, errors, logs, ratelimits, security
    from webapp.inference.classifier import ModelRegistry

    logs.setup(app)
    security.harden(app)
    cross_origin.init_app(app)
    errors.register(app)
    app.extensions["models"] = ModelRegistry.from_folder(Path(app.config["MODEL_DIR"]))
    logs.model_problems(app.extensions["models"], app.config["MODEL_DIR"])

    from webapp import cli, store
    from webapp.http import (
        api,
        drawings,
        explain,
        exports,
        join,
        language,
        pages,
        rounds,
        same_origin,
        teacher,
        version_compare,
        versions,
        wall,
    )

    store.init_app(app)
    language.init_app(app)
    app.register_blueprint(api.bp)
    explain.init_app(app)
    app.register_blueprint(pages.bp)
    drawings.init_app(app)
    teacher.init_app(app)
    app.register_blueprint(join.bp)
    versions.init_app(app)
    rounds.init_app(app)
    version_compare.init_app(app)
    app.register_blueprint(wall.bp)
    app.register_blueprint(exports.bp)
    serve_current_versions(app)
    ratelimits.init_app(app)
    same_origin.init_app(app)   # after the limits: a refused request still counts against its client
    app.cli.add_command(cli.predict_command)
    app.cli.add_command(cli.export_drawings_command)
    return app


def serve_current_versions(app: Flask) -> None:
    """Every worker follows the store's current model versions (webapp/inference/live_models.py)."""
    from flask import request

    from webapp.inference.live_models import LiveModels
    from webapp.store.versions import ModelVersions

    live = LiveModels(app.extensions, ModelVersions(app.extensions["store"]), Path(app.config["MODEL_DIR"]),
                      app.config["MODEL_RELOAD_SECONDS"])
    app.extensions["live_models"] = live

    @app.before_request
    def follow_published_versions() -> None:
        if request.endpoint != "static":
            live.refresh_if_due()
