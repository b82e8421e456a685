"""The one way a drawing is read: decode it once, find its digits once, ask each chosen model.

The API (one model, or every model for the compare view), the `flask predict`
command and the feedback store all read drawings through `read`, so they cannot
drift apart, and comparing three models costs one decode and one preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from webapp.inference.classifier import Classifier
from webapp.vision import preprocess


@dataclass(frozen=True)
class Answer:
    """One model's probabilities for each digit of a drawing, left to right: (digits, 10)."""

    classifier: Classifier
    probabilities: np.ndarray

    @property
    def digits(self) -> list[int]:
        return [int(row.argmax()) for row in self.probabilities]


@dataclass(frozen=True)
class Reading:
    """A drawing as the models saw it: its digits (none when nothing is drawn) and each model's answer."""

    image: Image.Image             # decoded, oriented, at most preprocess.WORK_SIDE on its longest side
    digits: list[preprocess.Digit]
    answers: list[Answer]          # in the order the models were asked


def read(data: bytes, mode: str, classifiers: list[Classifier], max_pixels: int) -> Reading:
    """Decode `data` (preprocess.ImageRejected when it is no usable image), find the digits in
    `mode` ("digit" or "number"), and let every classifier answer them all in one batch."""
    image = preprocess.decode(data, max_pixels)
    digits = preprocess.digits_in(image, mode)
    if not digits:
        return Reading(image, [], [])
    batch = np.stack([digit.pixels for digit in digits])
    return Reading(image, digits, [Answer(classifier, classifier.predict(batch)) for classifier in classifiers])
