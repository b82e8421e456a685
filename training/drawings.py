"""People's corrected drawings (`flask --app webapp export-drawings`) as extra training data."""

import numpy as np

from webapp.mnist_format import CLASSES, IMAGE_SIDE
from webapp.store.held_out import split


def load_extra_data(path):
    """Drawings from `export-drawings` as ((x, y) to train on, (x, y) held out), checked first."""
    with np.load(path, allow_pickle=False) as npz:
        x, y = npz["x"], npz["y"]
        ids = npz["ids"] if "ids" in npz else np.arange(len(y))
        writers = [writer or None for writer in npz["writers"].tolist()] if "writers" in npz else None
        fixed = npz["held_out"] if "held_out" in npz else None   # a round's fixed fifth (-1: not in a round)
    if (x.dtype != np.uint8 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or y.shape != (len(x),)
            or not np.isin(y, range(CLASSES)).all()):
        raise SystemExit(f"--extra-data {path} must hold x uint8 (N, {IMAGE_SIDE}, {IMAGE_SIDE}) and y digits (N,); "
                         f"it holds x {x.dtype} {x.shape} and y {y.shape}")
    held_out = split(ids, y, writers, fixed)   # the rule flask finetune uses (webapp/store/held_out.py)
    return (x[~held_out], y[~held_out].astype(np.uint8)), (x[held_out], y[held_out].astype(np.uint8))


def held_out_accuracy(model, x, y):
    """The share of held-out drawings the model reads right; None when none were held out."""
    if not len(y):
        return None
    predicted = model.predict(x.astype(np.float32) / 255.0, batch_size=1000, verbose=0).argmax(axis=1)
    return round(float(np.mean(predicted == y)), 5)
