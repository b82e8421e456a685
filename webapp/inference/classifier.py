"""The trained models, loaded once at start-up and called without per-call overhead.

train.py saves each model as `<name>.keras` (the trained Keras model) and exports
`<name>.tflite` beside it. The server runs the exported file with LiteRT: no
TensorFlow import at start-up, and about 0.3 ms per digit where `model.predict`
spends tens of milliseconds building a data pipeline for one image.
tests/test_classifier.py proves both give the same probabilities.
"""

from __future__ import annotations

import hashlib
import json
import queue
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from webapp.inference.plain_names import model_title
from webapp.mnist_format import CLASSES, IMAGE_SIDE

INPUT_SHAPE = (IMAGE_SIDE, IMAGE_SIDE)
RETRAIN_HINT = "run `make train` to write it"


class ModelLoadError(RuntimeError):
    """A model file is missing, empty or not a usable model."""


EXPLAIN_SUFFIX = ".explain"   # <name>.explain.tflite: see webapp/inference/explainer.py


class Classifier:
    """One trained model: 28x28 float32 images in, ten probabilities summing to 1 out.

    LiteRT interpreters are not thread-safe, so each call borrows one from a pool
    and gives it back: as many interpreters as calls ever ran at once, whether the
    server runs threads or greenlets (a greenlet-local one would be built per connection).
    """

    def __init__(self, name: str, model_bytes: bytes, report: dict | None):
        self.name = name
        self.report = report or {}
        self.sha256 = hashlib.sha256(model_bytes).hexdigest()
        self.version = self.sha256[:12]
        recorded = self.report.get("tflite_sha256")
        if recorded and recorded != self.sha256:
            raise ModelLoadError(f"{name}.tflite does not match the sha256 its report recorded "
                                 f"(the file was changed or damaged after training): {RETRAIN_HINT}")
        self._model_bytes = model_bytes
        self._idle: queue.SimpleQueue[Interpreter] = queue.SimpleQueue()
        with self._interpreter() as interpreter:   # built and run now, so the first user does not wait
            input_detail, output_detail = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        if tuple(input_detail["shape"][1:]) != INPUT_SHAPE or output_detail["shape"][-1] != CLASSES:
            raise ModelLoadError(f"model {name} takes {input_detail['shape']} and gives "
                                 f"{output_detail['shape']}, not {IMAGE_SIDE}x{IMAGE_SIDE} images to {CLASSES} classes")
        self._input_index, self._output_index = input_detail["index"], output_detail["index"]
        self.predict(np.zeros((1, *INPUT_SHAPE), np.float32))

    @classmethod
    def load(cls, path: Path) -> "Classifier":
        """Load `<name>.tflite` and its report `<name>.json` from the model folder."""
        if not path.is_file():
            raise ModelLoadError(f"{path} is missing: {RETRAIN_HINT}")
        model_bytes = path.read_bytes()
        if not model_bytes:
            raise ModelLoadError(f"{path} is empty: {RETRAIN_HINT}")
        report_path = path.with_suffix(".json")
        try:
            report = json.loads(report_path.read_text()) if report_path.is_file() else None
        except (OSError, ValueError) as error:
            raise ModelLoadError(f"{report_path} is damaged ({error.__class__.__name__}): {RETRAIN_HINT}") from error
        try:
            return cls(path.stem, model_bytes, report)
        except ModelLoadError:
            raise
        except Exception as error:  # LiteRT raises ValueError/RuntimeError for damaged files
            raise ModelLoadError(f"{path} is not a readable model ({error.__class__.__name__}): "
                                 f"{RETRAIN_HINT}") from error

    @contextmanager
    def _interpreter(self):
        """An idle interpreter of the pool, or a new one; back to the pool afterwards."""
        try:
            interpreter = self._idle.get_nowait()
        except queue.Empty:
            interpreter = Interpreter(model_content=self._model_bytes, num_threads=1)
            interpreter.allocate_tensors()
        try:
            yield interpreter
        finally:
            self._idle.put(interpreter)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for a batch of 28x28 images; sigmoid outputs are normalised to sum to 1."""
        batch = np.asarray(images, dtype=np.float32).reshape(-1, 1, *INPUT_SHAPE)
        scores = np.empty((len(batch), CLASSES), np.float64)
        with self._interpreter() as interpreter:
            for row, image in enumerate(batch):
                interpreter.set_tensor(self._input_index, image)
                interpreter.invoke()
                scores[row] = interpreter.get_tensor(self._output_index)[0]
        return scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)

    def describe(self) -> dict:
        return {"name": self.name,
                "title": model_title(self.name),
                "description": self.report.get("description", ""),
                "test_accuracy": self.report.get("test_accuracy"),
                "params": self.report.get("params")}


@dataclass
class ModelRegistry:
    """Every model in a folder, keyed by name; broken ones are kept with the reason."""

    classifiers: dict[str, Classifier] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_folder(cls, folder: Path) -> "ModelRegistry":
        folder = Path(folder)
        registry = cls()
        names = {path.stem for pattern in ("*.keras", "*.tflite") for path in folder.glob(pattern)
                 if not path.stem.endswith(EXPLAIN_SUFFIX)}   # a model's explain file is no model of its own
        for name in sorted(names):
            try:
                registry.classifiers[name] = Classifier.load(folder / f"{name}.tflite")
            except ModelLoadError as error:
                registry.broken[name] = str(error)
        return registry

    @property
    def names(self) -> list[str]:
        """Best test accuracy first, so the default model leads every list."""
        return sorted(self.classifiers,
                      key=lambda name: (-(self.classifiers[name].report.get("test_accuracy") or 0), name))

    def ordered(self) -> list[Classifier]:
        """Every loaded model, best first."""
        return [self.classifiers[name] for name in self.names]

    def summaries(self) -> list[dict]:
        """Every model's description, best first: /api/models and the pages list them alike."""
        return [classifier.describe() for classifier in self.ordered()]

    @property
    def default(self) -> Classifier | None:
        return self.classifiers[self.names[0]] if self.classifiers else None

    def get(self, name: str | None) -> Classifier | None:
        return self.default if not name else self.classifiers.get(name)
