"""train.py end to end on a small slice, and the shipped models on the full MNIST test set."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORT_KEYS = {"name", "description", "params", "epochs", "batch_size", "training_seconds", "data_source",
               "test_loss", "test_accuracy", "test_errors", "per_class", "confusion_matrix", "history",
               "misclassified", "correct_samples", "sample_grid", "versions", "train_images"}


@pytest.mark.parametrize("arch, styles, smoothing", [("cnn", 3, 0.1), ("mlp", 0, 0.0)])
def test_train_smoke_run_writes_model_and_complete_report(tmp_path, arch, styles, smoothing):
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "--arch", arch, "--limit", "2000",
                             "--epochs", "1", "--out", str(tmp_path), "--styles", str(styles),
                             "--label-smoothing", str(smoothing)],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    for stage in ("[1/4] Loading MNIST", "[2/4] Training", "[3/4] Evaluating", "[4/4] Writing"):
        assert stage in result.stdout
    assert "Test accuracy:" in result.stdout

    model = keras.saving.load_model(tmp_path / f"{arch}.keras")
    assert model.output_shape == (None, 10)
    report = json.loads((tmp_path / f"{arch}.json").read_text())
    assert REPORT_KEYS <= report.keys()
    exported = (tmp_path / f"{arch}.tflite").read_bytes()
    assert report["tflite_sha256"] == hashlib.sha256(exported).hexdigest()   # the server checks it
    assert report["validation"]["images"] == 5000 and 0 < report["validation"]["accuracy"] <= 1
    assert report["cpu"] and len(report["validation"]["indices_sha256"]) == 64
    for name in (f"{arch}.explain.tflite", f"{arch}.explain.json", f"{arch}.neighbours.npz", "mnist-neighbours.npz"):
        assert (tmp_path / name).is_file(), name   # what Look inside needs, written beside the model
    assert report["train_images"] == 2000 + 8 * styles and report["epochs"] == 1
    assert report["styles"]["trained_per_style"] == styles and report["styles"]["drawings"] == 1600
    assert report["label_smoothing"] == smoothing
    assert set(report["styles"]["accuracy"]) == {"flag-1", "serif-1", "bar-7", "open-4", "closed-4", "stem-9",
                                                 "loop-2", "cross-8"}
    assert ("with 24 drawings of handwriting styles" in result.stdout) == bool(styles)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert report["test_errors"] == len(report["misclassified"]) == matrix.sum() - np.trace(matrix)
    assert set(report["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(report["per_class"]) == 10 and sum(c["support"] for c in report["per_class"]) == 10000
    wrong = report["misclassified"][0]
    assert wrong["true"] != wrong["predicted"] and wrong["image"].startswith("data:image/png;base64,")
    assert abs(sum(wrong["probabilities"]) - 1) < 1e-3


def test_train_help_lists_the_options():
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    for option in ("--arch", "--epochs", "--limit", "--out", "--data"):
        assert option in result.stdout


def test_each_recipe_gives_its_own_styles_and_label_smoothing_unless_the_command_says_otherwise():
    import train
    from training.recipes import RECIPES

    for name, recipe in RECIPES.items():
        args = train.parse_args(["--arch", name])
        assert (args.styles, args.label_smoothing) == (recipe.styles, recipe.label_smoothing)
    args = train.parse_args(["--arch", "cnn", "--styles", "0", "--label-smoothing", "0"])
    assert (args.styles, args.label_smoothing) == (0, 0.0)
    with pytest.raises(SystemExit):
        train.parse_args(["--label-smoothing", "1"])


@pytest.mark.parametrize("name", ["cnn", "mlp", "mlp-wide"])
def test_the_shipped_reports_were_trained_with_their_recipes_settings(name):
    from training.recipes import RECIPES

    report, recipe = json.loads((ROOT / "model" / f"{name}.json").read_text()), RECIPES[name]
    assert report["epochs"] == recipe.epochs and report["batch_size"] == recipe.batch_size
    assert report["styles"]["trained_per_style"] == recipe.styles == 200
    assert report["label_smoothing"] == recipe.label_smoothing == (0.1 if name == "cnn" else 0.0)
    assert report["train_images"] == 55_000 + 8 * recipe.styles


@pytest.mark.parametrize("name, minimum", [("cnn", 0.9965), ("mlp", 0.965), ("mlp-wide", 0.965)])
def test_shipped_model_accuracy_on_the_full_test_set(mnist, name, minimum):
    model = keras.saving.load_model(ROOT / "model" / f"{name}.keras", compile=False)
    probabilities = model.predict(mnist.x_test.astype(np.float32) / 255.0, batch_size=1000, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == mnist.y_test))
    assert accuracy >= minimum
    report = json.loads((ROOT / "model" / f"{name}.json").read_text())
    assert abs(report["test_accuracy"] - accuracy) < 0.0005
