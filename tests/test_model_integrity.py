"""A model file whose bytes no longer match the sha256 train.py recorded is refused, not served.

200 flipped bits in the CNN's weights still load and run (and read about half of
MNIST), so only the recorded hash can tell the file is damaged.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from webapp import create_app
from webapp.inference.classifier import ModelRegistry

SHIPPED = Path(__file__).resolve().parent.parent / "model"


@pytest.fixture()
def folder(tmp_path):
    for name in ("cnn", "mlp"):
        for suffix in (".tflite", ".json"):
            shutil.copy(SHIPPED / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path


def flip_bits(path: Path, count: int, seed: int = 0) -> None:
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    # bits in the second half of the file: the weights, not the flatbuffer's tables
    for position in rng.choice(np.arange(len(data) // 2, len(data)), size=count, replace=False):
        data[position] ^= 1 << int(rng.integers(8))
    path.write_bytes(bytes(data))


def test_every_shipped_report_records_its_model_files_hash():
    for report in (path for path in SHIPPED.glob("*.json") if not path.name.endswith(".explain.json")):
        assert len(json.loads(report.read_text())["tflite_sha256"]) == 64, report.name


def test_a_tampered_model_is_listed_as_broken_and_the_others_still_serve(folder, tmp_path):
    flip_bits(folder / "cnn.tflite", 200)
    registry = ModelRegistry.from_folder(folder)
    assert registry.names == ["mlp"]
    assert "cnn.tflite does not match the sha256 its report recorded" in registry.broken["cnn"]

    client = create_app({"TESTING": True, "MODEL_DIR": str(folder),
                         "DATABASE": str(tmp_path / "d.sqlite")}).test_client()
    health = client.get("/api/health").get_json()
    assert health["models"] == ["mlp"] and "cnn" in health["broken"]


def test_an_intact_copy_loads(folder):
    assert ModelRegistry.from_folder(folder).names == ["cnn", "mlp"]
