"""How each loaded model does on the stored drawings, at a cost that does not grow with their number.

Every loaded model reads a drawing once, when it is stored: Store.add keeps
the answers and adds them to per-model-version confusion counts in the same
transaction, and a delete takes them out again, so a page view reads 100 counts
per model instead of running every model on every drawing (8 s at 20,000
drawings, in each worker). A model file that arrives later (a new version)
catches up on the older drawings in bounded batches, newest first, a few hundred
per page view; the page says how many it has read so far. Everything lives in
the database, so every worker and every instance sees the same scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from webapp.store.drawings import ModelKey, Store
from webapp.store.refusals import StoreRefused

CATCH_UP_BATCH = 200   # drawings per model per page view: ~60 ms for the CNN


@dataclass
class ModelScore:
    """How one model version does on the drawings it has read."""

    name: str
    version: str
    read: int              # drawings this version has answered so far
    drawings: int          # drawings in the store
    errors: int
    accuracy: float | None
    confusion_matrix: list[list[int]]   # rows are the people's labels, columns the model's answers


def key_of(classifier) -> ModelKey:
    return classifier.name, classifier.version


def answers_to(reading, index: int) -> dict[ModelKey, int]:
    """Each model's digit for digit `index` of a Reading, as Store.add keeps them."""
    return {key_of(answer.classifier): answer.digits[index] for answer in reading.answers}


def catch_up(store: Store, registry, drawings: int) -> None:
    """Let each model version answer up to CATCH_UP_BATCH of the drawings it has not read yet.

    A store that cannot be written is left as it is: the page then shows what was read before.
    """
    for classifier in registry.classifiers.values():
        key = key_of(classifier)
        if store.confusion(key).sum() >= drawings:
            continue
        ids, x, y = store.unanswered(key, CATCH_UP_BATCH)
        if len(ids):
            digits = classifier.predict(x.astype(np.float32) / 255.0).argmax(axis=1)
            try:
                store.add_answers(key, ids, y, digits)
            except StoreRefused:
                return


def scores(store: Store, registry) -> list[ModelScore]:
    """Each loaded model's score on the stored drawings, best model first, after one catch-up batch."""
    drawings = store.count()
    catch_up(store, registry, drawings)
    return [score_of(registry.classifiers[name], store.confusion(key_of(registry.classifiers[name])), drawings)
            for name in registry.names]


def score_of(classifier, matrix: np.ndarray, drawings: int) -> ModelScore:
    read = int(matrix.sum())
    errors = read - int(np.trace(matrix))
    return ModelScore(name=classifier.name, version=classifier.version, read=read, drawings=drawings,
                      errors=errors, accuracy=round(1 - errors / read, 5) if read else None,
                      confusion_matrix=matrix.tolist())


@dataclass(frozen=True)
class VersionScore:
    """One model version's score on the drawings it read (while it was served, or catching up)."""

    model: str
    version: str            # the first 12 hex digits of its file's sha256, as the answers are kept
    number: int | None      # its number among the model's published versions; None: not a stored version
    current: bool
    read: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return round(self.right / self.read, 5) if self.read else None


def version_scores(store: Store) -> list[VersionScore]:
    """Every model version that has read drawings, by model and newest version first."""
    numbers = {(model, sha[:12]): (number, bool(current)) for model, number, sha, current in store.read(
        "SELECT model, number, sha256, EXISTS (SELECT 1 FROM current_versions WHERE version_id = model_versions.id)"
        " FROM model_versions")}
    rows = store.read("SELECT model, version, sum(count), sum(CASE WHEN label = digit THEN count ELSE 0 END)"
                      " FROM confusion GROUP BY model, version HAVING sum(count) > 0")
    scores = [VersionScore(model, version, *numbers.get((model, version), (None, False)), read, right)
              for model, version, read, right in rows]
    return sorted(scores, key=lambda score: (score.model, -(score.number or 0), score.version))
