"""The world's handwriting styles as 28x28 model inputs: what the models learn from, and the style benchmark
they are scored on.

Both go through the app's own preprocessing (webapp/vision/preprocess.py), exactly as a drawing sent from the
pad does. Training (`train.py --styles N`) draws N drawings of each style of training/style_strokes.py with its
TRAINING parameters from TRAINING_SEED; the benchmark (benchmarks/styled_digits.py) draws with the BENCHMARK
parameters from its own seeds, and is never trained on.
"""

from __future__ import annotations

import numpy as np

from training.style_strokes import STYLES, TRAINING, style_drawing
from webapp.vision import preprocess
from webapp.vision.images import to_uint8

TRAINING_SEED = 31337
MAX_PIXELS = 4_000_000


def model_input(png: bytes) -> np.ndarray | None:
    """The 28x28 uint8 input the app would give the model for this drawing (None: nothing drawn)."""
    digits = preprocess.digits_in(preprocess.decode(png, MAX_PIXELS), "digit")
    return to_uint8(digits[0].pixels) if digits else None


def training_styles(per_style: int, seed: int = TRAINING_SEED) -> tuple[np.ndarray, np.ndarray]:
    """`per_style` drawings of every style as (x uint8 N x 28 x 28, y uint8 N), in a fixed order."""
    from benchmarks.styled_digits import canvas_png

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for style in STYLES:
        for _ in range(per_style):
            label, alpha = style_drawing(style, rng, TRAINING)
            pixels = model_input(canvas_png(alpha))
            if pixels is not None:
                images.append(pixels)
                labels.append(label)
    return np.stack(images), np.array(labels, np.uint8)


def style_benchmark() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The style benchmark (benchmarks/styled_digits.py) as (x uint8, y uint8, each drawing's style)."""
    from benchmarks.styled_digits import style_benchmark as drawings

    found = [(model_input(drawing.png), drawing.label, drawing.style) for drawing in drawings()]
    found = [entry for entry in found if entry[0] is not None]
    return (np.stack([entry[0] for entry in found]), np.array([entry[1] for entry in found], np.uint8),
            [entry[2] for entry in found])


def per_style_accuracy(predict, x: np.ndarray, y: np.ndarray, styles: list[str]) -> dict[str, float]:
    """Each style's share read right by `predict` (float inputs in [0, 1] -> probabilities)."""
    digits = np.asarray(predict(x.astype(np.float32) / 255.0)).argmax(axis=1)
    names = np.array(styles)
    return {style: round(float(np.mean(digits[names == style] == y[names == style])), 4) for style in STYLES}
