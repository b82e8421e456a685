"""The networks' layers: each builder returns a fresh Keras model from MNIST pixels to ten class scores."""

import keras
from keras import layers

from webapp.mnist_format import CLASSES, IMAGE_SIDE


def conv_bn_relu(x, filters, kernel_size, batch_norm, strides=1, padding="valid"):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False)(x)
    x = batch_norm()(x)
    return layers.Activation("relu")(x)


def build_cnn(batch_norm=layers.BatchNormalization):
    """Two blocks of conv-conv-strided conv (a learnable pooling), then a 4x4 conv head.

    batch_norm: the normalisation layer class; training uses a faster twin with the same weights."""
    inputs = keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), name="pixels")
    x = layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1))(inputs)
    for filters in (32, 64):
        x = conv_bn_relu(x, filters, 3, batch_norm)
        x = conv_bn_relu(x, filters, 3, batch_norm)
        x = conv_bn_relu(x, filters, 5, batch_norm, strides=2, padding="same")
        x = layers.Dropout(0.4)(x)
    x = conv_bn_relu(x, 128, 4, batch_norm)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_mlp(hidden, name):
    """The notebooks' model: Flatten, Dense relu layers, Dense(CLASSES, sigmoid)."""
    inputs = keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), name="pixels")
    x = layers.Flatten()(inputs)
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(CLASSES, activation="sigmoid", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
