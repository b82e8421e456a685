"""The world's handwriting styles: the drawings training can learn from (`train.py --styles N`) and the style
benchmark the models are scored on are drawn apart (other seeds, other parameters), every style reads as one
digit through the app, and the shipped models' reports hold the per-style scores the benchmark gives their
files (what the evaluation page shows)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.styled_digits import SEEDS, STROKE_STYLES, styled_digits
from support import post_image
from training.style_data import TRAINING_SEED, model_input, per_style_accuracy, style_benchmark, training_styles
from training.style_strokes import BENCHMARK, STYLES, TRAINING, TRICKS
from webapp import PROJECT_ROOT
from webapp.inference.classifier import Classifier

MODEL_DIR = PROJECT_ROOT / "model"


def test_the_benchmark_has_eight_styles_of_two_hundred_drawings_each():
    assert len(STROKE_STYLES) == 8 and set(STROKE_STYLES) == set(STYLES)
    x, y, styles = style_benchmark()
    assert x.shape == (1600, 28, 28) and x.dtype == np.uint8
    assert {style: styles.count(style) for style in STROKE_STYLES} == {style: 200 for style in STROKE_STYLES}
    assert all(y[i] == STYLES[style][0] for i, style in enumerate(styles))


def test_training_draws_with_other_seeds_and_wider_parameters_and_never_a_benchmark_drawing():
    assert TRAINING_SEED not in SEEDS.values()
    assert TRAINING.spread > BENCHMARK.spread and TRAINING.degrees > BENCHMARK.degrees
    assert TRAINING.pen[0] < BENCHMARK.pen[0] and TRAINING.pen[1] > BENCHMARK.pen[1]
    assert TRAINING.wobble != BENCHMARK.wobble and TRAINING.curve_points != BENCHMARK.curve_points
    trained, labels = training_styles(per_style=40)
    assert len(trained) == 8 * 40 and set(labels.tolist()) == {1, 2, 4, 7, 8, 9}
    benchmark, _, _ = style_benchmark()
    assert not {image.tobytes() for image in trained} & {image.tobytes() for image in benchmark}
    again, _ = training_styles(per_style=40)
    assert np.array_equal(again, trained)   # a seed makes the same drawings


def test_every_style_is_one_digit_through_the_app(client):
    for style in STROKE_STYLES:
        for drawing in styled_digits(style, 3, seed=SEEDS[style]):
            answer = post_image(client, drawing.png).json
            assert len(answer["digits"]) == 1, style
            assert model_input(drawing.png) is not None


def test_the_fool_round_trick_is_one_1_through_the_app_and_neither_trained_on_nor_benchmarked(client):
    assert set(TRICKS) == {"outline-1"} and not set(TRICKS) & set(STYLES)
    _, _, benchmarked = style_benchmark()
    assert "outline-1" not in benchmarked
    drawings = styled_digits("outline-1", 3, seed=1)
    assert [drawing.label for drawing in drawings] == [1, 1, 1]
    for drawing in drawings:
        assert len(post_image(client, drawing.png).json["digits"]) == 1


@pytest.mark.parametrize("name", ["cnn", "mlp", "mlp-wide"])
def test_the_shipped_reports_hold_what_the_style_benchmark_gives_their_files(name):
    report = json.loads((MODEL_DIR / f"{name}.json").read_text())
    recorded = report["styles"]["accuracy"]
    assert set(recorded) == set(STROKE_STYLES) and report["styles"]["drawings"] == 1600
    x, y, styles = style_benchmark()
    measured = per_style_accuracy(Classifier.load(MODEL_DIR / f"{name}.tflite").predict, x, y, styles)
    for style in STROKE_STYLES:
        assert abs(measured[style] - recorded[style]) <= 0.01, (style, measured[style], recorded[style])
