"""Drawings the way browsers, tablets and phones make them, from MNIST *test* digits.

Three styles, each from its own fixed seed so every run sees the same images:

- canvas: the digit's own shape redrawn crisply (upscaled 4x, thresholded,
  area-averaged back down: anti-aliased edges like a canvas), as an RGBA PNG the
  way `canvas.toBlob` sends it;
- brush: the digit's centre line (its skeleton) redrawn with a round brush of
  one width, from a thin pen (1.5 px) to a fat finger (a fifth of the digit);
  made from the test digits whose strokes are at most a fifth of the digit's size
  wide (92% of them): the centre line of a filled blob (a fat 8 whose loops
  are closed) is not what a person would draw, and no reader could read it;
- photo: dark pen ink on paper under uneven light, blurred, noisy, JPEG.

Canvas and brush drawings are 30-95% of a canvas of a random shape, at a random
place, on a transparent, white or black background with black, white or
coloured ink. Run it to look at them:

    python benchmarks/make_drawings.py --out /tmp/drawings --count 20
"""

from __future__ import annotations

import argparse
import colorsys
import io
from pathlib import Path
from typing import Iterator, NamedTuple

import cv2
import numpy as np
from PIL import Image

from training.mnist import load_mnist

STYLES = ("canvas", "brush", "photo")
SEEDS = {"canvas": 101, "brush": 202, "photo": 303}
CANVAS_SHAPES = [(280, 280), (400, 400), (600, 400), (400, 600), (360, 640), (800, 500), (200, 200)]
PHOTO_SHAPES = [(640, 480), (480, 640), (1024, 768), (1200, 1600), (1600, 1200)]
DIGIT_SIZE = (0.30, 0.95)          # longest side of the digit / shorter side of the canvas
SUPERSAMPLE = 4                    # draw 4x larger, then area-average: anti-aliased edges
SUPERSAMPLED_SIDE = 2048           # ... but only 2x for digits so large that 4x would be slow
BRUSH_WIDTH = (1.5, 0.2)           # thin pen in pixels .. fat finger as a fraction of the digit
SKELETON_SIZE = 112                # the centre line is traced on a copy this large
INK_LEVEL = 0.3                    # MNIST grey above this is drawn as ink (faint strokes too)
CORE_LEVEL = 0.5                   # the centre line is traced on the digit's darker core
TRACEABLE_WIDTH = 0.2              # brush drawings come from digits with strokes at most this wide


class Drawing(NamedTuple):
    index: int                     # MNIST test index
    label: int
    style: str
    data: bytes
    filename: str


# --- shapes -------------------------------------------------------------------------------

def digit_crop(digit: np.ndarray) -> np.ndarray:
    """The MNIST digit cropped to its ink, as float in [0, 1]."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32) / 255


def supersampling(size: int) -> int:
    return min(SUPERSAMPLE, max(2, SUPERSAMPLED_SIDE // size))


def crisp_shape(digit: np.ndarray, size: int) -> np.ndarray:
    """The digit's own strokes at `size` pixels (longest side), crisp with anti-aliased edges."""
    crop = digit_crop(digit)
    factor = supersampling(size)
    scale = size * factor / max(crop.shape)
    big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) > INK_LEVEL
    small = (round(big.shape[1] / factor), round(big.shape[0] / factor))
    return cv2.resize(big.astype(np.float32), small, interpolation=cv2.INTER_AREA)


def thinned(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel centre line of a binary shape."""
    image = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = image[:-2, 1:-1], image[:-2, 2:], image[1:-1, 2:]
            p5, p6, p7 = image[2:, 2:], image[2:, 1:-1], image[2:, :-2]
            p8, p9 = image[1:-1, :-2], image[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(p.astype(np.int32) for p in ring[:8])
            transitions = sum(((a == 0) & (b == 1)).astype(np.int32) for a, b in zip(ring, ring[1:]))
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (image[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & side
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def neighbour_count(skeleton: np.ndarray) -> np.ndarray:
    kernel = np.ones((3, 3), np.float32)
    kernel[1, 1] = 0
    return cv2.filter2D(skeleton.astype(np.float32), -1, kernel, borderType=cv2.BORDER_CONSTANT)


def pruned(skeleton: np.ndarray, length: int) -> np.ndarray:
    """The skeleton without the short spurs thinning leaves at corners and blobs: cut every
    branch end back by `length` pixels, then let the surviving ends grow back."""
    trimmed = skeleton.copy()
    for _ in range(length):
        trimmed &= ~((neighbour_count(trimmed) <= 1) & trimmed)
    grown = (neighbour_count(trimmed) == 1) & trimmed
    for _ in range(length):
        grown = cv2.dilate(grown.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & skeleton
    return trimmed | grown


def core_shape(digit: np.ndarray) -> np.ndarray:
    """The digit's darker core, SKELETON_SIZE pixels on its longest side."""
    crop = digit_crop(digit)
    scale = SKELETON_SIZE / max(crop.shape)
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) > CORE_LEVEL


def half_stroke_width(shape: np.ndarray) -> float:
    """Half the typical stroke width: across a band of width w the mean distance to its edge is w/4."""
    inside = cv2.distanceTransform(shape.view(np.uint8), cv2.DIST_L2, 5)
    return 2 * (float(inside[shape].mean()) - 0.5)


def traceable(digit: np.ndarray) -> bool:
    """Strokes thin enough for a centre line to say what the digit is."""
    shape = core_shape(digit)
    return 2 * half_stroke_width(shape) <= TRACEABLE_WIDTH * max(shape.shape)


def brush_shape(digit: np.ndarray, size: int, width: float) -> np.ndarray:
    """The digit's centre line redrawn at `size` pixels with a round brush `width` pixels wide."""
    shape = core_shape(digit)
    skeleton = pruned(thinned(shape), int(round(half_stroke_width(shape))))
    factor = supersampling(size)
    to_canvas = size / SKELETON_SIZE * factor
    margin = int(np.ceil(width / 2 * factor)) + factor
    height = int(round(skeleton.shape[0] * to_canvas)) + 2 * margin
    breadth = int(round(skeleton.shape[1] * to_canvas)) + 2 * margin
    canvas = np.zeros((height, breadth), np.uint8)
    thickness = max(1, int(round(width * factor)))
    ys, xs = np.nonzero(skeleton)
    points = set(zip(ys.tolist(), xs.tolist()))
    for y, x in points:
        start = (int(round(x * to_canvas)) + margin, int(round(y * to_canvas)) + margin)
        ends = [(y + dy, x + dx) for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)) if (y + dy, x + dx) in points]
        for end_y, end_x in ends or [(y, x)]:
            end = (int(round(end_x * to_canvas)) + margin, int(round(end_y * to_canvas)) + margin)
            cv2.line(canvas, start, end, 255, thickness, cv2.LINE_AA)
    small = (round(breadth / factor), round(height / factor))
    return cv2.resize(canvas.astype(np.float32) / 255, small, interpolation=cv2.INTER_AREA)


# --- canvases -----------------------------------------------------------------------------

def random_colour(rng: np.random.Generator, value: tuple[float, float]) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.6, 1.0), rng.uniform(*value))
    return int(red * 255), int(green * 255), int(blue * 255)


def ink_and_background(rng: np.random.Generator):
    """(ink RGB, background RGB or None for transparent): the combinations people draw with."""
    background = rng.choice(["transparent", "white", "black"])
    if background == "transparent":
        return rng.choice([(0, 0, 0), (255, 255, 255), random_colour(rng, (0.3, 1.0))], axis=0), None
    if background == "white":
        return rng.choice([(0, 0, 0), random_colour(rng, (0.3, 1.0))], axis=0), (255, 255, 255)
    return rng.choice([(255, 255, 255), random_colour(rng, (0.6, 1.0))], axis=0), (0, 0, 0)


def placed(shape: np.ndarray, canvas_size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The shape pasted at a random place on an empty canvas (width, height)."""
    width, height = canvas_size
    canvas = np.zeros((height, width), np.float32)
    shape = shape[:height, :width]
    top = int(rng.integers(0, height - shape.shape[0] + 1))
    left = int(rng.integers(0, width - shape.shape[1] + 1))
    canvas[top:top + shape.shape[0], left:left + shape.shape[1]] = shape
    return canvas


def canvas_png(alpha: np.ndarray, rng: np.random.Generator) -> bytes:
    """An RGBA PNG like `canvas.toBlob`: ink painted over a transparent or filled background."""
    ink, background = ink_and_background(rng)
    ink = np.asarray(ink, np.float32)
    a = alpha[..., None]
    if background is None:
        rgba = np.concatenate([np.broadcast_to(ink, alpha.shape + (3,)), a * 255], axis=-1)
    else:
        rgb = np.asarray(background, np.float32) * (1 - a) + ink * a
        rgba = np.concatenate([rgb, np.full_like(a, 255)], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.rint(rgba).astype(np.uint8), mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def digit_size(canvas_size: tuple[int, int], rng: np.random.Generator) -> int:
    return int(round(rng.uniform(*DIGIT_SIZE) * min(canvas_size)))


def canvas_drawing(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    size = CANVAS_SHAPES[rng.integers(len(CANVAS_SHAPES))]
    return canvas_png(placed(crisp_shape(digit, digit_size(size, rng)), size, rng), rng)


def brush_drawing(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    size = CANVAS_SHAPES[rng.integers(len(CANVAS_SHAPES))]
    length = digit_size(size, rng)
    thinnest, fattest = BRUSH_WIDTH[0], max(BRUSH_WIDTH[0], BRUSH_WIDTH[1] * length)
    width = float(np.exp(rng.uniform(np.log(thinnest), np.log(fattest))))
    return canvas_png(placed(brush_shape(digit, length, width), size, rng), rng)


# --- photos of paper ----------------------------------------------------------------------

def uneven_light(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A lamp to one side and a darker corner: a linear fall-off times a soft vignette."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = (np.cos(angle) * cols / width + np.sin(angle) * rows / height)
    along = (along - along.min()) / max(1e-6, float(along.max() - along.min()))
    light = 1 - rng.uniform(0.2, 0.5) * along
    centre_y, centre_x = rng.uniform(0, height), rng.uniform(0, width)
    distance = np.hypot(rows - centre_y, cols - centre_x) / np.hypot(height, width)
    return light * (1 - rng.uniform(0.1, 0.3) * distance ** 2)


def photo_drawing(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    width, height = PHOTO_SHAPES[rng.integers(len(PHOTO_SHAPES))]
    alpha = placed(crisp_shape(digit, digit_size((width, height), rng)), (width, height), rng)
    paper = rng.uniform(190, 245) * np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 1.0)], np.float32)
    ink = np.array(rng.choice([(30, 30, 35), (25, 35, 110), (60, 60, 60)], axis=0), np.float32)
    a = alpha[..., None]
    rgb = (paper * (1 - a) + ink * a) * uneven_light(height, width, rng)[..., None]
    rgb = cv2.GaussianBlur(rgb, (0, 0), rng.uniform(0.5, 1.5) * max(width, height) / 640)
    rgb += rng.uniform(2, 8) * rng.standard_normal(rgb.shape, dtype=np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), mode="RGB").save(
        buffer, format="JPEG", quality=int(rng.integers(60, 93)))
    return buffer.getvalue()


RENDERERS = {"canvas": canvas_drawing, "brush": brush_drawing, "photo": photo_drawing}


def drawings(style: str, count: int, images: np.ndarray, labels: np.ndarray) -> Iterator[Drawing]:
    """`count` drawings of distinct MNIST test digits in one style, the same on every run."""
    rng = np.random.default_rng(SEEDS[style])
    candidates = np.arange(len(images))
    if style == "brush":
        candidates = candidates[[traceable(image) for image in images]]
    indices = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
    extension = "jpg" if style == "photo" else "png"
    for index in indices.tolist():
        data = RENDERERS[style](images[index], rng)
        yield Drawing(index, int(labels[index]), style, data,
                      f"{style}-{index:05d}-label{labels[index]}.{extension}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the images to")
    parser.add_argument("--count", type=int, default=20, help="drawings per style")
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    args = parser.parse_args(argv)
    mnist = load_mnist()
    args.out.mkdir(parents=True, exist_ok=True)
    for style in args.styles:
        for drawing in drawings(style, args.count, mnist.x_test, mnist.y_test):
            (args.out / drawing.filename).write_bytes(drawing.data)
    print(f"wrote {args.count} drawings per style to {args.out}")


if __name__ == "__main__":
    main()
