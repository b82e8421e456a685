"""The trained Keras model as the LiteRT file the server runs."""

import hashlib

import tensorflow as tf


def export_tflite(model, path):
    """The inference artifact the server runs (LiteRT): same answers, no per-call overhead.

    Returns the file's sha256, which the report records so the server refuses a damaged copy."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    exported = converter.convert()
    path.write_bytes(exported)
    return hashlib.sha256(exported).hexdigest()
