"""Every published version of every model, kept in the drawings store beside the drawings it learnt from.

A version is the files of one trained model (`<name>.tflite` that is served, `<name>.keras` that fine-tuning
starts from, the explain files), its evaluation report, what it was trained on, when, and the version it was
made from (its parent). Each model has one current version: the one every worker serves. Publishing a version
and making it current is one transaction, so a half-written version is never current; each file's sha256 is
kept beside it and checked when a worker loads it, so a damaged one is never served.

The models shipped in the model folder become their models' first versions the first time versions are asked
for (`register_folder`); a model file trained again into that folder becomes a new version the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from webapp.store.drawings import Store
from webapp.store.schema import model_files, model_versions

# A version's files, by their suffix after the model's name: `cnn.tflite`, `cnn.explain.json`, ...
SERVED = "tflite"
KERAS = "keras"
FILE_SUFFIXES = (SERVED, KERAS, "explain.tflite", "explain.json", "neighbours.npz")
ID_LISTS = ("drawing_ids", "held_out_ids")   # kept with a fine-tuned version (training/finetune.py), never listed
SHIPPED, FINE_TUNED = "shipped", "fine-tuned"   # a version's origin


class VersionDamaged(Exception):
    """A stored file does not match the sha256 recorded when it was published."""


@dataclass(frozen=True)
class Version:
    id: int
    model: str
    number: int            # 1, 2, 3 ... per model
    created: str
    parent_id: int | None
    sha256: str            # of the served .tflite (the same as the classifier's sha256)
    trained_on: dict
    report: dict
    kept: bool = True      # its files are still kept (older ones are dropped: KEEP_FILES_OF)
    current: bool = False

    @property
    def origin(self) -> str:
        """"fine-tuned" for a fine-tuning run's version (its report holds the run), else "shipped": the model
        folder's files made by train.py, whenever the store first kept them (`created`)."""
        return FINE_TUNED if self.report.get("finetune") else SHIPPED

    def summary(self) -> dict:
        """What /api/models and the teacher's page show of a version (the report's headline figures only)."""
        calibration = self.report.get("calibration") or {}
        return {"id": self.id, "model": self.model, "number": self.number, "origin": self.origin,
                "created": self.created,
                "parent": self.parent_id, "sha256": self.sha256, "current": self.current, "kept": self.kept,
                "trained_on": {key: value for key, value in self.trained_on.items() if key not in ID_LISTS},
                "test_accuracy": self.report.get("test_accuracy"),
                "temperature": calibration.get("temperature"),
                "finetune": self.report.get("finetune")}


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ModelVersions:
    """The versions kept in one drawings store."""

    def __init__(self, store: Store):
        self.store = store

    def publish(self, model: str, files: dict[str, bytes], report: dict, trained_on: dict,
                parent_id: int | None, *, only_if_current: int | None = None) -> Version:
        """Keep a new version with its files and make it the model's current one, all in one transaction.

        The same served file published again is not stored twice: that version becomes current.
        `only_if_current`: make it current only while that version still is (a fine-tuning run must not undo
        a roll-back the teacher made while it ran); otherwise it is kept, not served."""
        missing = {SERVED, KERAS} - set(files)
        if missing:
            raise ValueError(f"a version of {model} needs its {' and '.join(sorted(missing))} file")
        served = sha256(files[SERVED])

        def insert(connection) -> int:
            known = connection.execute(text("SELECT id FROM model_versions WHERE model = :model AND sha256 = :sha"),
                                       {"model": model, "sha": served}).fetchone()
            if known:
                version_id = known[0]
            else:
                number = connection.execute(text("SELECT coalesce(max(number), 0) + 1 FROM model_versions"
                                                 " WHERE model = :model"), {"model": model}).scalar_one()
                version_id = connection.execute(model_versions.insert().returning(model_versions.c.id), {
                    "model": model, "number": number, "created": now(), "parent_id": parent_id, "sha256": served,
                    "trained_on": json.dumps(trained_on), "report": json.dumps(report, separators=(",", ":"))},
                ).scalar_one()
                connection.execute(model_files.insert(), [
                    {"version_id": version_id, "suffix": suffix, "sha256": sha256(content), "content": content}
                    for suffix, content in files.items()])
            served_now = connection.execute(text("SELECT version_id FROM current_versions WHERE model = :model"),
                                            {"model": model}).fetchone()
            if only_if_current is None or (served_now and served_now[0] == only_if_current):
                make_current(connection, model, version_id)
            prune_files(connection, model)
            return version_id

        return self.get(self.store.transaction(insert))

    def register_folder(self, folder: Path, models: list[str]) -> None:
        """The models in the folder as versions: a file the store does not know yet becomes a new version
        (the first one of a shipped model) and current; a known one changes nothing. A model whose files do
        not belong together (train.py still writing them, or a damaged copy) is left out until they do."""
        folder = Path(folder)
        for model in models:
            files = consistent_folder_files(folder, model)
            if files is None or self.store.read(
                    "SELECT 1 FROM model_versions WHERE model = :model AND sha256 = :sha",
                    {"model": model, "sha": sha256(files[SERVED])}):
                continue
            report = json.loads(files.pop("json"))
            current = self.current().get(model)
            self.publish(model, files, report, {"source": f"{folder.name}/ folder (train.py)",
                                                "images": report.get("train_images")},
                         parent_id=current.id if current else None)

    def current(self) -> dict[str, Version]:
        """Each model's current version (without files): one small query, cheap enough for every few seconds."""
        rows = self.store.read(
            f"SELECT {VERSION_COLUMNS}, 1 FROM model_versions JOIN current_versions"
            " ON current_versions.version_id = model_versions.id")
        return {row[1]: version_of(row) for row in rows}

    def current_ids(self) -> dict[str, tuple[int, str]]:
        """Each model's current version id and served sha256, without reports: what workers poll."""
        return {model: (version_id, served) for model, version_id, served in self.store.read(
            "SELECT current_versions.model, version_id, sha256 FROM current_versions"
            " JOIN model_versions ON model_versions.id = current_versions.version_id")}

    def get(self, version_id: int) -> Version | None:
        rows = self.store.read(
            f"SELECT {VERSION_COLUMNS}, EXISTS (SELECT 1 FROM current_versions WHERE version_id = model_versions.id)"
            " FROM model_versions WHERE id = :id", {"id": version_id})
        return version_of(rows[0]) if rows else None

    def of_model(self, model: str) -> list[Version]:
        """Every version of a model, newest first."""
        rows = self.store.read(
            f"SELECT {VERSION_COLUMNS}, EXISTS (SELECT 1 FROM current_versions WHERE version_id = model_versions.id)"
            " FROM model_versions WHERE model = :model ORDER BY number DESC", {"model": model})
        return [version_of(row) for row in rows]

    def lineage(self, version: Version | None) -> tuple[set[int], set[int]]:
        """The ids of the drawings this version and the versions it grew from learnt from, and held out."""
        learnt: set[int] = set()
        held_out: set[int] = set()
        while version is not None:
            learnt.update(version.trained_on.get("drawing_ids", ()))
            held_out.update(version.trained_on.get("held_out_ids", ()))
            version = self.get(version.parent_id) if version.parent_id is not None else None
        return learnt, held_out

    def files(self, version_id: int) -> dict[str, bytes]:
        """The version's files, each checked against the sha256 recorded when it was published."""
        files = {}
        for suffix, recorded, content in self.store.read(
                "SELECT suffix, sha256, content FROM model_files WHERE version_id = :id", {"id": version_id}):
            content = bytes(content)
            if sha256(content) != recorded:
                raise VersionDamaged(f"version {version_id}'s {suffix} file does not match its sha256")
            files[suffix] = content
        if SERVED not in files:
            raise VersionDamaged(f"version {version_id}'s files are no longer kept (only the newest "
                                 f"{KEEP_FILES_OF} versions' are)")
        return files

    def make_current(self, model: str, version_id: int) -> Version:
        """Serve an earlier (or later) version of the model: a roll-back. ValueError when it is no version of it."""
        def switch(connection) -> None:
            if not connection.execute(text("SELECT 1 FROM model_versions WHERE id = :id AND model = :model"),
                                      {"id": version_id, "model": model}).fetchone():
                raise ValueError(f"{model} has no version {version_id}")
            make_current(connection, model, version_id)

        self.store.transaction(switch)
        return self.get(version_id)

    def write_files(self, version_id: int, model: str, folder: Path) -> Path:
        """The version's files as `<folder>/<model>.<suffix>`, as train.py writes them."""
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, content in self.files(version_id).items():
            (folder / f"{model}.{suffix}").write_bytes(content)
        return folder


KEEP_FILES_OF = 8   # versions per model whose files are kept (and the current one): about 50 MB for the CNN


def prune_files(connection, model: str) -> None:
    """Drop the files of a model's versions older than its newest KEEP_FILES_OF (never the current one's):
    their rows, reports and scores stay; they can no longer be served."""
    connection.execute(text(
        "DELETE FROM model_files WHERE version_id IN (SELECT id FROM model_versions WHERE model = :model"
        " AND number <= (SELECT max(number) FROM model_versions WHERE model = :model) - :keep"
        " AND id NOT IN (SELECT version_id FROM current_versions))"), {"model": model, "keep": KEEP_FILES_OF})


def consistent_folder_files(folder: Path, model: str) -> dict[str, bytes] | None:
    """A model's files in the folder, with its report under "json", if they were written by one training run:
    the report names the served file's sha256 and the explain description names it too. None otherwise."""
    try:
        files = {suffix: (folder / f"{model}.{suffix}").read_bytes() for suffix in (*FILE_SUFFIXES, "json")
                 if (folder / f"{model}.{suffix}").is_file()}
        if not {SERVED, KERAS, "json"} <= set(files):
            return None
        report = json.loads(files["json"])
        served = sha256(files[SERVED])
        if report.get("tflite_sha256") != served:
            return None
        if "explain.json" in files and json.loads(files["explain.json"]).get("model_sha256") != served:
            files = {suffix: content for suffix, content in files.items()
                     if not suffix.startswith(("explain", "neighbours"))}   # Look inside waits for new ones
        return files
    except (OSError, ValueError, AttributeError):
        return None


VERSION_COLUMNS = ", ".join(f"model_versions.{column}" for column in (
    "id", "model", "number", "created", "parent_id", "sha256", "trained_on", "report")) + (
    ", EXISTS (SELECT 1 FROM model_files WHERE version_id = model_versions.id AND suffix = 'tflite')")


def version_of(row: tuple) -> Version:
    return Version(id=row[0], model=row[1], number=row[2], created=row[3], parent_id=row[4], sha256=row[5],
                   trained_on=json.loads(row[6]), report=json.loads(row[7]), kept=bool(row[8]), current=bool(row[9]))


def make_current(connection, model: str, version_id: int) -> None:
    connection.execute(text(
        "INSERT INTO current_versions (model, version_id, changed) VALUES (:model, :id, :changed)"
        " ON CONFLICT (model) DO UPDATE SET version_id = excluded.version_id, changed = excluded.changed"),
        {"model": model, "id": version_id, "changed": now()})
