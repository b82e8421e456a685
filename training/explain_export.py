"""What the server needs to show the inside of a model, written next to it by train.py (no TensorFlow when serving).

For a model `<name>` in a folder:

- `<name>.explain.tflite`: two LiteRT signatures. `layer_outputs` maps one drawing (1x28x28) to every layer's
  output, each under its layer's name; `scores` maps a batch (Nx28x28) to the last layer's scores before its
  activation (logits) and the penultimate features. The server measures saliency with `scores` (occlusion)
  and finds neighbours with the features.
- `<name>.explain.json`: the layers in the order the data flows (name, kind, shape), the first
  convolution's filters, the output activation, the sha256 of the explain files, of the `<name>.tflite` they
  were made from, and of the sample's contents.
- `<name>.neighbours.npz`: the penultimate features of every digit of the sample, reduced by PCA to
  NEIGHBOUR_DIMENSIONS (float16), with the PCA mean and projection; row i belongs to the sample's digit i.
- `mnist-neighbours.npz`: the shared sample of MNIST training digits (pixels, labels, their indices in
  MNIST), written once per folder.

The layers, shapes and filters are read from the Keras model itself. What a model must have: a last Dense
layer (its logits are what saliency measures) whose activation is softmax or sigmoid.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from webapp.inference.explainer import SAMPLE_FILE, Sample, load_sample, sample_sha256
from webapp.mnist_format import IMAGE_SIDE

NEIGHBOUR_SAMPLE_PER_CLASS = 1000   # 10,000 training digits: 7.8 MB of pixels, about 1.6 MB compressed
NEIGHBOUR_DIMENSIONS = 48
SAMPLE_SEED = 20261123
SHARED_SAMPLE = SAMPLE_FILE


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def explained_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer after the input, in the order the data flows."""
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def kind_of(layer: keras.layers.Layer) -> str:
    names = {"Conv2D": "convolution", "Dense": "dense", "BatchNormalization": "batch normalisation",
             "Activation": "activation", "Dropout": "dropout", "Flatten": "flatten", "Reshape": "reshape",
             "MaxPooling2D": "max pooling", "AveragePooling2D": "average pooling"}
    return names.get(type(layer).__name__, type(layer).__name__)


def score_parts(model: keras.Model):
    """The penultimate output and the last layer's weights: logits = features @ kernel + bias."""
    last = explained_layers(model)[-1]
    if not isinstance(last, keras.layers.Dense) or last.get_config().get("activation") not in ("softmax", "sigmoid"):
        raise ValueError(f"the last layer of {model.name} is not a Dense layer with softmax or sigmoid: "
                         "no logits to explain")
    features_model = keras.Model(model.inputs, last.input)
    kernel, bias = (np.asarray(weight) for weight in last.get_weights())
    return features_model, kernel, bias


def export_explain(model: keras.Model, folder: Path, name: str, x_train: np.ndarray, y_train: np.ndarray) -> dict:
    """Write the three files for `model` (and the shared sample if missing); returns the JSON written."""
    folder.mkdir(parents=True, exist_ok=True)
    layers = explained_layers(model)
    every_layer = keras.Model(model.inputs, {layer.name: layer.output for layer in layers})
    features_model, kernel, bias = score_parts(model)
    logits_layer = keras.layers.Dense(len(bias), activation=None, name="logits")
    features = keras.layers.Flatten(name="features")(features_model.output)
    scores_model = keras.Model(model.inputs, {"logits": logits_layer(features), "features": features})
    logits_layer.set_weights([kernel, bias])

    # Keras' export archive tracks the variables (a bare tf.function would lose them), one signature each.
    archive = keras.export.ExportArchive()
    archive.track(every_layer)
    archive.track(scores_model)
    archive.add_endpoint("layer_outputs", lambda pixels: every_layer(pixels, training=False),
                         input_signature=[tf.TensorSpec([1, IMAGE_SIDE, IMAGE_SIDE], tf.float32, name="pixels")])
    archive.add_endpoint("scores", lambda pixels: scores_model(pixels, training=False),
                         input_signature=[tf.TensorSpec([None, IMAGE_SIDE, IMAGE_SIDE], tf.float32, name="pixels")])
    with tempfile.TemporaryDirectory() as saved:
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved, signature_keys=["layer_outputs", "scores"])
        tflite = converter.convert()
    tflite_path = folder / f"{name}.explain.tflite"
    tflite_path.write_bytes(tflite)

    sample = shared_sample(folder, x_train, y_train)
    features = scores_model.predict(sample.pixels.astype(np.float32) / 255.0, batch_size=500, verbose=0)
    features = features["features"].astype(np.float32)
    mean = features.mean(axis=0)
    _, _, directions = np.linalg.svd(features - mean, full_matrices=False)
    projection = directions[:NEIGHBOUR_DIMENSIONS].T.astype(np.float32)   # features -> reduced
    reduced = (features - mean) @ projection
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True) + 1e-8      # cosine similarity by dot product
    neighbours_path = folder / f"{name}.neighbours.npz"
    np.savez_compressed(neighbours_path, features=reduced.astype(np.float16), mean=mean, projection=projection)

    first_conv = next((layer for layer in layers if isinstance(layer, keras.layers.Conv2D)), None)
    description = {
        "model": name,
        "layers": [{"name": layer.name, "kind": kind_of(layer), "shape": list(layer.output.shape[1:])}
                   for layer in layers],
        # Each filter averaged over its input channels (one for a grey digit): kernel rows x columns.
        "first_convolution": None if first_conv is None else {
            "layer": first_conv.name,
            "filters": np.asarray(first_conv.get_weights()[0]).mean(axis=2).transpose(2, 0, 1).round(5).tolist(),
        },
        "output_activation": layers[-1].get_config().get("activation"),
        "neighbour_dimensions": int(projection.shape[1]),
        "files": {tflite_path.name: sha256_of(tflite_path), neighbours_path.name: sha256_of(neighbours_path)},
        "model_sha256": sha256_of(served) if (served := folder / f"{name}.tflite").is_file() else None,
        "sample_sha256": sample_sha256(sample),
    }
    (folder / f"{name}.explain.json").write_text(json.dumps(description, indent=1))
    return description


def shared_sample(folder: Path, x_train: np.ndarray, y_train: np.ndarray) -> Sample:
    """The MNIST training digits neighbours are chosen from: the same seeded sample for every model."""
    path = folder / SHARED_SAMPLE
    if path.exists():
        return load_sample(folder)
    rng = np.random.default_rng(SAMPLE_SEED)
    indices = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(y_train == digit), NEIGHBOUR_SAMPLE_PER_CLASS, replace=False)
        for digit in range(10)]))
    sample = Sample(np.asarray(x_train[indices], np.uint8), np.asarray(y_train[indices], np.uint8))
    np.savez_compressed(path, pixels=sample.pixels, labels=sample.labels, indices=indices.astype(np.int32))
    return sample


def main(argv=None) -> None:
    """`python -m training.explain_export [folder]`: write the explain files for every `*.keras` in a folder."""
    import argparse

    from training.mnist import load_mnist

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=Path("model"))
    args = parser.parse_args(argv)
    mnist = load_mnist()
    for path in sorted(args.folder.glob("*.keras")):
        export_explain(keras.models.load_model(path), args.folder, path.stem, mnist.x_train, mnist.y_train)
        print(f"wrote {args.folder}/{path.stem}.explain.tflite, .explain.json, .neighbours.npz", flush=True)


if __name__ == "__main__":
    main()
