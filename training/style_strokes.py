"""Digits in the handwriting styles of classrooms outside MNIST's, drawn as strokes the way the pad draws them.

MNIST's writers were American Census Bureau employees and high-school students; classrooms elsewhere write

- `flag-1`:   a 1 with a long, flat flag from the left up to the top (a foot bar one time in four);
- `serif-1`:  a 1 with a short serif flag and a foot bar, always;
- `bar-7`:    the continental 7 with a bar across its middle;
- `open-4`:   a 4 whose two strokes do not meet at the top (the slanted stroke and the crossbar, then the stem);
- `closed-4`: a 4 closed into a triangle at the top, the stem through the crossbar;
- `stem-9`:   a 9 with a round head and a straight stem straight down;
- `loop-2`:   a 2 with a loop at its bottom left before the base;
- `cross-8`:  an 8 drawn in one stroke as a figure of eight, crossing at its waist.

Each style is a few polylines in the unit square from a random generator, then placed at random (rotation,
size, place) and drawn with a round pen on a transparent 280x280 canvas: an ink (alpha) image, what the pad
sends. Two sets of parameters draw them: BENCHMARK (benchmarks/styled_digits.py, the style benchmark, its own
seeds) and TRAINING (training/style_data.py, what the models learn from, other seeds), which differ so that
the benchmark measures styles, not one generator's habits: the training shapes spread 1.5 times as wide around
each shape parameter's centre, the pen is 8-30 px (benchmark 12-26), the rotation +-15 degrees (benchmark +-10),
the size 45-85 % of the canvas (benchmark 50-80 %), the points wobble 0.025 (benchmark 0.015), and the curves
are traced with 10-16 points (benchmark 24).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

CANVAS = 280


@dataclass(frozen=True)
class Parameters:
    """How widely the shapes and their drawing vary."""

    spread: float                 # each shape range's width around its centre, times this
    degrees: float                # rotation, +- this
    size: tuple[float, float]     # the digit's side, as a share of the canvas
    pen: tuple[int, int]          # pen width in canvas pixels
    wobble: float                 # each point moved by up to this (unit square)
    curve_points: tuple[int, int]  # points along a curve


BENCHMARK = Parameters(spread=1.0, degrees=10, size=(0.5, 0.8), pen=(12, 26), wobble=0.015, curve_points=(24, 24))
TRAINING = Parameters(spread=1.5, degrees=15, size=(0.45, 0.85), pen=(8, 30), wobble=0.025, curve_points=(10, 16))


class Shapes:
    """A random generator that draws shape parameters from ranges widened by `spread`."""

    def __init__(self, rng: np.random.Generator, parameters: Parameters):
        self.rng, self.parameters = rng, parameters

    def uniform(self, low: float, high: float) -> float:
        centre, half = (low + high) / 2, (high - low) / 2 * self.parameters.spread
        return float(self.rng.uniform(centre - half, centre + half))

    def wobbled(self, points) -> np.ndarray:
        amount = self.parameters.wobble
        points = np.asarray(points, np.float64)
        return points + self.rng.uniform(-amount, amount, size=points.shape)

    def curve(self, x: Callable, y: Callable, start: float, end: float) -> np.ndarray:
        count = int(self.rng.integers(self.parameters.curve_points[0], self.parameters.curve_points[1] + 1))
        t = np.linspace(start, end, count)
        return self.wobbled(np.stack([x(t), y(t)], axis=1))


def flag_one(s: Shapes) -> list[np.ndarray]:
    top = (s.uniform(0.55, 0.65), s.uniform(0.08, 0.12))
    flag = (top[0] - s.uniform(0.3, 0.4), top[1] + s.uniform(0.12, 0.25))
    strokes = [s.wobbled([flag, top, (top[0] + s.uniform(-0.06, 0.0), 0.9)])]
    if s.rng.random() < 1 / 4:
        half = s.uniform(0.16, 0.24)
        strokes.append(s.wobbled([(top[0] - half, 0.9), (top[0] + half, 0.9)]))
    return strokes


def serif_one(s: Shapes) -> list[np.ndarray]:
    top = (s.uniform(0.5, 0.58), s.uniform(0.08, 0.12))
    flag = (top[0] - s.uniform(0.12, 0.2), top[1] + s.uniform(0.08, 0.14))
    foot_y = s.uniform(0.86, 0.92)
    half = s.uniform(0.14, 0.22)
    return [s.wobbled([flag, top, (top[0] + s.uniform(-0.03, 0.03), foot_y)]),
            s.wobbled([(top[0] - half, foot_y), (top[0] + half, foot_y)])]


def bar_seven(s: Shapes) -> list[np.ndarray]:
    left, right = s.uniform(0.2, 0.3), s.uniform(0.7, 0.8)
    top = s.uniform(0.1, 0.16)
    end = (s.uniform(0.35, 0.48), s.uniform(0.86, 0.92))
    diagonal = [(left, top), (right, top), (right - 0.04 - s.uniform(0, 0.08), 0.4), end]
    middle_y = s.uniform(0.45, 0.55)
    crossing = right + (end[0] - right) * (middle_y - top) / (end[1] - top)
    bar = [(crossing - s.uniform(0.14, 0.22), middle_y), (crossing + s.uniform(0.14, 0.22), middle_y)]
    return [s.wobbled(diagonal), s.wobbled(bar)]


def open_four(s: Shapes) -> list[np.ndarray]:
    """The slanted stroke down and the crossbar, then the stem apart from it (open at the top)."""
    bar_y = s.uniform(0.58, 0.66)
    stem_x = s.uniform(0.6, 0.68)
    start = (s.uniform(0.34, 0.44), s.uniform(0.08, 0.14))
    corner = (s.uniform(0.16, 0.24), bar_y)
    return [s.wobbled([start, corner, (s.uniform(0.78, 0.88), bar_y)]),
            s.wobbled([(stem_x, s.uniform(0.24, 0.36)), (stem_x + s.uniform(-0.03, 0.02), s.uniform(0.88, 0.94))])]


def closed_four(s: Shapes) -> list[np.ndarray]:
    """One stroke up the stem's top, down to the left, across: a closed triangle; then the stem through it."""
    stem_x = s.uniform(0.58, 0.66)
    bar_y = s.uniform(0.6, 0.68)
    top = (stem_x, s.uniform(0.08, 0.13))
    return [s.wobbled([top, (s.uniform(0.16, 0.24), bar_y), (s.uniform(0.8, 0.88), bar_y)]),
            s.wobbled([top, (stem_x + s.uniform(-0.02, 0.02), s.uniform(0.88, 0.94))])]


def stem_nine(s: Shapes) -> list[np.ndarray]:
    """A round head drawn anticlockwise from its right, then straight down from there."""
    cx, cy = s.uniform(0.45, 0.52), s.uniform(0.28, 0.34)
    rx, ry = s.uniform(0.2, 0.26), s.uniform(0.17, 0.22)
    head = s.curve(lambda t: cx + rx * np.cos(t), lambda t: cy - ry * np.sin(t), 0.0, 2 * np.pi)
    right = head[-1]
    stem = s.wobbled([right, (right[0] + s.uniform(-0.02, 0.02), s.uniform(0.88, 0.94))])
    return [np.vstack([head, stem])]


def loop_two(s: Shapes) -> list[np.ndarray]:
    """The arch, down to the bottom left, a small loop there, then the base to the right."""
    cx, top = s.uniform(0.47, 0.53), s.uniform(0.1, 0.15)
    r = s.uniform(0.2, 0.25)
    arch = s.curve(lambda t: cx + r * np.cos(t), lambda t: top + r - r * np.sin(t), np.pi * 1.05, -np.pi * 0.2)
    low = (s.uniform(0.24, 0.32), s.uniform(0.8, 0.86))
    loop_r = s.uniform(0.06, 0.09)
    loop = s.curve(lambda t: low[0] + loop_r * np.cos(t), lambda t: low[1] - loop_r + loop_r * np.sin(t),
                   np.pi / 2, np.pi / 2 - 2 * np.pi)
    base = s.wobbled([loop[-1], (s.uniform(0.78, 0.86), s.uniform(0.86, 0.9))])
    return [np.vstack([arch, loop, base])]


def cross_eight(s: Shapes) -> list[np.ndarray]:
    """One stroke: a figure of eight standing up, crossing at its waist."""
    cx, cy = s.uniform(0.48, 0.52), s.uniform(0.48, 0.52)
    width, height = s.uniform(0.22, 0.3), s.uniform(0.38, 0.44)
    top_share = s.uniform(0.45, 0.55)   # how far down the waist is

    def y(t):
        return np.where(np.cos(t) > 0, cy - height * 2 * top_share * np.cos(t),
                        cy - height * 2 * (1 - top_share) * np.cos(t))

    return [s.curve(lambda t: cx + width * np.sin(2 * t), y, 0.1, 2 * np.pi + 0.25)]


STYLES: dict[str, tuple[int, Callable[[Shapes], list[np.ndarray]]]] = {
    "flag-1": (1, flag_one), "serif-1": (1, serif_one), "bar-7": (7, bar_seven), "open-4": (4, open_four),
    "closed-4": (4, closed_four), "stem-9": (9, stem_nine), "loop-2": (2, loop_two), "cross-8": (8, cross_eight),
}


def outline_one(s: Shapes) -> list[np.ndarray]:
    """A 1 drawn as its outline, a tall narrow box, the way children draw bubble letters: no handwriting
    style, a trick to fool a model in a "fool the model" round (the models read it as a 0 or an 8)."""
    x, half = s.uniform(0.45, 0.55), s.uniform(0.08, 0.12)
    top, bottom = s.uniform(0.08, 0.12), s.uniform(0.88, 0.92)
    return [s.wobbled([(x - half, top), (x + half, top), (x + half, bottom), (x - half, bottom), (x - half, top)])]


# Tricks are drawn like the styles but are no one's handwriting: never trained on, not in the style benchmark.
TRICKS: dict[str, tuple[int, Callable[[Shapes], list[np.ndarray]]]] = {"outline-1": (1, outline_one)}


def placement(rng: np.random.Generator, parameters: Parameters) -> np.ndarray:
    """A random rotation, size and place for a digit drawn in the unit square: a 2x3 matrix to canvas pixels."""
    angle = np.deg2rad(rng.uniform(-parameters.degrees, parameters.degrees))
    size = CANVAS * rng.uniform(*parameters.size)
    centre = CANVAS / 2 + rng.uniform(-0.1, 0.1, size=2) * CANVAS
    cos, sin = np.cos(angle) * size, np.sin(angle) * size
    matrix = np.array([[cos, -sin, 0.0], [sin, cos, 0.0]])
    matrix[:, 2] = centre - matrix[:, :2] @ np.array([0.5, 0.5])
    return matrix


def drawn(strokes: list[np.ndarray], rng: np.random.Generator, parameters: Parameters) -> np.ndarray:
    """The strokes through a random placement, drawn with a round pen: an alpha (ink) image."""
    matrix, width = placement(rng, parameters), int(rng.uniform(*parameters.pen))
    alpha = np.zeros((CANVAS, CANVAS), np.uint8)
    for stroke in strokes:
        points = np.hstack([stroke, np.ones((len(stroke), 1))]) @ matrix.T
        cv2.polylines(alpha, [np.round(points * 16).astype(np.int32)], False, 255, width, cv2.LINE_AA, shift=4)
    return alpha


def style_drawing(style: str, rng: np.random.Generator, parameters: Parameters) -> tuple[int, np.ndarray]:
    """(label, ink image) of one drawing of `style` (a style or a trick)."""
    label, strokes = STYLES[style] if style in STYLES else TRICKS[style]
    return label, drawn(strokes(Shapes(rng, parameters)), rng, parameters)
