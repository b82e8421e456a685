"""Train a Digit Draw model on MNIST and write it with its evaluation report.

    python train.py                  # the CNN (default): 19 epochs of 20-52 s on 2 CPU cores in float32
    python train.py --arch mlp       # the classic notebook model 784-50-50-10
    python train.py --arch mlp-wide  # the classic 784-150-50-10 variant
    python train.py --limit 2000 --styles 0 --epochs 1 --out /tmp/smoke   # a quick smoke run
    python train.py --extra-data drawings.npz   # also learn from `flask --app webapp export-drawings`
    python train.py --precision float32         # float32 even where the CPU has bfloat16 units
    python train.py --styles 0 --label-smoothing 0   # without the handwriting styles and the softened labels

Every model is scored on the style benchmark (benchmarks/styled_digits.py: the world's handwriting styles drawn
as the pad draws them) for its report. Every recipe trains on 200 drawings of each of those styles too
(`--styles N` for another number; training/style_data.py draws them with other seeds and wider parameters
than the benchmark's).

Writes `<out>/<arch>.keras` (the Keras model, calibrated: its last layer divided by the temperature
fitted on the validation split, training/calibration.py), `<out>/<arch>.tflite` (the same model
exported for the server) and `<out>/<arch>.json` (its evaluation report, see training/report.py).
The architectures and how each is trained are in training/recipes.py.
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

from training.augmentation import training_dataset  # noqa: E402
from training.calibration import calibrate  # noqa: E402
from training.drawings import held_out_accuracy, load_extra_data  # noqa: E402
from training.explain_export import export_explain  # noqa: E402
from training.export import export_tflite  # noqa: E402
from training.losses import smoothed_crossentropy  # noqa: E402
from training.mnist import VALIDATION_SEED, load_mnist, validation_split  # noqa: E402
from training.recipes import RECIPES  # noqa: E402
from training.report import build_report, cpu_name, write_report  # noqa: E402
from training.speed import plain_copy, use_mixed_precision  # noqa: E402
from training.style_data import per_style_accuracy, style_benchmark, training_styles  # noqa: E402

SEED = 1234
MODEL_DIR = Path(__file__).resolve().parent / "model"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a Digit Draw model on MNIST.")
    parser.add_argument("--arch", choices=sorted(RECIPES), default="cnn", help="model to train (default: cnn)")
    default_epochs = ", ".join(f"{recipe.epochs} for {name}" for name, recipe in RECIPES.items())
    parser.add_argument("--epochs", type=int, help=f"epochs (default: {default_epochs})")
    parser.add_argument("--limit", type=int, help="train on the first N training images only")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="output folder (default: model/)")
    parser.add_argument("--data", help="a mnist.npz or a folder of the four IDX files")
    parser.add_argument("--precision", choices=("auto", "float32"), default="auto",
                        help="auto: mixed bfloat16 where the recipe allows it and the CPU has bfloat16 units; "
                             "float32: never (default: auto)")
    default_styles = ", ".join(f"{recipe.styles} for {name}" for name, recipe in RECIPES.items())
    parser.add_argument("--styles", type=int, metavar="N",
                        help=f"also train on N drawings of each handwriting style (default: {default_styles})")
    default_smoothing = ", ".join(f"{recipe.label_smoothing} for {name}" for name, recipe in RECIPES.items())
    parser.add_argument("--label-smoothing", type=float, metavar="S",
                        help=f"train against labels softened by S (default: {default_smoothing}); the served "
                             "probabilities are calibrated afterwards either way")
    parser.add_argument("--extra-data", type=Path,
                        help="people's drawings (.npz from `flask export-drawings`) to train on too; "
                             "20%% of them are held out and scored separately")
    args = parser.parse_args(argv)
    recipe = RECIPES[args.arch]
    args.styles = recipe.styles if args.styles is None else args.styles
    args.label_smoothing = recipe.label_smoothing if args.label_smoothing is None else args.label_smoothing
    if not 0 <= args.label_smoothing < 1:
        parser.error("--label-smoothing must be from 0 to below 1")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.styles < 0:
        parser.error("--styles must be 0 or more")
    return args


def main(argv=None):
    args = parse_args(argv)
    recipe = RECIPES[args.arch]
    epochs = args.epochs or recipe.epochs
    keras.utils.set_random_seed(SEED)

    print("[1/4] Loading MNIST", flush=True)
    mnist = load_mnist(args.data, verbose=True)
    # A fixed 5,000 of the training digits are held out for validation: the curves are drawn on them, never
    # on the test set, which is used once, at the end, for the report.
    (x_train, y_train), (x_validation, y_validation), validation_indices = validation_split(
        mnist.x_train, mnist.y_train)
    x_validation = x_validation.astype(np.float32) / 255.0
    # Training images stay uint8: the batches are scaled to [0, 1] as they are made.
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    # Test images scaled to [0, 1] once, as the server scales a drawing.
    x_test = mnist.x_test.astype(np.float32) / 255.0
    # The world's handwriting styles, as the pad draws them, when asked.
    if args.styles:
        style_x, style_y = training_styles(args.styles)
        x_train, y_train = np.concatenate([x_train, style_x]), np.concatenate([y_train, style_y])
        print(f"      with {len(style_y)} drawings of handwriting styles ({args.styles} a style)", flush=True)
    # People's drawings train too, except a held-out fifth that is scored on its own.
    if args.extra_data:
        (extra_x, extra_y), (held_x, held_y) = load_extra_data(args.extra_data)
        x_train, y_train = np.concatenate([x_train, extra_x]), np.concatenate([y_train, extra_y])
        print(f"      with {len(extra_y)} drawings from {args.extra_data} ({len(held_y)} more held out)", flush=True)
    print(f"      {len(x_train)} training, {len(y_validation)} validation and {len(x_test)} test images", flush=True)

    # Mixed bfloat16 when the recipe allows it and the CPU has the matrix units for it.
    mixed_precision = use_mixed_precision(recipe.mixed_precision and args.precision == "auto")
    print(f"[2/4] Training {args.arch} for {epochs} epochs"
          f"{' (mixed bfloat16: the CPU has bfloat16 matrix units)' if mixed_precision else ''}", flush=True)
    # Shuffled batches, moved at random each epoch when the recipe augments.
    train = training_dataset(x_train, y_train, recipe.batch_size, recipe.augment, seed=SEED)
    model = recipe.build_for_training()
    loss = smoothed_crossentropy(args.label_smoothing) if args.label_smoothing else "sparse_categorical_crossentropy"
    model.compile(optimizer=recipe.optimizer(epochs * len(train)), loss=loss,
                  metrics=["accuracy"], steps_per_execution=recipe.steps_per_execution)
    model.summary()
    # The curves are drawn on the held-out validation digits; the test set is used once, below.
    started = time.perf_counter()
    history = model.fit(train, epochs=epochs, validation_data=(x_validation, y_validation),
                        validation_batch_size=1000, verbose=1 if sys.stdout.isatty() else 2)
    training_seconds = time.perf_counter() - started
    print(f"      trained in {training_seconds:.0f} s", flush=True)
    # The trained weights in the plain float32 model that is calibrated, evaluated, saved and exported.
    model = plain_copy(model, recipe.builder)
    # One temperature fitted on the validation digits: the served model's probabilities mean what they say.
    model, calibration = calibrate(model, x_validation, y_validation, x_test, mnist.y_test)
    print(f"      calibrated: temperature {calibration['temperature']:.3f}, test ECE "
          f"{calibration['test']['before']['ece']:.2%} -> {calibration['test']['after']['ece']:.2%}", flush=True)

    print(f"[3/4] Evaluating on the {len(x_test)} test images", flush=True)
    test_loss, _ = model.evaluate(x_test, mnist.y_test, batch_size=1000, verbose=0)
    probabilities = model.predict(x_test, batch_size=1000, verbose=0)
    validation_loss, validation_accuracy = model.evaluate(x_validation, y_validation, batch_size=1000, verbose=0)
    style_x_test, style_y_test, style_names = style_benchmark()
    styles = per_style_accuracy(lambda x: model.predict(x, batch_size=1000, verbose=0), style_x_test, style_y_test,
                                style_names)
    print("      style benchmark: " + ", ".join(f"{style} {share:.1%}" for style, share in styles.items()), flush=True)
    extra = {"seed": SEED, "cpu_count": os.cpu_count(), "cpu": cpu_name(),
             "styles": {"benchmark": "benchmarks/styled_digits.py style_benchmark()",
                        "drawings": int(len(style_y_test)), "accuracy": styles,
                        "trained_per_style": args.styles},
             "calibration": calibration,
             "validation": {"images": int(len(y_validation)), "seed": VALIDATION_SEED,
                            "indices_sha256": hashlib.sha256(validation_indices.tobytes()).hexdigest(),
                            "loss": round(float(validation_loss), 5),
                            "accuracy": round(float(validation_accuracy), 5)}}
    if args.extra_data:
        extra["extra_data"] = {"path": str(args.extra_data), "train": len(extra_y), "held_out": len(held_y),
                               "held_out_accuracy": held_out_accuracy(model, held_x, held_y)}

    print(f"[4/4] Writing {args.out}/{args.arch}.keras, .tflite, .json and what the server shows of its inside",
          flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / f"{args.arch}.keras")
    tflite_sha256 = export_tflite(model, args.out / f"{args.arch}.tflite")
    report = build_report(
        name=args.arch, description=recipe.description, params=model.count_params(),
        epochs=epochs, batch_size=recipe.batch_size, training_seconds=training_seconds,
        data_source=mnist.source, history=history.history, test_loss=test_loss,
        probabilities=probabilities, x_train=x_train, y_train=y_train,
        x_test=mnist.x_test, y_test=mnist.y_test,
        extra={**extra, "label_smoothing": args.label_smoothing, "mixed_precision": mixed_precision,
               "tflite_sha256": tflite_sha256})
    write_report(report, args.out / f"{args.arch}.json")
    # What the server shows of the inside: every layer, saliency scores, nearest training digits. Without
    # them the model still serves; /api/explain says how to write them.
    try:
        export_explain(model, args.out, args.arch, mnist.x_train, mnist.y_train)
    except ValueError as error:
        print(f"      no explain files: {error}", flush=True)

    print(f"Test accuracy: {report['test_accuracy']:.4%} ({report['test_errors']} errors), "
          f"test loss {test_loss:.4f}, {training_seconds:.0f} s of training", flush=True)
    if args.extra_data:
        accuracy = extra["extra_data"]["held_out_accuracy"]
        print(f"Accuracy on the {len(held_y)} held-out drawings: "
              f"{'none held out' if accuracy is None else f'{accuracy:.2%}'}", flush=True)
    return report


if __name__ == "__main__":
    main()
