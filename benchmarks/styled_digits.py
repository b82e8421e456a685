"""Digits in styles MNIST hardly has, made as a browser's drawing pad sends them, for the fine-tuning benchmark.

- `flag-1`: a 1 with a long, flat flag (the up-stroke from the left to the top), a bar at its foot one time in
  four: how much of Europe writes a 1, and what an MNIST-trained network reads as a 7;
- `bar-7`: the continental 7 with a bar across its middle;
- `font`: the ten digits in the fonts Debian installs with Chromium (DejaVu and Liberation: sans, serif,
  mono, condensed; book, bold, italic), each glyph's centre line (its skeleton) drawn again with a round
  pen of the width a finger or a mouse draws: the shapes of printed digits, the strokes of the pad.

Each drawing is moved at random (rotation, size, place, pen width) from its own seed, as black ink on a
transparent 280x280 canvas (an RGBA PNG, what `canvas.toBlob` sends). Look at them:

    python benchmarks/styled_digits.py --out /tmp/styled --count 12
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 280
FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
STROKE_STYLES = {"flag-1": 1, "bar-7": 7}


class Styled(NamedTuple):
    style: str
    label: int
    png: bytes


def fonts() -> list[Path]:
    """The fonts to draw from: every DejaVu/Liberation face except the extra-light ones, sorted for the seed."""
    return sorted(path for folder in FONT_FOLDERS if folder.is_dir() for path in folder.glob("*.ttf")
                  if "ExtraLight" not in path.name)


def jittered(points, rng: np.random.Generator, amount: float = 0.03) -> np.ndarray:
    return np.asarray(points, np.float64) + rng.uniform(-amount, amount, size=(len(points), 2))


def flag_one(rng: np.random.Generator) -> list[np.ndarray]:
    """A long flag from the left up to the top, the stem down; a foot bar one time in four."""
    foot = 0.9
    top = (rng.uniform(0.55, 0.65), rng.uniform(0.08, 0.12))
    flag = (top[0] - rng.uniform(0.3, 0.4), top[1] + rng.uniform(0.12, 0.25))
    strokes = [jittered([flag, top, (top[0] + rng.uniform(-0.06, 0.0), foot)], rng, 0.015)]
    if rng.random() < 1 / 4:
        half = rng.uniform(0.16, 0.24)
        strokes.append(jittered([(top[0] - half, foot), (top[0] + half, foot)], rng, 0.015))
    return strokes


def bar_seven(rng: np.random.Generator) -> list[np.ndarray]:
    """Top bar, a long diagonal down to the left, and a bar across the middle."""
    left, right = rng.uniform(0.2, 0.3), rng.uniform(0.7, 0.8)
    top = rng.uniform(0.1, 0.16)
    end = (rng.uniform(0.35, 0.48), rng.uniform(0.86, 0.92))
    diagonal = [(left, top), (right, top), (right - 0.04 - rng.uniform(0, 0.08), 0.4), end]
    middle_y = rng.uniform(0.45, 0.55)
    crossing = right + (end[0] - right) * (middle_y - top) / (end[1] - top)
    bar = [(crossing - rng.uniform(0.14, 0.22), middle_y), (crossing + rng.uniform(0.14, 0.22), middle_y)]
    return [jittered(diagonal, rng, 0.015), jittered(bar, rng, 0.015)]


STROKES = {"flag-1": flag_one, "bar-7": bar_seven}


def placed(rng: np.random.Generator) -> np.ndarray:
    """A random rotation, size and place for a digit drawn in the unit square: a 2x3 matrix to canvas pixels."""
    angle = np.deg2rad(rng.uniform(-10, 10))
    size = CANVAS * rng.uniform(0.5, 0.8)
    centre = CANVAS / 2 + rng.uniform(-0.1, 0.1, size=2) * CANVAS
    cos, sin = np.cos(angle) * size, np.sin(angle) * size
    matrix = np.array([[cos, -sin, 0.0], [sin, cos, 0.0]])
    matrix[:, 2] = centre - matrix[:, :2] @ np.array([0.5, 0.5])
    return matrix


def pen_width(rng: np.random.Generator) -> int:
    return int(rng.uniform(12, 26))


def drawn_strokes(strokes: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """The strokes through a random placement, drawn with a round pen: an alpha (ink) image."""
    matrix, width = placed(rng), pen_width(rng)
    alpha = np.zeros((CANVAS, CANVAS), np.uint8)
    for stroke in strokes:
        points = np.hstack([stroke, np.ones((len(stroke), 1))]) @ matrix.T
        cv2.polylines(alpha, [np.round(points * 16).astype(np.int32)], False, 255, width, cv2.LINE_AA, shift=4)
    return alpha


def font_strokes(digit: int, font: Path, rng: np.random.Generator) -> np.ndarray:
    """The glyph's centre line, placed at random and drawn again with a round pen."""
    glyph = Image.new("L", (CANVAS, CANVAS), 0)
    face = ImageFont.truetype(str(font), int(CANVAS * 0.7))
    ImageDraw.Draw(glyph).text((CANVAS / 2, CANVAS / 2), str(digit), fill=255, font=face, anchor="mm")
    filled = np.asarray(glyph) > 127
    skeleton = centre_line(filled)
    ys, xs = np.nonzero(skeleton)
    if len(xs) == 0:
        return np.zeros((CANVAS, CANVAS), np.uint8)
    # The unit square around the glyph's centre line, so `placed` sizes every font alike.
    x0, y0, side = xs.min(), ys.min(), max(xs.max() - xs.min(), ys.max() - ys.min(), 1)
    unit = np.stack([(xs - x0 + (side - (xs.max() - x0)) / 2) / side,
                     (ys - y0 + (side - (ys.max() - y0)) / 2) / side], axis=1)
    points = np.hstack([unit, np.ones((len(unit), 1))]) @ placed(rng).T
    alpha = np.zeros((CANVAS, CANVAS), np.uint8)
    inside = (points[:, 0] >= 0) & (points[:, 0] < CANVAS) & (points[:, 1] >= 0) & (points[:, 1] < CANVAS)
    alpha[points[inside, 1].astype(int), points[inside, 0].astype(int)] = 255
    width = pen_width(rng)
    pen = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    return cv2.GaussianBlur(cv2.dilate(cv2.dilate(alpha, np.ones((3, 3), np.uint8)), pen), (3, 3), 0)


def centre_line(mask: np.ndarray) -> np.ndarray:
    """A morphological skeleton of a filled glyph (repeated erosion, keeping what each opening removes)."""
    image = mask.astype(np.uint8)
    skeleton = np.zeros_like(image)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    while image.any():
        eroded = cv2.erode(image, cross)
        skeleton |= image - cv2.dilate(eroded, cross)
        image = eroded
    return skeleton.astype(bool)


def canvas_png(alpha: np.ndarray) -> bytes:
    rgba = np.dstack([np.zeros((CANVAS, CANVAS, 3), np.uint8), alpha])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def styled_digits(style: str, count: int, seed: int) -> list[Styled]:
    """`count` drawings of one style (`flag-1`, `bar-7` or `font`: digits 0-9 in turn) from `seed`."""
    rng = np.random.default_rng(seed)
    if style in STROKES:
        return [Styled(style, STROKE_STYLES[style], canvas_png(drawn_strokes(STROKES[style](rng), rng)))
                for _ in range(count)]
    if style != "font":
        raise ValueError(f"unknown style {style!r}")
    faces = fonts()
    if not faces:
        raise FileNotFoundError(f"no fonts in {', '.join(map(str, FONT_FOLDERS))}: install fonts-dejavu-core")
    drawings = []
    for index in range(count):
        digit = index % 10
        face = faces[int(rng.integers(len(faces)))]
        drawings.append(Styled(f"font {face.stem}", digit, canvas_png(font_strokes(digit, face, rng))))
    return drawings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for style in ("flag-1", "bar-7", "font"):
        for index, drawing in enumerate(styled_digits(style, args.count, args.seed)):
            (args.out / f"{style}-{index:03d}-{drawing.label}.png").write_bytes(drawing.png)
    print(f"wrote {3 * args.count} drawings to {args.out}")


if __name__ == "__main__":
    main()
