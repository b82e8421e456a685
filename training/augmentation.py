"""Training batches, with MNIST digits moved a little at random so the network learns people's drawings."""

import numpy as np
import tensorflow as tf

from webapp.mnist_format import IMAGE_SIDE

DEGREES = 10          # rotations of +-10 degrees
SHIFT = 0.10          # fraction of the image: +-2.8 pixels
ZOOM = 0.10           # +-10 % size


def random_affine(images, seed):
    """Each image rotated, zoomed and shifted at random, in one bilinear resampling pass.

    images: float32 (n, IMAGE_SIDE, IMAGE_SIDE); seed: two int64s. One combined transform costs a third of
    Keras' RandomRotation + RandomZoom + RandomTranslation and blurs the digit once, not three times.
    """
    n = tf.shape(images)[0]
    angle_seed, zoom_seed, shift_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    angle = tf.random.stateless_uniform([n], angle_seed, -DEGREES, DEGREES) * (np.pi / 180)
    scale = tf.random.stateless_uniform([n], zoom_seed, 1 - ZOOM, 1 + ZOOM)
    shift = tf.random.stateless_uniform([n, 2], shift_seed, -SHIFT * IMAGE_SIDE, SHIFT * IMAGE_SIDE)
    # Output pixel (x, y) samples input pixel R(angle) / scale * ((x, y) - centre) + centre + shift.
    centre = (IMAGE_SIDE - 1) / 2
    a0, a1 = tf.cos(angle) / scale, -tf.sin(angle) / scale
    b0, b1 = tf.sin(angle) / scale, tf.cos(angle) / scale
    a2 = centre - a0 * centre - a1 * centre + shift[:, 0]
    b2 = centre - b0 * centre - b1 * centre + shift[:, 1]
    zeros = tf.zeros([n])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=images[..., tf.newaxis], transforms=transforms, output_shape=[IMAGE_SIDE, IMAGE_SIDE],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
    return moved[..., 0]


def training_dataset(x, y, batch_size, augment, seed):
    """Shuffled batches scaled to [0, 1], augmented on the fly (differently every epoch) when asked."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    dataset = dataset.batch(batch_size).map(lambda images, labels: (tf.cast(images, tf.float32) / 255.0, labels))
    if augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda batch, batch_seed: (random_affine(batch[0], batch_seed), batch[1]))
    return dataset.prefetch(tf.data.AUTOTUNE)
