"""Digits in styles MNIST hardly has, made as a browser's drawing pad sends them: the style benchmark, and the
drawings of the fine-tuning and fool-round benchmarks.

- the eight stroke styles of training/style_strokes.py (flag-1, serif-1, bar-7, open-4, closed-4, stem-9,
  loop-2, cross-8) drawn with its BENCHMARK parameters; `style_benchmark()` is PER_STYLE of each from the
  style's own seed in SEEDS, never used in training (training draws with other seeds and wider parameters);
- `font`: the ten digits in the fonts Debian installs with Chromium (DejaVu and Liberation: sans, serif,
  mono, condensed; book, bold, italic), each glyph's centre line (its skeleton) drawn again with a round
  pen of the width a finger or a mouse draws: the shapes of printed digits, the strokes of the pad;
- `outline-1`: a trick for the fool-round benchmark and test, no handwriting style (training/style_strokes.py).

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

from training.style_strokes import BENCHMARK, CANVAS, STYLES, TRICKS, placement, style_drawing

FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
STROKE_STYLES = tuple(STYLES)   # flag-1, serif-1, bar-7, open-4, closed-4, stem-9, loop-2, cross-8
SEEDS = {style: 7000 + index for index, style in enumerate(STROKE_STYLES)}   # the benchmark's own seeds
PER_STYLE = 200


class Styled(NamedTuple):
    style: str
    label: int
    png: bytes


def fonts() -> list[Path]:
    """The fonts to draw from: every DejaVu/Liberation face except the extra-light ones, sorted for the seed."""
    return sorted(path for folder in FONT_FOLDERS if folder.is_dir() for path in folder.glob("*.ttf")
                  if "ExtraLight" not in path.name)


def placed(rng: np.random.Generator) -> np.ndarray:
    return placement(rng, BENCHMARK)


def pen_width(rng: np.random.Generator) -> int:
    return int(rng.uniform(*BENCHMARK.pen))


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


def drawn_as_png(label: int, alpha: np.ndarray) -> tuple[int, bytes]:
    return label, canvas_png(alpha)


def style_benchmark() -> list[Styled]:
    """The style benchmark: PER_STYLE drawings of each stroke style from its own seed (never trained on:
    training/style_data.py draws with other seeds and other parameters, see training/style_strokes.py)."""
    return [drawing for style in STROKE_STYLES for drawing in styled_digits(style, PER_STYLE, SEEDS[style])]


def canvas_png(alpha: np.ndarray) -> bytes:
    rgba = np.dstack([np.zeros((CANVAS, CANVAS, 3), np.uint8), alpha])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def styled_digits(style: str, count: int, seed: int) -> list[Styled]:
    """`count` drawings of one style (one of STROKE_STYLES, a trick of TRICKS such as `outline-1`, or `font`:
    digits 0-9 in turn) from `seed`."""
    rng = np.random.default_rng(seed)
    if style in STYLES or style in TRICKS:
        return [Styled(style, *drawn_as_png(*style_drawing(style, rng, BENCHMARK))) for _ in range(count)]
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
    for style in (*STROKE_STYLES, *TRICKS, "font"):
        for index, drawing in enumerate(styled_digits(style, args.count, args.seed)):
            (args.out / f"{style}-{index:03d}-{drawing.label}.png").write_bytes(drawing.png)
    print(f"wrote {(len(STROKE_STYLES) + len(TRICKS) + 1) * args.count} drawings to {args.out}")


if __name__ == "__main__":
    main()
