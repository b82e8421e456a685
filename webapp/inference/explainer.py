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
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from webapp.mnist_format import IMAGE_SIDE

INK = 0.05                 # a model-input pixel brighter than this is ink
BLOCK = 2                  # occluded squares: 2x2 pixels (a digit has 30-70 with ink; one batch of them)
NEIGHBOURS = 8
EXPLAIN_THREADS = min(2, os.cpu_count() or 1)
SAMPLE_FILE = "mnist-neighbours.npz"
REWRITE_HINT = "write them again with `python -m training.explain_export {folder}` (or train the model again)."
MEANINGFUL_DROP = 0.05     # nats: a smaller largest drop means no ink speaks for the target
RELATIVE_EVIDENCE = 0.1    # ... nor does one under a tenth of the largest drop for the model's own answer


class ExplainUnavailable(Exception):
    """This model has no (intact) explain files; the message says how to make them."""


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str
    shape: tuple[int, ...]
    activation: np.ndarray


@dataclass(frozen=True)
class Saliency:
    map: np.ndarray      # 28x28 in [0, 1]
    peak: float          # the largest drop of the target's log-odds, in nats (0: no ink speaks for it)


@dataclass(frozen=True)
class Sample:
    """The MNIST training digits neighbours are chosen from, shared by every model of a folder."""

    pixels: np.ndarray   # N x 28 x 28 uint8
    labels: np.ndarray   # N uint8


@dataclass(frozen=True)
class Neighbour:
    label: int
    similarity: float
    pixels: np.ndarray   # 28x28 uint8


def log_odds(logits: np.ndarray, target: int, output_activation: str | None) -> np.ndarray:
    """The log-odds of the probability the page shows for `target`, for each row of logits: log p - log(1 - p).

    Softmax: p_t = e^z_t / sum e^z_j. Sigmoid (the notebooks' models): the page shows s_t / sum s_j with
    s = sigmoid(z), so the same formula runs on log s = -softplus(-z) instead of z."""
    scores = -np.logaddexp(0.0, -logits) if output_activation == "sigmoid" else logits
    others = np.delete(scores, target, axis=1)
    top = others.max(axis=1, keepdims=True)
    return scores[:, target] - (top[:, 0] + np.log(np.exp(others - top).sum(axis=1)))


class Explainer:
    """One model's explain files, checked against the sha256 values their description lists and against the
    served model file they were made from (`model_sha256`: explain files of another network are refused)."""

    def __init__(self, folder: Path, name: str, sample: Sample, model_sha256: str | None = None):
        description_path = folder / f"{name}.explain.json"
        if not description_path.is_file():
            raise ExplainUnavailable(f"Model {name} has no explain files yet: {REWRITE_HINT.format(folder=folder)}")
        try:
            description = json.loads(description_path.read_text())
            for file_name, sha256 in description["files"].items():
                if hashlib.sha256((folder / file_name).read_bytes()).hexdigest() != sha256:
                    raise ExplainUnavailable(f"{file_name} does not match the sha256 recorded for it: "
                                             f"{REWRITE_HINT.format(folder=folder)}")
            if model_sha256 and description.get("model_sha256") != model_sha256:
                raise ExplainUnavailable(f"The explain files of {name} were made from another {name}.tflite: "
                                         f"{REWRITE_HINT.format(folder=folder)}")
            if description.get("sample_sha256") != sample_sha256(sample):
                raise ExplainUnavailable(f"The neighbours of {name} were chosen from another sample of training "
                                         f"digits: {REWRITE_HINT.format(folder=folder)}")
            tflite = (folder / f"{name}.explain.tflite").read_bytes()
            with np.load(folder / f"{name}.neighbours.npz") as stored:
                self.features = stored["features"].astype(np.float32)
                self.mean, self.projection = stored["mean"], stored["projection"]
        except (OSError, KeyError, ValueError) as error:
            raise ExplainUnavailable(f"The explain files of {name} cannot be read ({error.__class__.__name__}): "
                                     f"{REWRITE_HINT.format(folder=folder)}") from error
        self.name = name
        self.sample = sample
        self.layers = description["layers"]
        self.output_activation = description.get("output_activation")
        first = description.get("first_convolution")
        self.first_filters = None if first is None else np.asarray(first["filters"], np.float32)
        self.first_filters_layer = None if first is None else first["layer"]
        # Two threads: the occlusion batch is the one big call of a request (15.5 -> 8.8 ms for the CNN's
        # 40 copies of a 7 on the 2-core AMD EPYC), and explanations are rare next to predictions.
        self._interpreter = Interpreter(model_content=tflite, num_threads=EXPLAIN_THREADS)
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

    def explain(self, pixels: np.ndarray, target: int, block: int = BLOCK) -> tuple[Saliency, list[Neighbour]]:
        """The saliency for `target` and the nearest training digits, from one batch through the model."""
        logits, features = self.scores(occluded_copies(pixels, block))
        return self.saliency_from(pixels, target, block, logits), self.neighbours_of(features[0])

    def saliency(self, pixels: np.ndarray, target: int, block: int = BLOCK) -> Saliency:
        """How much removing the ink of each pixel's block lowers the target's log-odds: a 28x28 map in
        [0, 1] (1 for the block that matters most) and that largest drop in nats."""
        logits, _ = self.scores(occluded_copies(pixels, block))
        return self.saliency_from(pixels, target, block, logits)

    def saliency_from(self, pixels: np.ndarray, target: int, block: int, logits: np.ndarray) -> Saliency:
        peak, saliency = block_drops(pixels, target, block, logits, self.output_activation)
        answer = int(logits[0].argmax())
        # Evidence is weak when it is small next to the evidence for the model's own answer (or tiny).
        weakest = MEANINGFUL_DROP if answer == target else max(
            MEANINGFUL_DROP, RELATIVE_EVIDENCE * block_drops(pixels, answer, block, logits, self.output_activation)[0])
        if peak < weakest:   # no ink speaks for the target: nothing to light up
            return Saliency(np.zeros_like(saliency), peak)
        return Saliency(saliency / peak, peak)

    def neighbours(self, pixels: np.ndarray, count: int = NEIGHBOURS) -> list[Neighbour]:
        """The `count` sample training digits whose features are nearest (cosine), nearest first."""
        _, features = self.scores(pixels.reshape(1, IMAGE_SIDE, IMAGE_SIDE))
        return self.neighbours_of(features[0], count)

    def neighbours_of(self, features: np.ndarray, count: int = NEIGHBOURS) -> list[Neighbour]:
        reduced = (features - self.mean) @ self.projection
        reduced /= np.linalg.norm(reduced) + 1e-8
        similarity = self.features @ reduced
        nearest = np.argpartition(-similarity, count)[:count]
        nearest = nearest[np.argsort(-similarity[nearest])]
        return [Neighbour(int(self.sample.labels[i]), float(similarity[i]), self.sample.pixels[i]) for i in nearest]


def block_drops(pixels: np.ndarray, target: int, block: int, logits: np.ndarray,
                output_activation: str | None) -> tuple[float, np.ndarray]:
    """(the largest drop in nats, a 28x28 map of each ink pixel's block's drop of the target's log-odds)."""
    blocks, ink = ink_blocks(pixels, block)
    rows, columns = np.nonzero(blocks)
    strength = log_odds(logits, target, output_activation)
    drops = np.zeros(blocks.shape, np.float64)
    drops[rows, columns] = np.clip(strength[0] - strength[1:], 0.0, None)
    saliency = np.kron(drops, np.ones((block, block))) * ink
    return float(saliency.max()), saliency


def ink_blocks(pixels: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(blocks, ink): the blocks with ink on the (28 / block)^2 grid, and the ink pixels of the 28x28 input."""
    ink = pixels.reshape(IMAGE_SIDE, IMAGE_SIDE) > INK
    return ink.reshape(IMAGE_SIDE // block, block, IMAGE_SIDE // block, block).any(axis=(1, 3)), ink


def occluded_copies(pixels: np.ndarray, block: int) -> np.ndarray:
    """The input followed by one copy per block that has ink, that block's ink set to 0. At most 197 copies
    for 2x2 blocks: a bounded cost whatever is drawn."""
    pixels = pixels.astype(np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)
    rows, columns = np.nonzero(ink_blocks(pixels, block)[0])
    batch = np.repeat(pixels[None], len(rows) + 1, axis=0)
    for copy, (row, column) in enumerate(zip(rows, columns), start=1):
        batch[copy, row * block:(row + 1) * block, column * block:(column + 1) * block] = 0.0
    return batch


def load_sample(folder: Path) -> Sample:
    with np.load(Path(folder) / SAMPLE_FILE) as stored:
        return Sample(stored["pixels"], stored["labels"])


def sample_sha256(sample: Sample) -> str:
    """The sample's contents (not its file, whose zip records the time it was written)."""
    return hashlib.sha256(np.ascontiguousarray(sample.pixels).tobytes()
                          + np.ascontiguousarray(sample.labels).tobytes()).hexdigest()


def load_explainers(folder: Path, models: dict[str, str]) -> tuple[dict[str, Explainer], dict[str, str]]:
    """The explainer of each model (name -> the sha256 of the file it serves) that has intact explain files
    made from that file, and why the others have none. The training sample is loaded once for all."""
    folder = Path(folder)
    try:
        sample = load_sample(folder)
    except (OSError, KeyError, ValueError) as error:
        reason = (f"The sample of training digits ({SAMPLE_FILE}) cannot be read ({error.__class__.__name__}): "
                  f"{REWRITE_HINT.format(folder=folder)}")
        return {}, {name: reason for name in models}
    explainers, missing = {}, {}
    for name, model_sha256 in models.items():
        try:
            explainers[name] = Explainer(folder, name, sample, model_sha256)
        except ExplainUnavailable as error:
            missing[name] = str(error)
        except Exception as error:  # LiteRT raises ValueError/RuntimeError for damaged files
            missing[name] = (f"The explain file of {name} is not a readable model ({error.__class__.__name__}): "
                             f"{REWRITE_HINT.format(folder=folder)}")
    return explainers, missing
