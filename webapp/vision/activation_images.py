"""A layer's activation, or a convolution's filters, as one small grey image a page can show.

Feature maps (height x width x channels) become a grid of tiles, one per channel, each scaled to its own
range so a weak map still shows its shape; a vector of units becomes a strip wrapped into rows. The browser
enlarges them with `image-rendering: pixelated`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

UNITS_PER_ROW = 32
GAP = 1               # pixels of background between tiles
GAP_LEVEL = 60        # dark grey, so black tiles stay visible against it
DECODED_SIDE = 112    # the drawing as decoded is shown at most this size


def scaled(values: np.ndarray) -> np.ndarray:
    """0-255 from the values' own minimum to maximum (all one level: black)."""
    return scaled_each(values[None])[0]


def scaled_each(stack: np.ndarray) -> np.ndarray:
    """The same for each item of a stack (count, ...) at once, each to its own range."""
    flat = stack.reshape(len(stack), -1).astype(np.float32)
    low, high = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    span = np.where(high - low > 1e-9, high - low, np.inf)   # a flat item comes out black
    return np.rint((flat - low) / span * 255).astype(np.uint8).reshape(stack.shape)


def tile_grid(tiles: np.ndarray) -> np.ndarray:
    """(count, h, w) uint8 tiles in a near-square grid with gaps."""
    count, height, width = tiles.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cells = np.full((rows * columns, height + GAP, width + GAP), GAP_LEVEL, np.uint8)
    cells[:count, :height, :width] = tiles
    grid = cells.reshape(rows, columns, height + GAP, width + GAP).transpose(0, 2, 1, 3)
    return grid.reshape(rows * (height + GAP), columns * (width + GAP))[:-GAP, :-GAP]


def activation_image(activation: np.ndarray) -> np.ndarray:
    """Any layer's output for one input as a 2-D uint8 image."""
    if activation.ndim == 3:   # height x width x channels
        return tile_grid(scaled_each(np.moveaxis(activation, -1, 0)))
    if activation.ndim == 2:   # one map
        return scaled(activation)
    units = activation.ravel()
    if len(units) <= UNITS_PER_ROW:
        return scaled(units).reshape(1, -1)
    rows = math.ceil(len(units) / UNITS_PER_ROW)
    padded = np.full(rows * UNITS_PER_ROW, units.min(), units.dtype)
    padded[:len(units)] = units
    return scaled(padded).reshape(rows, UNITS_PER_ROW)


def filters_image(filters: np.ndarray) -> np.ndarray:
    """A first convolution's filters (count, h, w), each scaled to its own range, as a grid."""
    return tile_grid(scaled_each(filters))


def small(image: np.ndarray, side: int = DECODED_SIDE) -> np.ndarray:
    """An image at most `side` pixels on its longest side (the decoded drawing can be a photo)."""
    longest = max(image.shape[:2])
    if longest <= side:
        return image
    factor = side / longest
    return cv2.resize(image, (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor))),
                      interpolation=cv2.INTER_AREA)
