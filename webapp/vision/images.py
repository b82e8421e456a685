"""Small image helpers shared by the API, the drawings store and training reports."""

from __future__ import annotations

import base64

import cv2
import numpy as np


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """A [0, 1] float array or a uint8 array as uint8 grey levels."""
    if pixels.dtype == np.uint8:
        return pixels
    return np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)


def png_data_url(pixels: np.ndarray, compression: int = 9) -> str:
    """A 2-D grey image as a `data:image/png;base64,...` URL for an <img> tag.

    OpenCV's encoder: a 28x28 digit in 0.04 ms, where Pillow's took 0.065 ms, on every prediction. Larger
    images (a layer's feature maps) use `compression=1`: level 9 took 1.6 ms each, 67 ms for the CNN's layers."""
    encoded, png = cv2.imencode(".png", to_uint8(pixels), [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not encoded:
        raise ValueError(f"cannot encode a {pixels.shape} {pixels.dtype} image as PNG")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
