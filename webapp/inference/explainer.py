"""The inside of a model for one drawing: every layer's output, how much each input pixel mattered (saliency),
and the MNIST training digits nearest in the model's own feature space. Runs the explain files train.py
writes next to each model (training/explain_export.py) with LiteRT; no TensorFlow.

Saliency is occlusion, measured rather than estimated: the 28x28 input is cut into BLOCK x BLOCK squares, the
ink of each square that has some is set to 0 in a copy of the input (all copies in one batch), and each of its
ink pixels gets how far that lowers the target's log-odds, computed from the last layer's logits
(probabilities saturate at 100% and would hide it). Pixels without ink get 0: removing ink is what the model
can be asked about.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from webapp.mnist_format import IMAGE_SIDE

INK = 0.05                 # a model-input pixel brighter than this is ink
BLOCK = 2                  # occluded squares: 2x2 pixels (a digit has 30-70 with ink; one batch of them)
NEIGHBOURS = 8


class ExplainUnavailable(Exception):
    """This model has no (intact) explain files; the message says how to make them."""


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str
    shape: tuple[int, ...]
    activation: np.ndarray


@dataclass(frozen=True)
class Neighbour:
    label: int
    similarity: float
    pixels: np.ndarray   # 28x28 uint8


def log_odds(logits: np.ndarray, target: int, output_activation: str | None) -> np.ndarray:
    """How strongly each row of scores says `target`: sigmoid outputs judge each class alone (the logit);
    softmax outputs against the other classes (the logit minus the log-sum-exp of the rest)."""
    if output_activation == "sigmoid":
        return logits[:, target]
    others = np.delete(logits, target, axis=1)
    top = others.max(axis=1, keepdims=True)
    return logits[:, target] - (top[:, 0] + np.log(np.exp(others - top).sum(axis=1)))


class Explainer:
    """One model's explain files, loaded and checked against the sha256 values their description lists."""

    def __init__(self, folder: Path, name: str):
        description_path = folder / f"{name}.explain.json"
        if not description_path.is_file():
            raise ExplainUnavailable(f"Model {name} has no explain files yet: run "
                                     f"`python -m training.explain_export {folder}` (or train it again).")
        try:
            description = json.loads(description_path.read_text())
            for file_name, sha256 in description["files"].items():
                if hashlib.sha256((folder / file_name).read_bytes()).hexdigest() != sha256:
                    raise ExplainUnavailable(f"{file_name} does not match the sha256 recorded for it: write the "
                                             f"explain files again (`python -m training.explain_export {folder}`).")
            tflite = (folder / f"{name}.explain.tflite").read_bytes()
            with np.load(folder / f"{name}.neighbours.npz") as stored:
                self.features = stored["features"].astype(np.float32)
                self.mean, self.projection = stored["mean"], stored["projection"]
            with np.load(folder / "mnist-neighbours.npz") as sample:
                self.sample_pixels, self.sample_labels = sample["pixels"], sample["labels"]
        except (OSError, KeyError, ValueError) as error:
            raise ExplainUnavailable(f"The explain files of {name} cannot be read ({error.__class__.__name__}): "
                                     f"write them again (`python -m training.explain_export {folder}`).") from error
        self.name = name
        self.layers = description["layers"]
        self.output_activation = description.get("output_activation")
        first = description.get("first_convolution")
        self.first_filters = None if first is None else np.asarray(first["filters"], np.float32)
        self.first_filters_layer = None if first is None else first["layer"]
        self._interpreter = Interpreter(model_content=tflite, num_threads=1)
        self._layer_outputs = self._interpreter.get_signature_runner("layer_outputs")
        self._scores = self._interpreter.get_signature_runner("scores")
        self._lock = threading.Lock()   # one interpreter: LiteRT is not thread-safe

    def layer_outputs(self, pixels: np.ndarray) -> list[Layer]:
        """Every layer's output for one 28x28 input, in the order the data flows."""
        with self._lock:
            outputs = self._layer_outputs(pixels=pixels.reshape(1, IMAGE_SIDE, IMAGE_SIDE).astype(np.float32))
        return [Layer(layer["name"], layer["kind"], tuple(layer["shape"]), np.asarray(outputs[layer["name"]])[0])
                for layer in self.layers]

    def scores(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits, penultimate features) for a batch of 28x28 inputs."""
        with self._lock:
            answer = self._scores(pixels=np.ascontiguousarray(batch, np.float32))
        return np.asarray(answer["logits"], np.float64), np.asarray(answer["features"], np.float32)

    def saliency(self, pixels: np.ndarray, target: int, block: int = BLOCK) -> np.ndarray:
        """28x28 in [0, 1]: how much removing the ink of each pixel's block lowers the target's log-odds
        (1 for the block that matters most). At most (28 / block)^2 copies: a bounded cost whatever is drawn."""
        pixels = pixels.astype(np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)
        ink = pixels > INK
        blocks = ink.reshape(IMAGE_SIDE // block, block, IMAGE_SIDE // block, block).any(axis=(1, 3))
        rows, columns = np.nonzero(blocks)
        batch = np.repeat(pixels[None], len(rows) + 1, axis=0)
        for copy, (row, column) in enumerate(zip(rows, columns), start=1):
            batch[copy, row * block:(row + 1) * block, column * block:(column + 1) * block] = 0.0
        logits, _ = self.scores(batch)
        strength = log_odds(logits, target, self.output_activation)
        drops = np.zeros(blocks.shape, np.float64)
        drops[rows, columns] = np.clip(strength[0] - strength[1:], 0.0, None)
        saliency = np.kron(drops, np.ones((block, block))) * ink
        peak = saliency.max()
        return saliency / peak if peak > 0 else saliency

    def neighbours(self, pixels: np.ndarray, count: int = NEIGHBOURS) -> list[Neighbour]:
        """The `count` sample training digits whose features are nearest (cosine), nearest first."""
        _, features = self.scores(pixels.reshape(1, IMAGE_SIDE, IMAGE_SIDE))
        reduced = (features[0] - self.mean) @ self.projection
        reduced /= np.linalg.norm(reduced) + 1e-8
        similarity = self.features @ reduced
        nearest = np.argpartition(-similarity, count)[:count]
        nearest = nearest[np.argsort(-similarity[nearest])]
        return [Neighbour(int(self.sample_labels[i]), float(similarity[i]), self.sample_pixels[i]) for i in nearest]


def load_explainers(folder: Path, names: list[str]) -> tuple[dict[str, Explainer], dict[str, str]]:
    """The explainer of each model that has intact explain files, and why the others have none."""
    explainers, missing = {}, {}
    for name in names:
        try:
            explainers[name] = Explainer(Path(folder), name)
        except ExplainUnavailable as error:
            missing[name] = str(error)
        except Exception as error:  # LiteRT raises ValueError/RuntimeError for damaged files
            missing[name] = (f"The explain file of {name} is not a readable model ({error.__class__.__name__}): "
                             f"write it again (`python -m training.explain_export {folder}`).")
    return explainers, missing
