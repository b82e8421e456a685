"""Training losses beyond Keras' names."""

import keras

from webapp.mnist_format import CLASSES


def smoothed_crossentropy(smoothing: float):
    """Cross-entropy against labels softened by `smoothing` (0.1: the right class 0.91, every other 0.01), for
    integer labels as MNIST has them (Keras' sparse cross-entropy takes no smoothing)."""
    def loss(labels, probabilities):
        one_hot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32"), CLASSES)
        return keras.losses.categorical_crossentropy(one_hot, probabilities, label_smoothing=smoothing)
    return loss
