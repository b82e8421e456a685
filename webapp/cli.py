"""The app's commands. `flask --app webapp predict IMAGE [IMAGE ...]`: the notebooks' "predict my own
image", as a command; `flask --app webapp export-drawings OUT.npz`: the labelled drawings for train.py;
`flask --app webapp finetune`: a better version of a model from the collected drawings (training/finetune.py).

Each file goes through the same preprocessing as the API. A file that is missing
or not an image is reported and skipped; the others are still read, and the
exit status is then 1. An export that cannot be written (a missing folder, no
permission) is one line and exit status 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
import numpy as np
from flask import current_app
from flask.cli import with_appcontext

from webapp.inference.reading import Reading, read
from webapp.training_tools import TRAINING_TOOLS_MISSING
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
    ids, x, y, writers = current_app.extensions["feedback"].labelled_drawings()
    try:
        with open(out, "wb") as handle:   # a handle, so numpy does not append its own .npz suffix
            np.savez_compressed(handle, x=x, y=y, ids=ids, writers=np.array([w or "" for w in writers], str))
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {why_not_written(error, out)}.") from None
    click.echo(f"Wrote {len(y)} drawings to {out} (x {x.shape} uint8, y {y.shape} uint8).")


@click.command("finetune")
@click.option("--model", "model_name", default=None, help="Model to fine-tune (default: the best one).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Use only the newest N drawings.")
@click.option("--epochs", type=click.IntRange(1, 50), default=None, help="Epochs (default: 3).")
@click.option("--replay", type=click.IntRange(0), default=None,
              help="MNIST training digits mixed in (default: 4 per drawing seen, at least 10,000).")
@click.option("--job", type=int, default=None, hidden=True, help="The teacher page's run to report to.")
@with_appcontext
def finetune_command(model_name, as_json, limit, epochs, replay, job) -> None:
    """Fine-tune a model on the collected drawings and publish it as a new version if it does no harm.

    Publishes only if the held-out drawings are read no worse and MNIST test accuracy drops by at most
    DIGITDRAW_FINETUNE_MAX_TEST_DROP points; otherwise says why and keeps the current version.
    Progress goes to standard error; exit status 0 whether or not it published, 1 when it could not run.
    """
    import json
    import threading

    from webapp.feedback.finetune_jobs import FinetuneJobs
    from webapp.feedback.store import StoreRefused

    store = current_app.extensions["feedback"]
    jobs = FinetuneJobs(store) if job is not None else None
    registry = current_app.extensions["models"]
    name = model_name or (registry.names[0] if registry.names else None)

    def progress(line: str) -> None:
        click.echo(line, err=True)
        if jobs:
            try:
                jobs.report(job, line)
            except StoreRefused:   # the page misses a line; the run goes on
                pass

    stop_beating = threading.Event()
    if jobs:
        jobs.attach(job)
        jobs.heartbeat(job, stop_beating)
    try:
        try:
            from training.finetune import FinetuneRefused, Guards, finetune
        except ImportError as error:
            raise click.ClickException(f"{TRAINING_TOOLS_MISSING} ({error})") from None
        if name is None:
            raise click.ClickException("no model to fine-tune: run `make train` first.")
        guards = Guards(max_test_drop=current_app.config["FINETUNE_MAX_TEST_DROP"],
                        max_drawings_drop=current_app.config["FINETUNE_MAX_DRAWINGS_DROP"])
        try:
            # TensorFlow's exporters print to standard output: there it goes to standard error, so that
            # --json prints nothing but the result.
            with contextlib.redirect_stdout(sys.stderr):
                result = finetune(store, Path(current_app.config["MODEL_DIR"]), name, guards=guards, limit=limit,
                                  epochs=epochs or 3, replay=replay, progress=progress,
                                  superseded=(lambda: jobs.superseded(job)) if jobs else (lambda: None))
        except FinetuneRefused as error:
            raise click.ClickException(str(error)) from None
    except click.ClickException as error:
        if jobs:
            jobs.finish(job, "failed", {"model": name, "published": False, "reason": error.message})
        raise
    except Exception as error:
        if jobs:
            jobs.finish(job, "failed", {"model": name, "published": False,
                                        "reason": f"{error.__class__.__name__}: {error}"})
        raise
    finally:
        stop_beating.set()
    if jobs:
        jobs.finish(job, "published" if result["published"] else "refused", result)
    if as_json:
        click.echo(json.dumps(result))
    elif result["published"]:
        click.echo(f"Published {name} version {result['version']} in {result['seconds']:.0f} s: "
                   f"held-out drawings {fraction(result['before']['held_out_drawings'])} -> "
                   f"{fraction(result['after']['held_out_drawings'])}, MNIST test "
                   f"{result['before']['mnist_test']:.2%} -> {result['after']['mnist_test']:.2%}.")
    else:
        click.echo(f"Not published, version {result['parent_version']} stays: {result['reason']}")


def fraction(value: float | None) -> str:
    return "none held out" if value is None else f"{value:.2%}"
