"""Every worker serves each model's current version, within seconds of a publish or a roll-back, no restart.

Each worker asks the store for the current versions' ids at most every MODEL_RELOAD_SECONDS, on the request
that finds the time has come (one small query). A version it does not serve yet is read from the store, its
files checked against their sha256, and loaded as a new Classifier (and Explainer); then the registry's and
the explainers' dictionaries are replaced whole, in one assignment each. A request already under way keeps
the classifier it started with, so none fails. A version that cannot be loaded (damaged) is logged and
never served: the worker keeps what it had and tries that version again only after a minute.

Until someone publishes a version the store holds none and the model folder is served as it is; the first
time versions are involved, the folder's models become their first versions (ModelVersions.register_folder).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from webapp.inference.classifier import Classifier, ModelLoadError, ModelRegistry
from webapp.inference.explainer import Explainer, ExplainUnavailable, Sample, load_sample
from webapp.store.refusals import StoreRefused
from webapp.store.versions import ModelVersions, VersionDamaged

log = logging.getLogger("digitdraw")
UNREACHABLE_BACKOFF_SECONDS = 30.0
RETRY_DAMAGED_SECONDS = 60.0


class LiveModels:
    """Keeps one worker's registry and explainers at the store's current versions."""

    def __init__(self, extensions: dict, versions: ModelVersions, folder: Path, interval: float):
        self.extensions = extensions          # app.extensions: "models", "explainers", "explain_missing"
        self.versions = versions
        self.folder = Path(folder)
        self.interval = interval
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._failed: dict[int, float] = {}  # version id -> when it failed to load
        self._folder_registered = False
        self._sample: Sample | None = None
        self.served: dict[str, int] = {}     # model -> the version id this worker serves
        self._summaries: dict[int, dict] = {}

    def version_summary(self, model: str) -> dict | None:
        """The served version as /api/models shows it; None while the store keeps no version of the model."""
        version_id = self.served.get(model)
        if version_id is None:
            return None
        if version_id not in self._summaries:
            version = self.versions.get(version_id)
            if version is None:
                return None
            self._summaries[version_id] = {key: value for key, value in version.summary().items()
                                           if key not in ("current", "finetune")}
        return self._summaries[version_id]

    def refresh_if_due(self) -> None:
        """Called before each request: a look at the store when the interval has passed, else nothing."""
        if time.monotonic() - self._checked_at < self.interval:
            return
        if not self._lock.acquire(blocking=False):
            return                           # another request of this worker is looking already
        try:
            self._checked_at = time.monotonic()
            if self.versions.store.exists():   # a store not created yet holds no versions: never create it
                self.refresh()
        except StoreRefused as error:
            # A store that cannot be reached costs a request its wait: not one every interval while it lasts.
            self._checked_at = time.monotonic() + UNREACHABLE_BACKOFF_SECONDS
            log.warning("model versions not checked for %g s: %s", UNREACHABLE_BACKOFF_SECONDS, error)
        except Exception:   # whatever goes wrong here, the request itself is still answered
            log.exception("model versions not checked")
        finally:
            self._lock.release()

    def check_now(self) -> None:
        """Look at the store at once (after this worker changed the current version itself)."""
        self._checked_at = float("-inf")
        self.refresh_if_due()

    def refresh(self) -> list[str]:
        """Load every current version this worker does not serve yet; the models that changed."""
        registry: ModelRegistry = self.extensions["models"]
        current = self.versions.current_ids()
        if current and not self._folder_registered:
            # Versions are in use: a model file trained again into the folder is a new version of its own.
            self.versions.register_folder(self.folder, sorted(registry.classifiers))
            self._folder_registered = True
            current = self.versions.current_ids()
        changed = []
        for model, (version_id, served_sha) in current.items():
            loaded = registry.classifiers.get(model)
            if loaded is not None and loaded.sha256 == served_sha:
                self.served[model] = version_id
                continue
            if time.monotonic() - self._failed.get(version_id, float("-inf")) < RETRY_DAMAGED_SECONDS:
                continue
            try:
                self._load(model, version_id)
                changed.append(model)
            except (VersionDamaged, ModelLoadError, OSError, ValueError, RuntimeError) as error:
                self._failed[version_id] = time.monotonic()
                log.error("model %s version %s is not served (the previous one stays): %s", model, version_id, error)
        return changed

    def _load(self, model: str, version_id: int) -> None:
        version = self.versions.get(version_id)
        files = self.versions.files(version_id)
        try:
            classifier = Classifier(model, files["tflite"], version.report)
        except ModelLoadError:
            raise
        except Exception as error:   # LiteRT raises ValueError/RuntimeError for damaged files
            raise ModelLoadError(f"not a readable model ({error.__class__.__name__})") from error
        explainer, missing = self._explainer(model, version_id, classifier.sha256)
        registry: ModelRegistry = self.extensions["models"]
        self.extensions["models"] = replace(registry, classifiers={**registry.classifiers, model: classifier},
                                            broken={k: v for k, v in registry.broken.items() if k != model})
        explainers = {k: v for k, v in self.extensions.get("explainers", {}).items() if k != model}
        reasons = {k: v for k, v in self.extensions.get("explain_missing", {}).items() if k != model}
        if explainer is not None:
            explainers[model] = explainer
        else:
            reasons[model] = missing
        self.extensions["explainers"], self.extensions["explain_missing"] = explainers, reasons
        self.served[model] = version_id
        log.info("serving %s version %s (#%s, %s)", model, version.number, version_id, classifier.version)

    def _explainer(self, model: str, version_id: int, model_sha256: str) -> tuple[Explainer | None, str]:
        """The version's Look inside, made from its explain files in a folder that lives only while loading."""
        try:
            if self._sample is None:
                self._sample = load_sample(self.folder)
            with tempfile.TemporaryDirectory(prefix="digitdraw-version-") as folder:
                self.versions.write_files(version_id, model, Path(folder))
                return Explainer(Path(folder), model, self._sample, model_sha256), ""
        except (ExplainUnavailable, OSError, KeyError, ValueError) as error:
            return None, f"Version {version_id} of {model} cannot be explained ({error})."
