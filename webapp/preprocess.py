"""From the bytes of any drawing or photo to what MNIST looks like.

MNIST digits are white ink on black, size-normalised so the longest side is 20
pixels, and centred by centre of mass in a 28x28 field. Each step below is a
small function so the page can show the stages.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

MNIST_SIZE = 28
DIGIT_BOX = 20
INK_THRESHOLD = 0.2           # ink level that counts as drawn
MIN_INK_FRACTION = 0.0005      # less ink than this in the whole image is "nothing drawn"


class ImageRejected(ValueError):
    """Input that is not a usable image; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Digit:
    box: tuple[int, int, int, int]   # x, y, width, height in the original image
    pixels: np.ndarray               # 28x28 float32 in [0, 1], white ink on black


def decode(data: bytes, max_pixels: int) -> Image.Image:
    """Open the image, check its size before decoding, apply EXIF orientation, take frame 1."""
    if not data:
        raise ImageRejected("The image is empty: no bytes were sent.")
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        raise ImageRejected("This is not an image we can read. Send a PNG, JPEG, WebP, GIF or BMP.",
                            status=415) from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected(f"The image is {width}x{height} pixels; the limit is {max_pixels:,} pixels.",
                            status=413)
    try:
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception:
        raise ImageRejected("The image file is damaged or truncated and cannot be decoded.") from None
    return image


def ink_map(image: Image.Image) -> np.ndarray:
    """Ink level per pixel in [0, 1], whatever the mode and polarity of the image."""
    if has_transparency(image):
        rgba = image.convert("RGBA")
        return np.asarray(rgba, dtype=np.float32)[..., 3] / 255.0
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    return grey if background_is_dark(grey) else 1.0 - grey


def has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        return bool(alpha.min() < 255)
    return False


def background_is_dark(grey: np.ndarray) -> bool:
    """The border pixels are mostly background: their median decides the polarity."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border)) < 0.5


def is_empty(ink: np.ndarray) -> bool:
    return float((ink > INK_THRESHOLD).mean()) < MIN_INK_FRACTION or ink.max() < INK_THRESHOLD


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def fit_in_box(crop: np.ndarray, size: int = DIGIT_BOX) -> np.ndarray:
    """Scale the longest side to `size` keeping the aspect ratio, with area averaging."""
    height, width = crop.shape
    scale = size / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(crop, new_size, interpolation=interpolation)


def paste_centred_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste into 28x28 and shift so the centre of mass is the centre, as MNIST did."""
    field = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    height, width = digit.shape
    top, left = (MNIST_SIZE - height) // 2, (MNIST_SIZE - width) // 2
    field[top:top + height, left:left + width] = digit
    total = field.sum()
    if total <= 0:
        return field
    rows, cols = np.indices(field.shape)
    shift_y = (MNIST_SIZE - 1) / 2 - (rows * field).sum() / total
    shift_x = (MNIST_SIZE - 1) / 2 - (cols * field).sum() / total
    matrix = np.float32([[1, 0, shift_x], [0, 1, shift_y]])
    return cv2.warpAffine(field, matrix, (MNIST_SIZE, MNIST_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def to_mnist(ink: np.ndarray) -> np.ndarray | None:
    """An ink map of one digit -> the 28x28 model input, or None when nothing is drawn."""
    if is_empty(ink):
        return None
    x, y, width, height = ink_box(ink)
    digit = fit_in_box(ink[y:y + height, x:x + width])
    return np.clip(paste_centred_by_mass(digit), 0.0, 1.0).astype(np.float32)


def digits_in(image: Image.Image, mode: str = "digit") -> list[Digit]:
    """The digits of a decoded image: one for `digit` mode, left to right for `number`."""
    ink = ink_map(image)
    pixels = to_mnist(ink)
    if pixels is None:
        return []
    return [Digit(box=ink_box(ink), pixels=pixels)]
