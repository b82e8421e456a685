"""Fixtures like flaskr's: the real app (the shipped models) with a database of its own in tmp_path
for every test, its test client, the MNIST digits, and a 7 drawn as a browser canvas sends it."""

import subprocess
from pathlib import Path

import pytest

from support import canvas_png, make_app
from training.mnist import load_mnist
from webapp import PROJECT_ROOT
from webapp.inference.classifier import ModelRegistry


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def seven(mnist) -> bytes:
    """MNIST test digit 0, a 7, as a 280x280 canvas PNG."""
    return canvas_png(mnist.x_test[0])


@pytest.fixture(scope="session")
def shipped_models() -> ModelRegistry:
    """The models in model/, loaded once, for tests that call them without the app."""
    return ModelRegistry.from_folder(PROJECT_ROOT / "model")


@pytest.fixture()
def app(tmp_path):
    return make_app(tmp_path / "drawings.sqlite")


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def immutable():
    """make(path) sets the file's immutable attribute: even root cannot write it (a real read-only file)."""
    made = []

    def make(path: Path) -> None:
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if result.returncode:
            pytest.skip(f"chattr +i is not possible here: {result.stderr.strip()}")
        made.append(path)

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture(scope="session", autouse=True)
def nothing_written_into_the_checkout():
    """Tests keep their databases in temp folders: the checkout's instance/ is the same afterwards."""
    instance = PROJECT_ROOT / "instance"
    before = sorted(instance.rglob("*")) if instance.exists() else None
    yield
    after = sorted(instance.rglob("*")) if instance.exists() else None
    assert after == before, f"tests wrote into {instance}: {sorted(set(after or []) - set(before or []))[:5]}"
