"""Fine-tuning: teach the model in use what a class corrected, without forgetting MNIST.

    flask --app webapp finetune [--model NAME] [--json]

1. Starts from the model's current version (its `.keras` file, kept with the version in the drawings store).
2. Splits the collected drawings: a fifth of them, spread over the labels and the students who drew them, is
   held out and only scored; the rest train (webapp/store/held_out.py: the same rule as train.py
   --extra-data, the same drawings run after run, never ones an earlier version learnt from while others
   are there; a class round's drawings as the round fixed them when they arrived). It needs MIN_DRAWINGS
   drawings, however they are spread.
3. Trains a few epochs at a small learning rate on those drawings (each seen DRAWING_REPEATS times an epoch)
   mixed with a replay sample of MNIST training digits (never the validation split), moved at random when
   train.py moves them for this model (the CNN; not the dense models); batch normalisation keeps its statistics.
4. Calibrates again on the MNIST validation split (training/calibration.py).
5. Scores before and after on the held-out drawings, the MNIST validation split and the MNIST test set, and
   publishes a new version only if the held-out drawings get no worse and MNIST test accuracy drops by no more
   than the allowed points; otherwise says why and keeps the old version.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from training.augmentation import training_dataset  # noqa: E402
from training.calibration import calibrate  # noqa: E402
from training.drawings import held_out_accuracy  # noqa: E402
from training.explain_export import SHARED_SAMPLE, export_explain  # noqa: E402
from training.export import export_tflite  # noqa: E402
from training.mnist import load_mnist, validation_split  # noqa: E402
from training.recipes import RECIPES  # noqa: E402
from training.report import build_report, cpu_name  # noqa: E402
from webapp.store import one_device  # noqa: E402
from webapp.store.drawings import Store  # noqa: E402
from webapp.store.held_out import MIN_DRAWINGS, held_out_count, split  # noqa: E402
from webapp.store.versions import KERAS, ModelVersions  # noqa: E402

DRAWING_REPEATS = 4         # each training drawing is seen this often per epoch
REPLAY_PER_DRAWING = 4      # MNIST digits replayed per drawing seen, at least MIN_REPLAY
MIN_REPLAY = 10000
EPOCHS = 3
LEARNING_RATE = 1e-4
BATCH_SIZE = 64
SEED = 20261123


class FinetuneRefused(Exception):
    """Fine-tuning cannot start (too few drawings, unknown model); the message is a sentence."""


@dataclass(frozen=True)
class Guards:
    max_test_drop: float = 0.1       # points of MNIST test accuracy
    max_drawings_drop: float = 0.0   # points of accuracy on the held-out drawings


def scores(model, held, validation, test) -> dict:
    return {"held_out_drawings": held_out_accuracy(model, *held),
            "mnist_validation": held_out_accuracy(model, *validation), "mnist_test": held_out_accuracy(model, *test)}


def freeze_batch_norm(model: keras.Model) -> None:
    """A few hundred drawings would pull the running statistics off MNIST's: they stay as they are."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def why_refused(before: dict, after: dict, guards: Guards) -> str | None:
    """None when the new version may be published, else the sentence saying why not."""
    test_drop = (before["mnist_test"] - after["mnist_test"]) * 100
    if test_drop > guards.max_test_drop + 1e-9:
        return (f"MNIST test accuracy would drop by {test_drop:.2f} points "
                f"({before['mnist_test']:.2%} -> {after['mnist_test']:.2%}); at most {guards.max_test_drop:g} "
                "is allowed.")
    if before["held_out_drawings"] is not None:
        drawings_drop = (before["held_out_drawings"] - after["held_out_drawings"]) * 100
        if drawings_drop > guards.max_drawings_drop + 1e-9:
            return (f"The held-out drawings would be read worse ({before['held_out_drawings']:.2%} -> "
                    f"{after['held_out_drawings']:.2%}).")
    return None


def finetune(store: Store, model_folder: Path, model_name: str, *, guards: Guards = Guards(),
             limit: int | None = None, epochs: int = EPOCHS, replay: int | None = None,
             allow_one_device: bool = False, progress: Callable[[str], None] = lambda message: None,
             superseded: Callable[[], str | None] = lambda: None) -> dict:
    """Fine-tune `model_name`'s current version on the store's drawings; the result as --json prints it.

    Refused when one device supplied most of a digit's drawings (webapp/store/one_device.py), unless
    `allow_one_device`. `superseded()` is asked just before publishing: a sentence when this run must not
    publish any more."""
    started = time.perf_counter()
    versions = ModelVersions(store)
    progress("[1/5] Reading the current version and the collected drawings")
    versions.register_folder(model_folder, [model_name])
    parent = versions.current().get(model_name)
    if parent is None:
        raise FinetuneRefused(f"There is no model {model_name!r} to fine-tune (none in {model_folder}).")
    ids, x_drawings, y_drawings, writers, fixed = store.labelled_drawings()
    if limit is not None:
        ids, x_drawings, y_drawings, writers, fixed = (ids[-limit:], x_drawings[-limit:], y_drawings[-limit:],
                                                       writers[-limit:], fixed[-limit:])
    if len(ids) < MIN_DRAWINGS:
        raise FinetuneRefused(
            f"Fine-tuning needs at least {MIN_DRAWINGS} collected drawings and there "
            f"{'is' if len(ids) == 1 else 'are'} {len(ids)}: collect {MIN_DRAWINGS - len(ids)} more "
            f"(of them, {held_out_count(MIN_DRAWINGS)} are kept aside to check the new version).")
    too_much_from_one_device = None if allow_one_device else one_device.refusal(
        one_device.dominated_digits(one_device.senders_of(y_drawings, writers)))
    if too_much_from_one_device:
        raise FinetuneRefused(too_much_from_one_device)
    learnt, held_before = versions.lineage(parent)
    held = split(ids, y_drawings, writers, fixed, learnt_before=learnt, held_before=held_before)
    with tempfile.TemporaryDirectory(prefix="digitdraw-finetune-") as work:
        work = Path(work)
        keras_path = work / f"{model_name}.{KERAS}"
        keras_path.write_bytes(versions.files(parent.id)[KERAS])
        model = keras.models.load_model(keras_path)

        mnist = load_mnist()
        (x_train, y_train), (x_validation, y_validation), _ = validation_split(mnist.x_train, mnist.y_train)
        held_set = (x_drawings[held], y_drawings[held])
        validation_set, test_set = (x_validation, y_validation), (mnist.x_test, mnist.y_test)
        progress(f"[2/5] Scoring version {parent.number} before: {int(held.sum())} held-out drawings, "
                 f"{len(y_validation):,} validation and {len(mnist.y_test):,} test digits")
        before = scores(model, held_set, validation_set, test_set)

        train_x = np.repeat(x_drawings[~held], DRAWING_REPEATS, axis=0)
        train_y = np.repeat(y_drawings[~held], DRAWING_REPEATS, axis=0)
        replay_count = replay if replay is not None else max(MIN_REPLAY, REPLAY_PER_DRAWING * len(train_y))
        rng = np.random.default_rng(SEED)
        picks = rng.choice(len(y_train), size=min(replay_count, len(y_train)), replace=False)
        mixed_x = np.concatenate([train_x, x_train[picks]])
        mixed_y = np.concatenate([train_y, y_train[picks]])
        # Moved at random as train.py moves them for this model (the dense models train without: a shifted
        # digit is another input to them, and their MNIST accuracy would pay for it).
        augment = RECIPES[model_name].augment if model_name in RECIPES else True
        dataset = training_dataset(mixed_x, mixed_y, BATCH_SIZE, augment=augment, seed=SEED)
        freeze_batch_norm(model)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.CosineDecay(
            LEARNING_RATE, decay_steps=epochs * len(dataset))),
            loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        progress(f"[3/5] Training on {int((~held).sum())} drawings (x{DRAWING_REPEATS}) and "
                 f"{len(picks):,} MNIST digits, {epochs} epoch{'s' if epochs != 1 else ''}")
        history = model.fit(dataset, epochs=epochs, verbose=0, callbacks=[keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: progress(
                f"      epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.2%}"))])
        for layer in model.layers:
            layer.trainable = True
        x_validation_float = x_validation.astype(np.float32) / 255.0
        x_test_float = mnist.x_test.astype(np.float32) / 255.0
        progress("[4/5] Calibrating on the validation digits and scoring after")
        model, calibration = calibrate(model, x_validation_float, y_validation, x_test_float, mnist.y_test)
        after = scores(model, held_set, validation_set, test_set)
        refused = why_refused(before, after, guards) or superseded()
        result = {"model": model_name, "version": None, "parent_version": parent.number,
                  "drawings_used": int((~held).sum()), "drawings_held_out": int(held.sum()),
                  "held_out_learnt_before": int(np.isin(ids[held], list(learnt)).sum()),
                  "students": len({writer for writer in writers if writer is not None}),
                  "mnist_replayed": int(len(picks)), "epochs": epochs,
                  "before": before, "after": after, "published": refused is None, "reason": refused,
                  "guards": {"max_test_drop_points": guards.max_test_drop,
                             "max_drawings_drop_points": guards.max_drawings_drop}}
        if refused:
            progress(f"[5/5] Not published: {refused}")
        else:
            progress("[5/5] Publishing the new version")
            version = publish(versions, model, model_name, parent, work, mnist, x_test_float, history,
                              calibration, result, ids[~held], ids[held], started, model_folder)
            result["version"] = version.number
            result["version_id"] = version.id
            if not version.current:   # the teacher chose another version while this run was under way
                result["published"] = False
                result["reason"] = (f"The teacher chose another version of {model_name} while this run was under "
                                    f"way, so the new one is kept as version {version.number} but not served.")
                progress(f"      {result['reason']}")
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def publish(versions: ModelVersions, model, name, parent, work: Path, mnist, x_test_float, history,
            calibration, result, trained_ids, held_out_ids, started, model_folder: Path):
    """Write the new version's files (as train.py does) and publish them with a full evaluation report."""
    keras_path = work / f"{name}.{KERAS}"
    model.save(keras_path)
    tflite_sha256 = export_tflite(model, work / f"{name}.tflite")
    probabilities = model.predict(x_test_float, batch_size=1000, verbose=0)
    test_loss = float(np.mean(-np.log(np.maximum(probabilities[np.arange(len(mnist.y_test)), mnist.y_test], 1e-12))))
    report = build_report(
        name=name, description=parent.report.get("description", name), params=model.count_params(),
        epochs=result["epochs"], batch_size=BATCH_SIZE, training_seconds=time.perf_counter() - started,
        data_source=mnist.source, history=history.history, test_loss=test_loss, probabilities=probabilities,
        x_train=mnist.x_train, y_train=mnist.y_train, x_test=mnist.x_test, y_test=mnist.y_test,
        extra={"cpu": cpu_name(), "cpu_count": os.cpu_count(), "calibration": calibration,
               "tflite_sha256": tflite_sha256, "validation": parent.report.get("validation"),
               "finetune": {key: result[key] for key in ("before", "after", "drawings_used", "drawings_held_out",
                                                         "mnist_replayed", "parent_version")}})
    report["validation"] = {**(report.get("validation") or {}), "accuracy": result["after"]["mnist_validation"]}
    shared = Path(model_folder) / SHARED_SAMPLE
    if shared.is_file():
        (work / SHARED_SAMPLE).write_bytes(shared.read_bytes())
    export_explain(model, work, name, mnist.x_train, mnist.y_train)
    files = {suffix: (work / f"{name}.{suffix}").read_bytes()
             for suffix in ("tflite", "keras", "explain.tflite", "explain.json", "neighbours.npz")}
    trained_on = {"source": "fine-tuned on collected drawings", "drawings": result["drawings_used"],
                  "held_out": result["drawings_held_out"], "mnist_replayed": result["mnist_replayed"],
                  "drawing_ids_sha256": hashlib.sha256(np.asarray(trained_ids, np.int64).tobytes()).hexdigest(),
                  "drawing_ids": np.asarray(trained_ids, np.int64).tolist(),
                  "held_out_ids": np.asarray(held_out_ids, np.int64).tolist()}
    return versions.publish(name, files, report, trained_on, parent_id=parent.id, only_if_current=parent.id)


def as_json(result: dict) -> str:
    return json.dumps(result)
