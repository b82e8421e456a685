"""A digit as a browser's canvas sends it, for the benchmarks and the tests (the app never makes one)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from webapp.vision.images import to_uint8


def canvas_png(pixels: np.ndarray, size: int = 280) -> bytes:
    """A 28x28 MNIST digit as a browser canvas sends it: black ink on transparency, size x size PNG.

    The enlarged digit's soft grey edges are steepened into a crisp stroke with a thin
    anti-aliased rim, as a canvas brush paints it.
    """
    enlarged = Image.fromarray(to_uint8(pixels), mode="L").resize((size, size), Image.Resampling.BILINEAR)
    alpha = np.clip((np.asarray(enlarged, np.int16) - 64) * 3, 0, 255).astype(np.uint8)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.putalpha(Image.fromarray(alpha, mode="L"))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
