"""What makes training fast on a CPU without changing what is learnt or saved.

- FusedBatchNormalization: the training twin's batch normalisation, through TensorFlow's fused kernel;
- plain_copy: the trained weights in the plain all-float32 model that is saved, exported and evaluated;
- STEPS_PER_EXECUTION: training steps per call into TensorFlow;
- use_mixed_precision: bfloat16 activations where the CPU has bfloat16 matrix units.
"""

from pathlib import Path

import keras
import tensorflow as tf
from keras import layers

# Run this many training steps per call into TensorFlow: one Python round trip per step kept
# a third core busy on this 2-core machine and doubled some epochs (91 ms a step instead of 45).
STEPS_PER_EXECUTION = 100


class FusedBatchNormalization(layers.Layer):
    """Keras' BatchNormalization through TensorFlow's fused kernel, for training only.

    Keras 3 normalises with separate moment, subtract and scale ops; with bfloat16
    activations that took two thirds of each conv block's training step on this CPU.
    Same weights in the same order (gamma, beta, moving mean, moving variance), same
    defaults and the same biased moving variance, so the trained weights go straight
    into a plain BatchNormalization for saving (plain_copy).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(autocast=False, **kwargs)  # gamma, beta and statistics stay float32
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(shape=channels, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=channels, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=channels, initializer="zeros", name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=channels, initializer="ones", name="moving_variance",
                                               trainable=False)

    def call(self, x, training=False):
        if not training:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, self.gamma, self.beta, mean=self.moving_mean, variance=self.moving_variance,
                epsilon=self.epsilon, is_training=False)
            return y
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, self.gamma, self.beta, epsilon=self.epsilon, is_training=True)
        count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
        variance = variance * (count - 1) / count  # the kernel returns it Bessel-corrected
        self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
        self.moving_variance.assign(self.momentum * self.moving_variance + (1 - self.momentum) * variance)
        return y


def has_bfloat16_matrix_units():
    """AMX or AVX512-BF16 run bfloat16 convolutions about 3x faster than float32 on this CPU."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
    return "amx_bf16" in flags or "avx512_bf16" in flags


def use_mixed_precision(allowed):
    """Train in mixed bfloat16 when the recipe allows it and the CPU runs it fast; says whether it does."""
    mixed = allowed and has_bfloat16_matrix_units()
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    return mixed


def plain_copy(model, build):
    """The trained weights in `build()`, a plain all-float32 model: what is saved, exported and evaluated."""
    keras.mixed_precision.set_global_policy("float32")
    copy = build()
    copy.set_weights(model.get_weights())
    copy.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return copy
