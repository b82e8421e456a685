"""Files a stranger might send to /api/predict: real MNIST digits in odd but valid formats, and broken ones.

Shared by test_hostile_input.py and test_fuzz.py. Every builder returns bytes; the canvas drawing
itself is benchmarks.canvas.canvas_png.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def black_on_white(digit: np.ndarray, size: int = 112) -> Image.Image:
    """An MNIST digit (white on black, 28x28) as dark ink on paper, enlarged."""
    ink = Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)
    return Image.fromarray(255 - np.asarray(ink))


def sixteen_bit_png(digit: np.ndarray) -> bytes:
    paper = np.asarray(black_on_white(digit), dtype=np.uint16) * 257
    return encoded(Image.fromarray(paper), "PNG")


def cmyk_jpeg(digit: np.ndarray) -> bytes:
    return encoded(black_on_white(digit).convert("CMYK"), "JPEG", quality=95)


def animated_gif(digit: np.ndarray, other: np.ndarray) -> bytes:
    """Two frames: the digit first, another digit second; only the first frame counts."""
    first, second = black_on_white(digit).convert("P"), black_on_white(other).convert("P")
    return encoded(first, "GIF", save_all=True, append_images=[second], duration=200, loop=0)


def palette_with_transparency(digit: np.ndarray) -> bytes:
    """A palette PNG whose background colour index is transparent (tRNS chunk), ink in black."""
    ink = np.asarray(Image.fromarray(digit).resize((112, 112), Image.Resampling.BILINEAR)) > 96
    indices = np.where(ink, 1, 0).astype(np.uint8)
    image = Image.fromarray(indices).convert("P")
    image.putpalette([255, 255, 255, 0, 0, 0] + [0, 0, 0] * 254)
    return encoded(image, "PNG", transparency=0)


def la_png(digit: np.ndarray) -> bytes:
    alpha = Image.fromarray(digit).resize((112, 112), Image.Resampling.BILINEAR)
    return encoded(Image.merge("LA", (Image.new("L", alpha.size, 0), alpha)), "PNG")


def webp(digit: np.ndarray) -> bytes:
    return encoded(black_on_white(digit).convert("RGB"), "WEBP", lossless=True)


def bmp(digit: np.ndarray) -> bytes:
    return encoded(black_on_white(digit).convert("RGB"), "BMP")


def progressive_jpeg(digit: np.ndarray) -> bytes:
    return encoded(black_on_white(digit).convert("RGB"), "JPEG", quality=90, progressive=True)


def interlaced_png(digit: np.ndarray) -> bytes:
    """Adam7-interlaced, written by hand because Pillow cannot save interlaced PNGs."""
    paper = np.asarray(black_on_white(digit, size=64))
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b"".join(b"".join(b"\x00" + row.tobytes() for row in paper[top::dy, left::dx])
                   for left, top, dx, dy in passes)
    header = struct.pack(">IIBBBBB", paper.shape[1], paper.shape[0], 8, 0, 0, 0, 1)
    return png_file(header, zlib.compress(raw))


def one_bit_png(digit: np.ndarray) -> bytes:
    return encoded(black_on_white(digit).point(lambda level: 255 if level > 128 else 0).convert("1"), "PNG")


def plain_png(width: int, height: int, level: int = 255) -> bytes:
    return encoded(Image.new("L", (width, height), level), "PNG")


def dash_png(width: int, height: int) -> bytes:
    """A black dash over the middle third of the long side of a white image (all black when 1x1)."""
    pixels = np.full((height, width), 255, np.uint8)
    if width >= height:
        pixels[height // 2, width // 3:max(1, 2 * width // 3)] = 0
    else:
        pixels[height // 3:max(1, 2 * height // 3), width // 2] = 0
    return encoded(Image.fromarray(pixels), "PNG")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_file(header: bytes, image_data: bytes) -> bytes:
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", image_data) + png_chunk(b"IEND", b"")


def pixel_bomb_png(side: int = 30_000, rows: int = 64) -> bytes:
    """A valid-looking PNG of side x side pixels, a few kB: its header promises far more than any drawing.

    Only the first `rows` rows are compressed in; a server that decodes before checking the
    size would spend seconds and gigabytes before noticing.
    """
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    row = b"\x00" + bytes(side)
    return png_file(header, zlib.compress(row * rows, 9))


def gif_with_huge_screen() -> bytes:
    """A GIF whose logical screen is 65535x65535 pixels."""
    tiny = encoded(Image.new("L", (1, 1), 255).convert("P"), "GIF")
    return tiny[:6] + struct.pack("<HH", 65535, 65535) + tiny[10:]


def jpeg_with_huge_frame() -> bytes:
    """A JPEG whose frame header says 65500x65500 pixels."""
    small = bytearray(encoded(Image.new("L", (8, 8), 255), "JPEG"))
    frame = small.index(b"\xff\xc0")
    small[frame + 5:frame + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(small)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[:max(1, int(len(data) * keep))]


def with_flipped_idat(png: bytes) -> bytes:
    """Flip bits inside the compressed pixels of the first IDAT chunk (its CRC left wrong)."""
    start = png.index(b"IDAT") + 4
    damaged = bytearray(png)
    for offset in range(start + 2, min(start + 40, len(png) - 16)):
        damaged[offset] ^= 0x5A
    return bytes(damaged)


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
       b'<text x="4" y="24" font-size="24">7</text><script>alert(1)</script></svg>')
HTML = b"<!doctype html><html><body><img src=x onerror=alert(1)><p>7</p></body></html>"
