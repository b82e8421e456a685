"""Honest confidence: one temperature per model, fitted on the validation digits (temperature scaling).

A network's last Dense layer gives ten logits z. Softmax models answer softmax(z); the classic sigmoid models
answered sigmoid(z) divided by its sum, which reads as "31.7 %, not sure" for a digit the model is certain of.
Temperature scaling answers softmax(z / T) with the one T that makes the validation digits' answers most
likely (lowest log loss). Dividing z by T changes no argmax, so accuracy stays exactly the same.

The served model carries T inside it: its last layer becomes Dense(kernel / T, bias / T) with a softmax, so
the server, LiteRT and the explain files need nothing new (see `calibrated_model`).

The expected calibration error (ECE) measures what the evaluation page shows: the answers are put in
CALIBRATION_BINS equal bins of confidence; in each bin the gap between how often the answer was right and how
confident it was, weighted by the bin's share of the answers.
"""

from __future__ import annotations

import keras
import numpy as np

from training.explain_export import score_parts

CALIBRATION_BINS = 15
LOG_TEMPERATURES = np.linspace(np.log(0.05), np.log(20.0), 2001)   # T from 0.05 to 20, 0.3 % apart


def logits_of(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The last Dense layer's scores before its activation, float64 (n, 10)."""
    features_model, kernel, bias = score_parts(model)
    features = features_model.predict(images, batch_size=1000, verbose=0).reshape(len(images), -1)
    return features.astype(np.float64) @ kernel.astype(np.float64) + bias.astype(np.float64)


def output_activation(model: keras.Model) -> str:
    return model.layers[-1].get_config().get("activation")


def uncalibrated_probabilities(logits: np.ndarray, activation: str) -> np.ndarray:
    """What the model answered before calibration: softmax, or the sigmoids divided by their sum."""
    if activation == "sigmoid":
        scores = 1.0 / (1.0 + np.exp(-logits))
        return scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)
    return softmax(logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def log_loss(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = logits / temperature
    shifted = scaled - scaled.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_sum - shifted[np.arange(len(labels)), labels]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature with the lowest log loss on (logits, labels): a fine grid, then a local refinement."""
    labels = np.asarray(labels, np.int64)
    losses = [log_loss(logits, labels, np.exp(t)) for t in LOG_TEMPERATURES[::20]]
    best = int(np.argmin(losses)) * 20
    window = LOG_TEMPERATURES[max(0, best - 20):best + 21]
    fine = [log_loss(logits, labels, np.exp(t)) for t in window]
    return float(np.exp(window[int(np.argmin(fine))]))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """The ECE and, per bin of confidence, how many answers, their mean confidence and how often right."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == np.asarray(labels)
    # Bin b holds confidences in (b / bins, (b + 1) / bins]; a confidence of exactly 0 cannot occur.
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        members = which == b
        count = int(members.sum())
        if count:
            mean_confidence, accuracy = float(confidence[members].mean()), float(right[members].mean())
            ece += count / len(labels) * abs(accuracy - mean_confidence)
            rows.append({"low": round(b / bins, 4), "high": round((b + 1) / bins, 4), "count": count,
                         "confidence": round(mean_confidence, 5), "accuracy": round(accuracy, 5)})
    return {"ece": round(ece, 6), "bins": rows}


def calibrated_model(model: keras.Model, temperature: float) -> keras.Model:
    """The same network answering softmax(logits / temperature): its last layer's weights divided by T."""
    features_model, kernel, bias = score_parts(model)
    last = keras.layers.Dense(len(bias), activation="softmax", name="probabilities", dtype="float32")
    served = keras.Model(model.inputs, last(features_model.output), name=model.name)
    last.set_weights([kernel / temperature, bias / temperature])
    served.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return served


def calibrate(model: keras.Model, x_validation, y_validation, x_test, y_test) -> tuple[keras.Model, dict]:
    """The calibrated model and the report's `calibration` entry (temperature, ECE before and after)."""
    activation = output_activation(model)
    validation_logits, test_logits = logits_of(model, x_validation), logits_of(model, x_test)
    temperature = fit_temperature(validation_logits, y_validation)
    entry = {
        "temperature": round(temperature, 5),
        "fitted_on": f"validation ({len(y_validation):,} training digits held out)",
        "activation_before": activation,
        "bins": CALIBRATION_BINS,
        "validation": {
            "before": reliability(uncalibrated_probabilities(validation_logits, activation), y_validation)["ece"],
            "after": reliability(softmax(validation_logits / temperature), y_validation)["ece"]},
        "test": {"before": reliability(uncalibrated_probabilities(test_logits, activation), y_test),
                 "after": reliability(softmax(test_logits / temperature), y_test)},
    }
    return calibrated_model(model, temperature), entry
