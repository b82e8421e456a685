"""training.speed's FusedBatchNormalization trains like Keras' BatchNormalization and hands its weights over."""

import keras
import numpy as np
import pytest
from keras import layers

from training.recipes import RECIPES
from training.speed import FusedBatchNormalization
from webapp.mnist_format import IMAGE_SIDE

RNG = np.random.default_rng(7)


def twin_layers(channels=6):
    fused, plain = FusedBatchNormalization(), layers.BatchNormalization()
    for layer in (fused, plain):
        layer.build((None, 5, 5, channels))
    gamma, beta = RNG.normal(1, 0.2, channels), RNG.normal(0, 0.2, channels)
    weights = [gamma, beta, np.zeros(channels), np.ones(channels)]
    fused.set_weights(weights)
    plain.set_weights(weights)
    return fused, plain


def test_training_step_normalises_and_updates_statistics_like_keras():
    fused, plain = twin_layers()
    for _ in range(3):
        batch = RNG.normal(3, 2, (16, 5, 5, 6)).astype(np.float32)
        np.testing.assert_allclose(np.asarray(fused(batch, training=True)),
                                   np.asarray(plain(batch, training=True)), atol=1e-4)
    for fused_weight, plain_weight in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(fused_weight, plain_weight, rtol=1e-5, atol=1e-6)


def test_inference_uses_the_moving_statistics_like_keras():
    fused, plain = twin_layers()
    for _ in range(2):
        batch = RNG.normal(-1, 3, (8, 5, 5, 6)).astype(np.float32)
        fused(batch, training=True)
        plain(batch, training=True)
    batch = RNG.normal(0, 1, (4, 5, 5, 6)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(fused(batch, training=False)),
                               np.asarray(plain(batch, training=False)), atol=1e-4)


def test_gradients_match_keras():
    import tensorflow as tf
    fused, plain = twin_layers()
    batch = tf.constant(RNG.normal(0, 1, (8, 5, 5, 6)).astype(np.float32))
    target = tf.constant(RNG.normal(0, 1, (8, 5, 5, 6)).astype(np.float32))
    gradients = []
    for layer in (fused, plain):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            loss = tf.reduce_sum(layer(batch, training=True) * target)
        gradients.append(tape.gradient(loss, [batch, *layer.trainable_variables]))
    for fused_gradient, plain_gradient in zip(*gradients):
        np.testing.assert_allclose(np.asarray(fused_gradient), np.asarray(plain_gradient), atol=1e-3)


@pytest.mark.parametrize("arch", ["cnn"])
def test_training_twin_weights_load_into_the_saved_model(arch):
    twin, saved = RECIPES[arch].build_for_training(), RECIPES[arch].builder()
    assert any(isinstance(layer, FusedBatchNormalization) for layer in twin.layers)
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in saved.layers)
    saved.set_weights(twin.get_weights())
    pixels = RNG.random((3, IMAGE_SIDE, IMAGE_SIDE)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(twin(pixels, training=False)), np.asarray(saved(pixels, training=False)),
                               atol=1e-5)
    keras.backend.clear_session()
