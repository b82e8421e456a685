"""The store's schema: one definition (webapp/store/schema.py), Alembic revisions that build it on SQLite and on
PostgreSQL alike (read back from live databases with SQLAlchemy's inspector), stores made before Alembic taken
over in place, one downgrade, and `flask db`."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from support import make_app
from webapp.store import migrate
from webapp.store.classroom import Classroom
from webapp.store.database import close_all
from webapp.store.drawings import NewDrawing, Store
from webapp.store.jobs import FinetuneJobs
from webapp.store.refusals import AlreadyKept
from webapp.store.schema import metadata
from webapp.store.versions import ModelVersions

DATA = Path(__file__).resolve().parent / "data"
# Made with the code of commit 38882b0 (the store's numbered steps 1-6, before SQLAlchemy and Alembic): twelve
# drawings with two models' answers, the fifth deleted, collecting turned off, the signing key, two versions of
# mlp (tiny files, the second served) and one finished fine-tuning run. The PostgreSQL one is its pg_dump.
LEGACY_SQLITE = DATA / "drawings-v6.sqlite"
LEGACY_POSTGRESQL = DATA / "drawings-v6.postgresql.sql"
LEGACY_SECRETS = {"sqlite": "ef4d6ee9e01a09d499f0649d135392620b8ee1ac513e4dfcd02647b38b208fb9",
                  "postgresql": "39407b25f0105e16aad6e3744a4b315a7e5b3f0c33d442915594150a000b97f5"}


def family(column_type: sa.types.TypeEngine) -> str:
    """What a type means, whatever each database calls it."""
    for kind, name in ((sa.Integer, "integer"), (sa.Float, "float"), (sa.Numeric, "float"),
                       (sa.LargeBinary, "binary"), (sa.String, "text")):
        if isinstance(column_type, kind):
            return name
    return type(column_type).__name__


def integer_bytes(column_type: sa.types.TypeEngine, dialect: str) -> int:
    """SQLite's INTEGER is 8 bytes; PostgreSQL's INTEGER 4 and BIGINT 8."""
    if dialect == "sqlite":
        return 8
    return 8 if isinstance(column_type, sa.BigInteger) else 4


def described(url: str) -> dict:
    """Tables, columns (type family, nullability, the width of ids and references), keys, uniques and indexes."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        inspector = sa.inspect(engine)
        dialect = engine.dialect.name
        tables = {}
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            columns = {}
            for column in inspector.get_columns(table):
                kind = family(column["type"])
                wide = integer_bytes(column["type"], dialect) if kind == "integer" and (
                    column["name"] == "id" or column["name"].endswith("_id")) else None
                columns[column["name"]] = (kind, column["nullable"], wide)
            tables[table] = {
                "columns": columns,
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                                        tuple(fk["referred_columns"])) for fk in inspector.get_foreign_keys(table)),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
                "indexes": sorted((index["name"], tuple(index["column_names"]), bool(index["unique"]))
                                  for index in inspector.get_indexes(table)
                                  if not index["name"].startswith("sqlite_")
                                  and not index.get("duplicates_constraint")),   # a UNIQUE's own index
            }
        return tables
    finally:
        engine.dispose()


def test_both_databases_get_the_same_schema_and_it_is_schema_py(tmp_path, postgres_database):
    sqlite_url, postgres_url = f"sqlite:///{tmp_path / 'new.sqlite'}", postgres_database("schema")
    for url in (sqlite_url, postgres_url):
        Store(url.removeprefix("sqlite:///")).count()   # created by the revisions, as the app creates it
    on_sqlite, on_postgres = described(sqlite_url), described(postgres_url)
    assert on_sqlite == on_postgres
    assert set(on_sqlite) == set(metadata.tables)
    assert on_postgres["answers"]["columns"]["drawing_id"] == ("integer", False, 8)   # as wide as drawings.id
    for url in (sqlite_url, postgres_url):   # and the revisions build exactly the tables schema.py defines
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        engine.dispose()
    close_all()


def restore_legacy(kind: str, tmp_path: Path, postgres_database) -> str:
    if kind == "sqlite":
        path = tmp_path / "drawings.sqlite"
        shutil.copy(LEGACY_SQLITE, path)
        return str(path)
    url = postgres_database("legacy")
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(LEGACY_POSTGRESQL), url], check=True,
                   capture_output=True)
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_store_made_before_alembic_is_taken_over_in_place_losing_nothing(kind, tmp_path, request):
    location = restore_legacy(kind, tmp_path, request.getfixturevalue("postgres_database") if kind != "sqlite"
                              else None)
    store = Store(location)
    ids, x, y, writers, fixed = store.labelled_drawings()
    assert ids.tolist() == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]   # the fifth was deleted
    assert y.tolist() == [n % 10 for n in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11)] and writers == [None] * 11
    assert store.usage()[0] == 11
    assert store.confusion(("cnn", "0123456789ab")).trace() == 11   # the answers and their counts
    assert [d.model_version for d in store.page(2)] == ["abc123def456"] * 2
    classroom = Classroom(store)
    assert classroom.setting("collecting", "on") == "off"
    assert classroom.shared_secret() == LEGACY_SECRETS[kind]   # teachers stay signed in across the upgrade
    versions = ModelVersions(store)
    assert [(v.number, v.current) for v in versions.of_model("mlp")] == [(2, True), (1, False)]
    assert versions.files(versions.current()["mlp"].id)["tflite"] == b"tflite two"
    job = FinetuneJobs(store).latest()
    assert (job.state, job.progress, job.result) == ("published", ["[1/5] Reading"], {"published": True, "version": 2})
    # It goes on as the new code's own: the next id after the last one ever given, a writer kept.
    [new_id] = store.add(NewDrawing(image=b"png", pixels=255 - x[0], label=3, writer="abcd"))
    assert new_id == 13 and store.labelled_drawings().writers[-1] == "abcd"
    engine = sa.create_engine(location if kind != "sqlite" else f"sqlite:///{location}")
    engine = sa.create_engine(str(engine.url).replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head()
        if kind == "postgresql":   # the old marks stay, for the release before Alembic after a downgrade
            assert connection.exec_driver_sql("SELECT max(version) FROM schema_migrations").scalar_one() == 6
        else:
            assert connection.exec_driver_sql("PRAGMA user_version").scalar_one() == 6
        if kind == "postgresql":   # the 4-byte references the old code made are 8 bytes now
            widths = connection.execute(sa.text(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
                " WHERE column_name IN ('drawing_id', 'version_id', 'parent_id')")).fetchall()
            assert dict(widths) == {"answers.drawing_id": "bigint", "model_files.version_id": "bigint",
                                    "current_versions.version_id": "bigint", "model_versions.parent_id": "bigint",
                                    "round_hidden.drawing_id": "bigint"}
        else:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    engine.dispose()
    close_all()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_one_downgrade_and_back_keeps_the_drawings(kind, tmp_path, request):
    """0008 -> 0006 takes the writer column away (and 0008 changes nothing on a new database); upgrading
    again brings it back, empty, and every drawing stays."""
    location = str(tmp_path / "down.sqlite") if kind == "sqlite" else request.getfixturevalue("postgres_database")()
    store = Store(location)
    store.add(*[NewDrawing(image=b"png %d" % n, pixels=np.full((28, 28), n, np.uint8), label=n, writer=f"w{n}")
                for n in range(3)])
    with store.database.schema_transaction() as connection:
        migrate.downgrade(connection, "0006")
        assert migrate.current_revision(connection) == "0006"
        assert "writer" not in {c["name"] for c in sa.inspect(connection).get_columns("drawings")}
    with store.database.schema_transaction() as connection:
        migrate.upgrade(connection)
        assert migrate.current_revision(connection) == migrate.head()
    assert store.labelled_drawings().writers == [None, None, None] and store.count() == 3
    # The table kept what made it safe: ids never given out again, and its checks.
    store.delete(3)
    [new_id] = store.add(NewDrawing(image=b"png", pixels=np.full((28, 28), 9, np.uint8), label=1))
    assert new_id == 4
    with pytest.raises(sa.exc.IntegrityError):
        store.add(NewDrawing(image=b"png", pixels=np.full((28, 28), 10, np.uint8), label=42))
    close_all()


def test_flask_db_shows_and_applies_the_revisions(tmp_path):
    path = tmp_path / "drawings.sqlite"
    shutil.copy(LEGACY_SQLITE, path)
    runner = make_app(path).test_cli_runner()
    current = runner.invoke(args=["db", "current"])
    assert current.exit_code == 0 and "made before Alembic, at step 6" in current.output
    with sqlite3.connect(path) as connection:   # `flask db current` only looked
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 6
    connection.close()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0 and f"at revision {migrate.head()}" in upgraded.output
    assert runner.invoke(args=["db", "current"]).output.strip() == f"{migrate.head()} (head)"
    history = runner.invoke(args=["db", "history"]).output.splitlines()
    assert [line.split()[0] for line in history] == [f"{n:04d}" for n in range(1, int(migrate.head()) + 1)]
    down = runner.invoke(args=["db", "downgrade", "0007"])
    assert down.exit_code == 0 and "at revision 0007" in down.output


def test_flask_db_on_a_database_it_cannot_reach_is_one_line(postgres_server):
    url = postgres_server.url.rsplit("/", 1)[0] + "/no_such_database"
    result = make_app(url).test_cli_runner().invoke(args=["db", "current"])
    assert result.exit_code == 1 and "cannot be reached" in result.output and "Traceback" not in result.output
    with psycopg.connect(postgres_server.url) as connection:   # nothing was created
        names = [row[0] for row in connection.execute("SELECT datname FROM pg_database")]
    assert "no_such_database" not in names


def test_drawings_kept_twice_before_revision_0010_stay_and_only_the_first_is_the_one_kept(tmp_path):
    path = tmp_path / "drawings.sqlite"
    shutil.copy(LEGACY_SQLITE, path)
    with sqlite3.connect(path) as connection:   # the second drawing a copy of the first, as an old app allowed
        connection.execute("UPDATE drawings SET input = (SELECT input FROM drawings WHERE id = 1) WHERE id = 2")
    connection.close()
    store = Store(path)
    assert store.count() == 11
    with store.database.connection() as connection:
        hashes = dict(connection.execute(sa.text("SELECT id, input_sha256 FROM drawings WHERE id IN (1, 2)")).all())
    assert hashes[1] is not None and hashes[2] is None
    x = store.labelled_inputs()[1]
    with pytest.raises(AlreadyKept):
        store.add(NewDrawing(image=b"png", pixels=x[0], label=0))
    close_all()
