"""Classifiers for any kept version of a model, not only the served one: what a replay and a version diff read
drawings with. The served version's classifier is used as it is; others are built from the files kept in the
store (their sha256 checked by ModelVersions.files) and the last few are kept per worker."""

from __future__ import annotations

import threading
from collections import OrderedDict

from webapp.inference.classifier import Classifier
from webapp.store.versions import SERVED, ModelVersions, Version

KEPT = 4   # versions' classifiers kept per worker (the CNN's is about 2 MB with its interpreters)


class VersionClassifiers:
    def __init__(self):
        self._kept: OrderedDict[str, Classifier] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, versions: ModelVersions, version: Version, served: Classifier | None) -> Classifier:
        """The classifier of `version`; VersionDamaged when its files are damaged or no longer kept."""
        if served is not None and served.sha256 == version.sha256:
            return served
        with self._lock:
            if version.sha256 in self._kept:
                self._kept.move_to_end(version.sha256)
                return self._kept[version.sha256]
        classifier = Classifier(version.model, versions.files(version.id)[SERVED], version.report)
        with self._lock:
            self._kept[version.sha256] = classifier
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return classifier
