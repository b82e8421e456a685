"""Fixtures like flaskr's: the real app (the shipped models) with a database of its own in tmp_path
for every test, its test client, the MNIST digits, and a 7 drawn as a browser canvas sends it; the
store's tests run on a SQLite file and on a real PostgreSQL server (Debian's, started once for the
session on a loopback port in a temporary folder, and stopped by its pid)."""

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from deploy.local_servers import ServerMissing, start_postgres
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


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the session (fsync off: the tests never cut the power)."""
    folder = tempfile.mkdtemp(prefix="digitdraw-postgres-")
    try:
        server = start_postgres(folder, durable=False, log=Path(folder) / "postgres.log")
    except ServerMissing as missing:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get("CI"):
            pytest.fail(str(missing))   # CI installs it: its absence there is a failure, never a skip
        pytest.skip(str(missing))
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """new(name) -> an empty database for a store: a SQLite path in tmp_path, or a new database on the
    session's PostgreSQL server."""
    if request.param == "sqlite":
        return lambda name="drawings": str(tmp_path / f"{name}.sqlite")
    return request.getfixturevalue("postgres_database")


@pytest.fixture()
def postgres_database(postgres_server):
    """new(name) -> the URL of a new database on the session's PostgreSQL server (dropped afterwards, with
    this process's pools to it closed)."""
    import psycopg

    from webapp.store.database import close_all

    made = []

    def new(name: str = "drawings") -> str:
        made.append(f"test_{next(DATABASE_NUMBERS)}_{name}")
        with psycopg.connect(postgres_server.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{made[-1]}"')
        return postgres_server.url.rsplit("/", 1)[0] + "/" + made[-1]

    yield new
    close_all()
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        for name in made:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
