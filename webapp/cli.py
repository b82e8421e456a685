"""The app's commands. `flask --app webapp predict IMAGE [IMAGE ...]`: the notebooks' "predict my own
image", as a command; `flask --app webapp export-drawings OUT.npz`: the labelled drawings for train.py;
`flask --app webapp finetune` is training's (training/cli.py, registered as a Flask command by pyproject.toml's
entry point, so that serving never imports training).

Each file goes through the same preprocessing as the API. A file that is missing
or not an image is reported and skipped; the others are still read, and the
exit status is then 1. An export that cannot be written (a missing folder, no
permission) is one line and exit status 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from flask import current_app
from flask.cli import with_appcontext

from webapp.inference.reading import Reading, read
from webapp.store import exports, get_store
from webapp.vision import preprocess

TOP = 3


def top_three(probabilities: np.ndarray) -> str:
    best = np.argsort(probabilities)[::-1][:TOP]
    return ", ".join(f"{digit} {probabilities[digit]:.1%}" for digit in best)


def read_file(path: Path, mode: str, classifier) -> tuple[Reading | None, str | None]:
    """The file read by the classifier, or a sentence saying why it could not be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "no such file."
    except IsADirectoryError:
        return None, "is a folder, not an image file."
    except OSError as error:
        return None, f"cannot be read ({error.strerror})."
    try:
        return read(data, mode, [classifier], current_app.config["MAX_IMAGE_PIXELS"]), None
    except preprocess.ImageRejected as error:
        return None, str(error)


def answer(reading: Reading, number: bool) -> str:
    answer_of_model = reading.answers[0]
    probabilities = answer_of_model.probabilities
    if number:
        number_read = "".join(map(str, answer_of_model.digits))
        per_digit = "; ".join(f"{int(p.argmax())} at x={digit.box[0]}: {p.max():.1%} (top 3: {top_three(p)})"
                              for digit, p in zip(reading.digits, probabilities))
        return f"number {number_read}  [{per_digit}]"
    best = probabilities[0]
    return f"{int(best.argmax())}  confidence {best.max():.1%}  top 3: {top_three(best)}"


@click.command("predict")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", "model_name", default=None, help="Model name (default: the best one in model/).")
@click.option("--number", is_flag=True, help="Read a number of several digits, left to right.")
@with_appcontext
def predict_command(images: tuple[Path, ...], model_name: str | None, number: bool) -> None:
    """Say which digit (or number) each IMAGE shows, with the confidence and the top 3."""
    registry = current_app.extensions["models"]
    classifier = registry.get(model_name)
    if classifier is None:
        known = ", ".join(registry.names) or "none: run `make train`"
        raise click.BadParameter(f"no model {model_name!r}; the models are: {known}.", param_hint="--model")
    failed = False
    for path in images:
        reading, problem = read_file(path, "number" if number else "digit", classifier)
        if problem:
            click.echo(f"{path}: {problem}", err=True)
            failed = True
        elif not reading.digits:
            click.echo(f"{path}: nothing drawn")
        else:
            click.echo(f"{path}: {answer(reading, number)}")
    if failed:
        raise SystemExit(1)


def why_not_written(error: OSError, out: Path) -> str:
    """A missing folder is a typo more often than a wish: it is named, not created."""
    if not out.parent.exists():
        return f"the folder {out.parent} does not exist (create it first, or choose another)"
    if not out.parent.is_dir():
        return f"{out.parent} is a file, not a folder"
    return (error.strerror or str(error)).lower()


@click.command("export-drawings")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_drawings_command(out: Path) -> None:
    """Write the labelled drawings to OUT as Keras-layout arrays: x (N, 28, 28) uint8, y (N,) uint8.

    Their ids and (hashed) writers go along, so `train.py --extra-data` holds out the drawings `flask finetune`
    would.
    """
    data, count = exports.npz_bytes(get_store())
    try:
        out.write_bytes(data)   # the bytes as they are: numpy would append its own .npz suffix
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {why_not_written(error, out)}.") from None
    click.echo(f"Wrote {count} drawings to {out} (x ({count}, 28, 28) uint8, y ({count},) uint8).")
