"""The evaluation report written next to each trained model.

Everything the evaluation page shows comes from this JSON, so the page needs
no dataset at serve time: scores, per-class metrics, the confusion matrix,
training curves, the misclassified test digits as small PNGs, and samples.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np

from webapp.mnist_format import CLASSES
from webapp.vision.images import png_data_url

CORRECT_SAMPLES_PER_CLASS = 12
SAMPLE_GRID_SIZE = 40


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Rows are true labels, columns predicted labels."""
    matrix = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    np.add.at(matrix, (y_true.astype(np.int64), y_pred.astype(np.int64)), 1)
    return matrix


def per_class_metrics(matrix: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support for each digit from a confusion matrix."""
    true_positive = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    support = matrix.sum(axis=1).astype(float)
    precision = np.divide(true_positive, predicted, out=np.zeros(len(matrix)), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros(len(matrix)), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(matrix)), where=total > 0)
    return [{"digit": digit, "precision": round(float(precision[digit]), 5),
             "recall": round(float(recall[digit]), 5), "f1": round(float(f1[digit]), 5),
             "support": int(support[digit])} for digit in range(len(matrix))]


def digit_record(index: int, image: np.ndarray, true: int, probabilities: np.ndarray) -> dict:
    return {"index": int(index), "true": int(true), "predicted": int(np.argmax(probabilities)),
            "confidence": round(float(np.max(probabilities)), 5),
            "probabilities": [round(float(p), 5) for p in probabilities],
            "image": png_data_url(image)}


def misclassified_records(x_test, y_test, probabilities) -> list[dict]:
    """Every wrong test digit, the most confidently wrong first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_test)
    wrong = wrong[np.argsort(-probabilities[wrong].max(axis=1), kind="stable")]
    return [digit_record(i, x_test[i], y_test[i], probabilities[i]) for i in wrong]


def correct_samples(x_test, y_test, probabilities) -> list[dict]:
    """A few right answers per digit, so the matrix diagonal is clickable too."""
    predicted = probabilities.argmax(axis=1)
    records = []
    for digit in range(CLASSES):
        right = np.flatnonzero((y_test == digit) & (predicted == digit))[:CORRECT_SAMPLES_PER_CLASS]
        records.extend(digit_record(i, x_test[i], y_test[i], probabilities[i]) for i in right)
    return records


def sample_grid(x_train, y_train) -> list[dict]:
    """The first training digits, four of each class, with their labels."""
    picks = [i for digit in range(CLASSES)
             for i in np.flatnonzero(y_train == digit)[:SAMPLE_GRID_SIZE // CLASSES]]
    return [{"index": int(i), "label": int(y_train[i]), "image": png_data_url(x_train[i])}
            for i in sorted(picks)]


def library_versions() -> dict:
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__}


def cpu_name() -> str:
    """The CPU's model name as `lscpu` shows it (from /proc/cpuinfo), e.g. "AMD EPYC"; speed figures need it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build_report(*, name: str, description: str, params: int, epochs: int, batch_size: int,
                 training_seconds: float, data_source: str, history: dict, test_loss: float,
                 probabilities: np.ndarray, x_train, y_train, x_test, y_test,
                 extra: dict | None = None) -> dict:
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted)
    return {
        "name": name,
        "description": description,
        "params": int(params),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "training_seconds": round(float(training_seconds), 1),
        "train_images": int(len(x_train)),
        "data_source": data_source,
        "test_loss": round(float(test_loss), 5),
        "test_accuracy": round(float(np.mean(predicted == y_test)), 5),
        "test_errors": int(np.sum(predicted != y_test)),
        "per_class": per_class_metrics(matrix),
        "confusion_matrix": matrix.tolist(),
        "history": {key: [round(float(v), 5) for v in values] for key, values in history.items()},
        "misclassified": misclassified_records(x_test, y_test, probabilities),
        "correct_samples": correct_samples(x_test, y_test, probabilities),
        "sample_grid": sample_grid(x_train, y_train),
        "versions": library_versions(),
        **(extra or {}),
    }


def write_report(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, separators=(",", ":")))
