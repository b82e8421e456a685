"""The networks' layers: each builder returns a fresh Keras model from MNIST pixels to ten class scores."""

import keras
from keras import layers

from webapp.mnist_format import CLASSES, IMAGE_SIDE


def conv_bn_relu(x, filters, kernel_size, batch_norm, strides=1, padding="valid"):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False)(x)
    x = batch_norm()(x)
    return layers.Activation("relu")(x)


def build_cnn(batch_norm=layers.BatchNormalization):
    """conv 3x3 (32), a strided conv 3x3 (32) that halves the image early, conv-conv 3x3 (64), max pooling,
    then a 3x3 conv head (128) and softmax.

    Halving the image in the second layer keeps the two costliest layers of the old network (32 filters over
    the whole 26x26 image, and two 5x5 strided convs) out of every step: 40 instead of 110 s an epoch on
    2 AMD EPYC cores in float32, for the same accuracy within a few test digits (README, Training).
    batch_norm: the normalisation layer class; training uses a faster twin with the same weights."""
    inputs = keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), name="pixels")
    x = layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1))(inputs)
    x = conv_bn_relu(x, 32, 3, batch_norm)                # 26x26
    x = conv_bn_relu(x, 32, 3, batch_norm, strides=2)     # 12x12
    x = conv_bn_relu(x, 64, 3, batch_norm)                # 10x10
    x = conv_bn_relu(x, 64, 3, batch_norm)                # 8x8
    x = layers.MaxPooling2D()(x)                          # 4x4
    x = layers.Dropout(0.25)(x)
    x = conv_bn_relu(x, 128, 3, batch_norm)               # 2x2
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
