"""Honest confidence: temperature scaling fitted on the validation digits, for every shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from support import post_image
from training.calibration import fit_temperature, reliability, softmax, uncalibrated_probabilities
from training.mnist import validation_split

MODELS = ("cnn", "mlp", "mlp-wide")


def test_the_fitted_temperature_is_the_one_the_answers_were_drawn_with():
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 4, size=(20_000, 10))
    for true_temperature in (0.5, 2.5):
        probabilities = softmax(logits / true_temperature)
        labels = np.array([rng.choice(10, p=row) for row in probabilities])
        assert fit_temperature(logits, labels) == pytest.approx(true_temperature, rel=0.08)


def test_reliability_counts_every_answer_once_and_a_calibrated_set_has_a_small_ece():
    rng = np.random.default_rng(8)
    logits = rng.normal(0, 3, size=(20_000, 10))
    probabilities = softmax(logits)
    labels = np.array([rng.choice(10, p=row) for row in probabilities])
    result = reliability(probabilities, labels)
    assert sum(row["count"] for row in result["bins"]) == 20_000
    assert result["ece"] < 0.015
    overconfident = softmax(logits * 3)
    assert reliability(overconfident, labels)["ece"] > 0.1


def test_sigmoid_scores_before_calibration_are_normalised_as_they_were_served():
    logits = np.array([[9.0, 5.0, -9.0, -9.0, -9.0, -9.0, -9.0, -9.0, -9.0, -9.0]])
    before = uncalibrated_probabilities(logits, "sigmoid")
    assert before.sum() == pytest.approx(1.0) and 0.45 < before[0, 0] < 0.55   # two saturated sigmoids: a "coin flip"


@pytest.mark.parametrize("name", MODELS)
def test_each_shipped_model_is_calibrated_on_the_validation_split(shipped_models, name):
    calibration = shipped_models.classifiers[name].report["calibration"]
    validation = calibration["validation"]
    if validation["before"] > 0.01:    # the sigmoid models: about 55 % before
        assert validation["after"] < validation["before"] / 10
    assert validation["after"] <= 0.01   # the CNN was calibrated already: its log-loss-best temperature moves
    assert calibration["test"]["after"]["ece"] <= 0.01          # its ECE by noise (0.40 -> 0.41 %)
    assert calibration["fitted_on"].startswith("validation")


@pytest.mark.parametrize("name", MODELS)
def test_served_probabilities_sum_to_1_and_match_the_reported_calibration(shipped_models, mnist, name):
    classifier = shipped_models.classifiers[name]
    probabilities = classifier.predict(mnist.x_test.astype(np.float32) / 255.0)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    ece = reliability(probabilities, mnist.y_test)["ece"]
    assert ece == pytest.approx(classifier.report["calibration"]["test"]["after"]["ece"], abs=0.002)
    _, (x_validation, y_validation), _ = validation_split(mnist.x_train, mnist.y_train)
    validation = classifier.predict(x_validation.astype(np.float32) / 255.0)
    assert reliability(validation, y_validation)["ece"] == pytest.approx(
        classifier.report["calibration"]["validation"]["after"], abs=0.002)   # what is served is what was fitted


@pytest.mark.parametrize("name", ["mlp", "mlp-wide"])
def test_a_clean_digit_the_classic_model_reads_right_is_a_confident_answer(client, app, seven, name):
    answer = post_image(client, seven, query=f"?model={name}").json
    assert answer["digit"] == 7
    assert answer["confidence"] > app.config["UNSURE_THRESHOLD"]
