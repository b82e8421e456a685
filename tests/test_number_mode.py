"""mode=number: a drawing of several digits is split into digits and read left to right.

The numbers are composed from real MNIST test digits that the shipped model reads
right at 28x28 (this is a test of splitting and preprocessing, not of the model),
at slightly different sizes and heights, with random gaps between them.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from webapp.vision import segment

NUMBERS = 100
DIGITS_PER_NUMBER = 4
SEED = 2026


@pytest.fixture(scope="module")
def readable(mnist, shipped_models):
    """MNIST test digits the default model reads right as they are, with their labels."""
    images, labels = mnist.x_test[:3000], mnist.y_test[:3000]
    read = shipped_models.default.predict(images.astype(np.float32) / 255).argmax(axis=1)
    keep = read == labels
    return images[keep], labels[keep]


def png(alpha: np.ndarray) -> bytes:
    """A transparent canvas with black ink, as `canvas.toBlob` sends it."""
    rgba = np.dstack([np.zeros(alpha.shape + (3,), np.uint8), alpha])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def enlarged(digit: np.ndarray, height: int) -> np.ndarray:
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = height / crop.shape[0]
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def number_drawing(digits: list[np.ndarray], rng: np.random.Generator) -> bytes:
    """The digits side by side: each 85-100% of the line height, up to 12 px above or below
    the line, separated by gaps of 8-40 px."""
    line = int(rng.integers(90, 140))
    pieces = [enlarged(digit, int(line * rng.uniform(0.85, 1.0))) for digit in digits]
    gaps = rng.integers(8, 41, size=len(pieces) - 1)
    width = 40 + sum(piece.shape[1] for piece in pieces) + int(gaps.sum())
    canvas = np.zeros((line + 80, width), np.uint8)
    left = 20
    for piece, gap in zip(pieces, [*gaps, 0]):
        top = 40 + int(rng.integers(-12, 13)) + (line - piece.shape[0]) // 2
        canvas[top:top + piece.shape[0], left:left + piece.shape[1]] = piece
        left += piece.shape[1] + int(gap)
    return png(canvas)


def read_number(client, data: bytes) -> dict:
    response = client.post("/api/predict", data={"image": (io.BytesIO(data), "number.png"), "mode": "number"},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_json()


def test_four_digit_numbers_from_mnist_are_read_left_to_right(client, readable):
    images, labels = readable
    rng = np.random.default_rng(SEED)
    right = 0
    for _ in range(NUMBERS):
        chosen = rng.choice(len(images), size=DIGITS_PER_NUMBER, replace=False)
        answer = read_number(client, number_drawing(list(images[chosen]), rng))
        right += answer["number"] == "".join(str(label) for label in labels[chosen])
        lefts = [digit["box"][0] for digit in answer["digits"]]
        assert lefts == sorted(lefts)
        assert answer["number"] == "".join(str(digit["digit"]) for digit in answer["digits"])
    assert right / NUMBERS >= 0.95, f"only {right} of {NUMBERS} numbers read right"


def strokes(*polylines) -> np.ndarray:
    canvas = np.zeros((260, 420), np.uint8)
    for points in polylines:
        cv2.polylines(canvas, [np.array(points, np.int32)], False, 255, 14, cv2.LINE_AA)
    return canvas


def test_pieces_of_one_digit_are_merged_by_horizontal_overlap(client):
    """A 4 drawn as two strokes and a 5 whose flag does not touch its body are one digit each."""
    four = [[(80, 40), (30, 150), (130, 150)], [(105, 70), (105, 220)]]
    five = [[(190, 45), (188, 125), (240, 115), (270, 150), (265, 200), (230, 220), (190, 205)],
            [(205, 40), (275, 40)]]
    one = [[(340, 40), (340, 220)]]
    answer = read_number(client, png(strokes(*four, *five, *one)))
    assert [digit["box"][0] for digit in answer["digits"]] == pytest.approx([23, 181, 333], abs=4)
    assert answer["number"] == "451"


def test_number_mode_of_one_digit_is_that_digit(client, readable):
    images, labels = readable
    answer = read_number(client, number_drawing([images[0]], np.random.default_rng(1)))
    assert answer["number"] == str(labels[0]) and len(answer["digits"]) == 1


def test_a_fifteen_digit_phone_number_is_read(client, readable):
    """The longest phone numbers (E.164) have 15 digits; the caps on digits and strokes leave room for them."""
    images, labels = readable
    rng = np.random.default_rng(SEED)
    chosen = rng.choice(len(images), size=15, replace=False)
    answer = read_number(client, number_drawing(list(images[chosen]), rng))
    assert len(answer["digits"]) == 15
    assert answer["number"] == "".join(str(label) for label in labels[chosen])


def test_more_digits_than_number_mode_reads_are_refused_with_a_sentence(client, readable):
    images, _ = readable
    rng = np.random.default_rng(SEED)
    data = number_drawing(list(images[:segment.MAX_DIGITS + 1]), rng)
    response = client.post("/api/predict", data={"image": (io.BytesIO(data), "number.png"), "mode": "number"},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json() == {"error": f"Number mode reads at most {segment.MAX_DIGITS} digits and this "
                                            f"drawing has {segment.MAX_DIGITS + 1}: write a shorter number or "
                                            "send it in parts."}
