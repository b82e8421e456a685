"""What the tests share: the app as they build it, posting an image, and drawings as browsers send them."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from flask import Flask
from PIL import Image

from benchmarks.canvas import canvas_png
from webapp import create_app

__all__ = ["TEACHER_TOKEN", "canvas_png", "digit_pngs", "make_app", "number_png", "post_image", "save_digits"]

TEACHER_TOKEN = "teacher-token-for-tests"


def make_app(database: Path, **config) -> Flask:
    """The real app with the shipped models and its own database. Rate limits are off: the suite
    sends thousands of requests from one address (tests/test_ratelimits.py switches them on)."""
    return create_app({"TESTING": True, "DATABASE": str(database), "TEACHER_TOKEN": TEACHER_TOKEN,
                       "RATELIMIT_ENABLED": False, **config})


def post_image(client, png: bytes, path: str = "/api/predict", filename: str = "drawing.png", query: str = "",
               **fields):
    """POST `png` as the multipart field `image` (what `canvas.toBlob` + FormData send) with `fields`;
    `query` (e.g. "?model=mlp") is appended to the path."""
    return client.post(path + query, data={"image": (io.BytesIO(png), filename), **fields},
                       content_type="multipart/form-data")


def digit_pngs(mnist, digit: int, count: int) -> list[bytes]:
    """`count` different MNIST test digits `digit` as canvas PNGs: the store keeps each drawing once, so a test
    that saves several needs different ones."""
    return [canvas_png(mnist.x_test[index]) for index in np.flatnonzero(mnist.y_test == digit)[:count]]


def save_digits(client, mnist, indexes) -> list[int]:
    """MNIST test digits saved through POST /api/feedback as a student's page saves them; their ids."""
    ids = []
    for index in indexes:
        response = post_image(client, canvas_png(mnist.x_test[index]), "/api/feedback",
                              label=str(int(mnist.y_test[index])))
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def number_png(mnist, indexes) -> bytes:
    """MNIST test digits side by side on one transparent canvas, as number mode reads them."""
    digits = [mnist.x_test[index] for index in indexes]
    row = np.concatenate([np.pad(digit, ((4, 4), (6, 6))) for digit in digits], axis=1)
    return canvas_png_of(cv2.resize(row, (row.shape[1] * 8, row.shape[0] * 8), interpolation=cv2.INTER_LINEAR))


def canvas_png_of(alpha: np.ndarray) -> bytes:
    rgba = np.dstack([np.zeros(alpha.shape + (3,), np.uint8), alpha])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()
