"""What the tests share: the app as they build it, posting an image, and drawings as browsers send them."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask

from benchmarks.canvas import canvas_png
from webapp import create_app

__all__ = ["TEACHER_TOKEN", "canvas_png", "make_app", "post_image"]

TEACHER_TOKEN = "teacher-token-for-tests"


def make_app(database: Path, **config) -> Flask:
    """The real app with the shipped models and its own database. Rate limits are off: the suite
    sends thousands of requests from one address (tests/test_ratelimits.py switches them on)."""
    return create_app({"TESTING": True, "DATABASE": str(database), "DELETE_TOKEN": TEACHER_TOKEN,
                       "RATELIMIT_ENABLED": False, **config})


def post_image(client, png: bytes, path: str = "/api/predict", filename: str = "drawing.png", query: str = "",
               **fields):
    """POST `png` as the multipart field `image` (what `canvas.toBlob` + FormData send) with `fields`;
    `query` (e.g. "?model=mlp") is appended to the path."""
    return client.post(path + query, data={"image": (io.BytesIO(png), filename), **fields},
                       content_type="multipart/form-data")
