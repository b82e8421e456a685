"""Model versions for the tests: a shipped model's files, and a version of one model made of another's network
(a change every answer shows)."""

from __future__ import annotations

import json

from webapp import PROJECT_ROOT
from webapp.store.drawings import Store
from webapp.store.versions import ModelVersions, Version

MODEL_DIR = PROJECT_ROOT / "model"


def files_of(name: str) -> dict[str, bytes]:
    """A shipped model's files, as a version keeps them."""
    return {suffix: (MODEL_DIR / f"{name}.{suffix}").read_bytes()
            for suffix in ("tflite", "keras", "explain.tflite", "explain.json", "neighbours.npz")}


def report_of(name: str) -> dict:
    return json.loads((MODEL_DIR / f"{name}.json").read_text())


def publish_network_as(store: Store, as_model: str, from_model: str) -> Version:
    """Publish a version of `as_model` whose network is `from_model`'s, after the shipped version 1."""
    versions = ModelVersions(store)
    versions.register_folder(MODEL_DIR, [as_model])
    parent = versions.current()[as_model]
    files = files_of(from_model)
    description = json.loads(files["explain.json"])   # its file names, as `as_model`'s
    description["files"] = {name.replace(from_model, as_model, 1): sha for name, sha in description["files"].items()}
    files["explain.json"] = json.dumps(description).encode()
    return versions.publish(as_model, files, report_of(from_model), {"source": "test: another network"},
                            parent_id=parent.id)
