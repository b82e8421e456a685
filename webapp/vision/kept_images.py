"""The copy of a drawing that the store keeps: small, re-encoded, nothing but its pixels.

Keeping uploads as sent let one client fill the disk at 132 MB/s (2 MiB per
drawing, junk after a PNG's end included) and kept phone photos' EXIF, GPS
position and all. A copy of at most a few hundred pixels is plenty to look at a
drawing again or recompute its 28x28 input; it is made from the decoded pixels
into a fresh image, so no metadata of the upload can ride along.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

JPEG_QUALITY = 85
MAX_KEPT_BYTES = 48 * 1024   # the copy shrinks further until it fits (only noise needs that)


def downscaled(image: Image.Image, longest_side: int) -> Image.Image:
    """A fresh image with the decoded drawing's pixels, at most `longest_side` pixels on its longest side."""
    copy = Image.frombytes(image.mode, image.size, image.tobytes())   # pixels only: no EXIF, no ICC, no text
    copy.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    return copy


def crop_of(copy: Image.Image, box: tuple[int, int, int, int], source_size: tuple[int, int]) -> Image.Image:
    """The part of the copy inside `box`, a box given in pixels of the original upload."""
    scale_x, scale_y = copy.width / source_size[0], copy.height / source_size[1]
    x, y, width, height = box
    left, top = min(copy.width - 1, int(x * scale_x)), min(copy.height - 1, int(y * scale_y))
    right = min(copy.width, max(left + 1, round((x + width) * scale_x)))
    bottom = min(copy.height, max(top + 1, round((y + height) * scale_y)))
    return copy.crop((left, top, right, bottom))


def encoded(image: Image.Image) -> bytes:
    """PNG when the drawing has transparency (a canvas), JPEG otherwise; at most MAX_KEPT_BYTES."""
    data = encode_once(image)
    while len(data) > MAX_KEPT_BYTES:   # each round shrinks the image, and a tiny image always fits
        factor = (MAX_KEPT_BYTES / len(data)) ** 0.5 * 0.9
        image = image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))),
                             Image.Resampling.BOX)
        data = encode_once(image)
    return data


def encode_once(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    if has_transparency(image):
        as_grey_if_grey(image).save(buffer, format="PNG")   # level 9 saves 4% for 4x the time
    else:
        opaque = image.convert("L" if image.mode in ("L", "LA") else "RGB")
        opaque.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def has_transparency(image: Image.Image) -> bool:
    return image.mode in ("LA", "RGBA") and image.getchannel("A").getextrema()[0] < 255


def as_grey_if_grey(image: Image.Image) -> Image.Image:
    """LA instead of RGBA when every pixel is grey, as a canvas drawing in black ink is: half the bytes."""
    if image.mode != "RGBA":
        return image
    pixels = np.asarray(image)
    if (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        return image.convert("LA")
    return image


SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
              (b"BM", "image/bmp"))


def mimetype_of(data: bytes) -> str:
    """The type of a kept copy, from its first bytes (copies from before re-encoding may be any format
    the decoder accepts)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for signature, kind in SIGNATURES if data.startswith(signature)), "application/octet-stream")
