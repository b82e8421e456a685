"""The server's inference path: same answers as Keras, safe from many threads, broken files reported."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import pytest

from webapp.inference.classifier import Classifier, ModelLoadError, ModelRegistry

MODEL_DIR = Path(__file__).resolve().parent.parent / "model"
SHIPPED = ["cnn", "mlp", "mlp-wide"]


@pytest.mark.parametrize("name", SHIPPED)
def test_fast_path_matches_keras_model_call(mnist, name):
    images = mnist.x_test[:64].astype(np.float32) / 255.0
    keras_model = keras.saving.load_model(MODEL_DIR / f"{name}.keras", compile=False)
    expected = keras_model(images, training=False).numpy()
    expected = expected / expected.sum(axis=1, keepdims=True)
    fast = Classifier.load(MODEL_DIR / f"{name}.tflite").predict(images)
    np.testing.assert_allclose(fast, expected, atol=1e-5)


def test_concurrent_predictions_from_8_threads_are_right(mnist):
    classifier = Classifier.load(MODEL_DIR / "cnn.tflite")
    indices = np.arange(400)
    images = mnist.x_test[indices].astype(np.float32) / 255.0
    expected = classifier.predict(images).argmax(axis=1)
    assert np.mean(expected == mnist.y_test[indices]) > 0.99

    def predict_one(i):
        return int(classifier.predict(images[i:i + 1]).argmax())

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(predict_one, range(len(indices))))
    assert answers == expected.tolist()


@pytest.mark.parametrize("content, reason", [
    (None, "is missing"),
    (b"", "is empty"),
    (b"\x00garbage" * 100, "is not a readable model"),
], ids=["missing", "empty", "corrupt"])
def test_broken_model_file_is_reported_and_the_others_still_served(tmp_path, content, reason):
    for suffix in (".tflite", ".json"):
        (tmp_path / f"mlp{suffix}").write_bytes((MODEL_DIR / f"mlp{suffix}").read_bytes())
    (tmp_path / "broken.keras").write_bytes(b"")
    if content is not None:
        (tmp_path / "broken.tflite").write_bytes(content)
    registry = ModelRegistry.from_folder(tmp_path)
    assert registry.names == ["mlp"]
    assert reason in registry.broken["broken"] and "make train" in registry.broken["broken"]
    with pytest.raises(ModelLoadError):
        Classifier.load(tmp_path / "broken.tflite")
