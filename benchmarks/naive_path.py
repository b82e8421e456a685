"""The classic notebooks' "predict my own image" input: the baseline the project's path is measured against."""

import cv2
import numpy as np

from webapp.mnist_format import IMAGE_SIDE


def naive_input(data: bytes) -> np.ndarray:
    """What the notebooks did: decode as grey, squash the whole image to 28x28, scale to [0, 1]."""
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(grey, (IMAGE_SIDE, IMAGE_SIDE)).astype(np.float32) / 255
