"""Train a Digit Draw model on MNIST and write it with its evaluation report.

    python train.py                  # the CNN (default): 25 epochs of about 22 s on 2 CPU cores
    python train.py --arch mlp       # the classic notebook model 784-50-50-10
    python train.py --arch mlp-wide  # the classic 784-150-50-10 variant
    python train.py --limit 2000 --epochs 1 --out /tmp/smoke   # a quick smoke run
    python train.py --extra-data drawings.npz   # also learn from `flask --app webapp export-drawings`

Writes `<out>/<arch>.keras` (the Keras model), `<out>/<arch>.tflite` (the same model
exported for the server) and `<out>/<arch>.json` (its evaluation report, see training/report.py).
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from training.mnist import load_mnist  # noqa: E402
from training.report import build_report, write_report  # noqa: E402

SEED = 1234
NUM_CLASSES = 10
MODEL_DIR = Path(__file__).resolve().parent / "model"

# The CNN recipe: conv blocks with batch normalisation, light augmentation,
# dropout, and a one-cycle learning rate (warm up, then cosine decay to ~0).
CNN_EPOCHS = 25
CNN_BATCH_SIZE = 128
# Run this many training steps per call into TensorFlow: one Python round trip per step kept
# a third core busy on this 2-core machine and doubled some epochs (91 ms a step instead of 45).
CNN_STEPS_PER_EXECUTION = 100
CNN_PEAK_LEARNING_RATE = 3e-3
AUGMENT_DEGREES = 10          # rotations of +-10 degrees
AUGMENT_SHIFT = 0.10          # fraction of the image: +-2.8 pixels
AUGMENT_ZOOM = 0.10           # +-10 % size

# People's drawings (--extra-data): those whose id is a multiple of this are held out, 20 %,
# and the same ones in every later export, so their score stays honest.
EXTRA_HELD_OUT_EVERY = 5

# The classic notebook model, exactly as it was.
MLP_EPOCHS = 10
MLP_BATCH_SIZE = 32

DESCRIPTIONS = {
    "cnn": "Convolutional network: 7 conv layers with batch normalisation, dropout, augmentation",
    "mlp": "The classic notebook model: dense 784-50-50-10 with sigmoid output",
    "mlp-wide": "The classic dense model, wider: 784-150-50-10 with sigmoid output",
}


class FusedBatchNormalization(layers.Layer):
    """Keras' BatchNormalization through TensorFlow's fused kernel, for training only.

    Keras 3 normalises with separate moment, subtract and scale ops; with bfloat16
    activations that took two thirds of each conv block's training step on this CPU.
    Same weights in the same order (gamma, beta, moving mean, moving variance), same
    defaults and the same biased moving variance, so the trained weights go straight
    into a plain BatchNormalization for saving (float32_copy).
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


def conv_bn_relu(x, filters, kernel_size, strides=1, padding="valid", fused=False):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False)(x)
    x = FusedBatchNormalization()(x) if fused else layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_cnn(fused=False):
    """Two blocks of conv-conv-strided conv (a learnable pooling), then a 4x4 conv head.

    fused=True builds the training twin with FusedBatchNormalization."""
    inputs = keras.Input(shape=(28, 28), name="pixels")
    x = layers.Reshape((28, 28, 1))(inputs)
    for filters in (32, 64):
        x = conv_bn_relu(x, filters, 3, fused=fused)
        x = conv_bn_relu(x, filters, 3, fused=fused)
        x = conv_bn_relu(x, filters, 5, strides=2, padding="same", fused=fused)
        x = layers.Dropout(0.4)(x)
    x = conv_bn_relu(x, 128, 4, fused=fused)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_mlp(hidden=(50, 50), name="mlp"):
    """The notebooks' model: Flatten, Dense relu layers, Dense(10, sigmoid)."""
    inputs = keras.Input(shape=(28, 28), name="pixels")
    x = layers.Flatten()(inputs)
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="sigmoid", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def random_affine(images, seed):
    """Each image rotated, zoomed and shifted at random, in one bilinear resampling pass.

    images: float32 (n, 28, 28); seed: two int64s. One combined transform costs a third of
    Keras' RandomRotation + RandomZoom + RandomTranslation and blurs the digit once, not three times.
    """
    n = tf.shape(images)[0]
    angle_seed, zoom_seed, shift_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    angle = tf.random.stateless_uniform([n], angle_seed, -AUGMENT_DEGREES, AUGMENT_DEGREES) * (np.pi / 180)
    scale = tf.random.stateless_uniform([n], zoom_seed, 1 - AUGMENT_ZOOM, 1 + AUGMENT_ZOOM)
    shift = tf.random.stateless_uniform([n, 2], shift_seed, -AUGMENT_SHIFT * 28, AUGMENT_SHIFT * 28)
    # Output pixel (x, y) samples input pixel R(angle) / scale * ((x, y) - centre) + centre + shift.
    centre = 13.5
    a0, a1 = tf.cos(angle) / scale, -tf.sin(angle) / scale
    b0, b1 = tf.sin(angle) / scale, tf.cos(angle) / scale
    a2 = centre - a0 * centre - a1 * centre + shift[:, 0]
    b2 = centre - b0 * centre - b1 * centre + shift[:, 1]
    zeros = tf.zeros([n])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=images[..., tf.newaxis], transforms=transforms, output_shape=[28, 28], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")
    return moved[..., 0]


def training_dataset(x, y, batch_size, augment):
    """Shuffled batches scaled to [0, 1], augmented on the fly (differently every epoch) when asked."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=SEED)
    dataset = dataset.batch(batch_size).map(lambda images, labels: (tf.cast(images, tf.float32) / 255.0, labels))
    if augment:
        seeds = tf.data.Dataset.random(seed=SEED, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda batch, seed: (random_affine(batch[0], seed), batch[1]))
    return dataset.prefetch(tf.data.AUTOTUNE)


def one_cycle(steps):
    """Warm up linearly for 20 % of the steps, then cosine-decay to zero."""
    warmup = max(1, int(0.2 * steps))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=CNN_PEAK_LEARNING_RATE / 10, decay_steps=steps - warmup,
        warmup_target=CNN_PEAK_LEARNING_RATE, warmup_steps=warmup, alpha=0.0)


def build_model(arch, for_training=False):
    return build_cnn(fused=for_training) if arch == "cnn" else build_mlp((50, 50) if arch == "mlp" else (150, 50), name=arch)


def compiled_model(arch, epochs, steps_per_epoch):
    model = build_model(arch, for_training=True)
    if arch == "cnn":
        optimizer = keras.optimizers.Adam(learning_rate=one_cycle(epochs * steps_per_epoch))
        steps_per_execution = CNN_STEPS_PER_EXECUTION
    else:
        optimizer, steps_per_execution = keras.optimizers.Adam(), 1
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


def has_bfloat16_matrix_units():
    """AMX or AVX512-BF16 run bfloat16 convolutions about 3x faster than float32 on this CPU."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
    return "amx_bf16" in flags or "avx512_bf16" in flags


def float32_copy(model, arch):
    """The trained weights in a plain all-float32 model: what is saved, exported and evaluated."""
    keras.mixed_precision.set_global_policy("float32")
    copy = build_model(arch)
    copy.set_weights(model.get_weights())
    copy.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return copy


def export_tflite(model, path):
    """The inference artifact the server runs (LiteRT): same answers, no per-call overhead.

    Returns the file's sha256, which the report records so the server refuses a damaged copy."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    exported = converter.convert()
    path.write_bytes(exported)
    return hashlib.sha256(exported).hexdigest()


def load_extra_data(path):
    """Drawings from `export-drawings` as ((x, y) to train on, (x, y) held out), checked first."""
    with np.load(path, allow_pickle=False) as npz:
        x, y = npz["x"], npz["y"]
        ids = npz["ids"] if "ids" in npz else np.arange(len(y))
    if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or y.shape != (len(x),) or not np.isin(y, range(10)).all():
        raise SystemExit(f"--extra-data {path} must hold x uint8 (N, 28, 28) and y digits (N,); "
                         f"it holds x {x.dtype} {x.shape} and y {y.shape}")
    held_out = ids % EXTRA_HELD_OUT_EVERY == 0
    return (x[~held_out], y[~held_out].astype(np.uint8)), (x[held_out], y[held_out].astype(np.uint8))


def held_out_accuracy(model, x, y):
    if not len(y):
        return None
    predicted = model.predict(x.astype(np.float32) / 255.0, batch_size=1000, verbose=0).argmax(axis=1)
    return round(float(np.mean(predicted == y)), 5)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a Digit Draw model on MNIST.")
    parser.add_argument("--arch", choices=sorted(DESCRIPTIONS), default="cnn",
                        help="model to train (default: cnn)")
    parser.add_argument("--epochs", type=int, help=f"epochs (default: {CNN_EPOCHS} for cnn, {MLP_EPOCHS} for mlp)")
    parser.add_argument("--limit", type=int, help="train on the first N training images only")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="output folder (default: model/)")
    parser.add_argument("--data", help="a mnist.npz or a folder of the four IDX files")
    parser.add_argument("--extra-data", type=Path,
                        help="people's drawings (.npz from `flask export-drawings`) to train on too; "
                             "20%% of them are held out and scored separately")
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(SEED)
    is_cnn = args.arch == "cnn"
    epochs = args.epochs or (CNN_EPOCHS if is_cnn else MLP_EPOCHS)
    batch_size = CNN_BATCH_SIZE if is_cnn else MLP_BATCH_SIZE

    print("[1/4] Loading MNIST", flush=True)
    mnist = load_mnist(args.data, verbose=True)
    x_train, y_train = mnist.x_train[:args.limit], mnist.y_train[:args.limit]
    x_test = mnist.x_test.astype(np.float32) / 255.0
    if args.extra_data:
        (extra_x, extra_y), (held_x, held_y) = load_extra_data(args.extra_data)
        x_train, y_train = np.concatenate([x_train, extra_x]), np.concatenate([y_train, extra_y])
        print(f"      with {len(extra_y)} drawings from {args.extra_data} ({len(held_y)} more held out)", flush=True)
    print(f"      {len(x_train)} training and {len(x_test)} test images", flush=True)

    mixed_precision = is_cnn and has_bfloat16_matrix_units()
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    print(f"[2/4] Training {args.arch} for {epochs} epochs"
          f"{' (mixed bfloat16: the CPU has bfloat16 matrix units)' if mixed_precision else ''}", flush=True)
    train = training_dataset(x_train, y_train, batch_size, augment=is_cnn)
    model = compiled_model(args.arch, epochs, steps_per_epoch=len(train))
    model.summary()
    # The test set draws the validation curves only: epochs are fixed, nothing is chosen by it.
    started = time.perf_counter()
    history = model.fit(train, epochs=epochs, validation_data=(x_test, mnist.y_test),
                        validation_batch_size=1000, verbose=1 if sys.stdout.isatty() else 2)
    training_seconds = time.perf_counter() - started
    print(f"      trained in {training_seconds:.0f} s", flush=True)
    model = float32_copy(model, args.arch)

    print("[3/4] Evaluating on the 10000 test images", flush=True)
    test_loss, _ = model.evaluate(x_test, mnist.y_test, batch_size=1000, verbose=0)
    probabilities = model.predict(x_test, batch_size=1000, verbose=0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    extra = {"seed": SEED, "cpu_count": os.cpu_count()}
    if args.extra_data:
        extra["extra_data"] = {"path": str(args.extra_data), "train": len(extra_y), "held_out": len(held_y),
                               "held_out_accuracy": held_out_accuracy(model, held_x, held_y)}

    print(f"[4/4] Writing {args.out}/{args.arch}.keras, .tflite and .json", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / f"{args.arch}.keras")
    tflite_sha256 = export_tflite(model, args.out / f"{args.arch}.tflite")
    report = build_report(
        name=args.arch, description=DESCRIPTIONS[args.arch], params=model.count_params(),
        epochs=epochs, batch_size=batch_size, training_seconds=training_seconds,
        data_source=mnist.source, history=history.history, test_loss=test_loss,
        probabilities=probabilities, x_train=x_train, y_train=y_train,
        x_test=mnist.x_test, y_test=mnist.y_test, extra={**extra, "mixed_precision": mixed_precision, "tflite_sha256": tflite_sha256})
    write_report(report, args.out / f"{args.arch}.json")

    print(f"Test accuracy: {report['test_accuracy']:.4%} ({report['test_errors']} errors), "
          f"test loss {test_loss:.4f}, {training_seconds:.0f} s of training", flush=True)
    if args.extra_data:
        accuracy = extra["extra_data"]["held_out_accuracy"]
        print(f"Accuracy on the {len(held_y)} held-out drawings: "
              f"{'none held out' if accuracy is None else f'{accuracy:.2%}'}", flush=True)
    return report


if __name__ == "__main__":
    main()
