"""From people's corrections to a trained model: post drawings, export them, train.py --extra-data."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support import canvas_png, make_app
from training.mnist import load_mnist

ROOT = Path(__file__).resolve().parent.parent


def run_train(*args):
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


@pytest.fixture()
def exported(tmp_path):
    """50 real MNIST test digits posted as feedback, then exported with the CLI command."""
    mnist = load_mnist()
    app = make_app(tmp_path / "drawings.sqlite")
    client = app.test_client()
    for index in range(50):
        response = client.post("/api/feedback", content_type="multipart/form-data", data={
            "image": (io.BytesIO(canvas_png(mnist.x_test[index])), "drawing.png"),
            "label": str(mnist.y_test[index])})
        assert response.status_code == 201
    out = tmp_path / "drawings.npz"
    result = app.test_cli_runner().invoke(args=["export-drawings", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_exported_drawings_train_with_a_separately_scored_held_out_part(exported, tmp_path):
    result = run_train("--arch", "mlp", "--limit", 2000, "--epochs", 1, "--styles", 0, "--extra-data", exported,
                       "--out", tmp_path / "model")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"with 40 drawings from {exported} (10 more held out)" in result.stdout
    assert "Accuracy on the 10 held-out drawings: " in result.stdout

    report = json.loads((tmp_path / "model" / "mlp.json").read_text())
    extra = report["extra_data"]
    assert (extra["path"], extra["train"], extra["held_out"]) == (str(exported), 40, 10)
    assert 0 <= extra["held_out_accuracy"] <= 1
    assert f"{extra['held_out_accuracy']:.2%}" in result.stdout
    assert report["train_images"] == 2000 + 40


def test_extra_data_in_the_wrong_layout_is_refused_with_a_sentence(tmp_path):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x=np.zeros((3, 32, 32), np.float32), y=np.zeros(3, np.uint8))
    result = run_train("--arch", "mlp", "--limit", 100, "--epochs", 1, "--styles", 0, "--extra-data", wrong,
                       "--out", tmp_path / "model")
    assert result.returncode != 0
    assert "must hold x uint8 (N, 28, 28)" in result.stderr
    assert not (tmp_path / "model").exists()
