"""`flask --app webapp finetune`: a better version of a model from the collected drawings (training/finetune.py).

Registered with Flask as a plugin command (pyproject.toml's `flask.commands` entry point), so the web app never
imports training: where the training requirements are missing the command is simply absent, and the teacher's
page says to start with `make classroom` (webapp/training_tools.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.store import get_store
from webapp.store.jobs import FinetuneJobs
from webapp.store.refusals import StoreRefused
from webapp.training_tools import TRAINING_TOOLS_MISSING


@click.command("finetune")
@click.option("--model", "model_name", default=None, help="Model to fine-tune (default: the best one).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Use only the newest N drawings.")
@click.option("--epochs", type=click.IntRange(1, 50), default=None, help="Epochs (default: 3).")
@click.option("--replay", type=click.IntRange(0), default=None,
              help="MNIST training digits mixed in (default: 4 per drawing seen, at least 10,000).")
@click.option("--allow-one-device", is_flag=True,
              help="Fine-tune even when one device sent most of a digit's drawings (a whole class behind one address).")
@click.option("--job", type=int, default=None, hidden=True, help="The teacher page's run to report to.")
@with_appcontext
def finetune_command(model_name, as_json, limit, epochs, replay, allow_one_device, job) -> None:
    """Fine-tune a model on the collected drawings and publish it as a new version if it does no harm.

    Publishes only if the held-out drawings are read no worse and MNIST test accuracy drops by at most
    DIGITDRAW_FINETUNE_MAX_TEST_DROP points; otherwise says why and keeps the current version.
    Progress goes to standard error; exit status 0 whether or not it published, 1 when it could not run.
    """
    if job is not None:   # started by the teacher's page or the wall: students keep drawing meanwhile
        idle_priority()
    store = get_store()
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
        try:   # TensorFlow: only once a run starts, and a sentence where it is not installed
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
                                  epochs=epochs or 3, replay=replay, allow_one_device=allow_one_device,
                                  progress=progress,
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


def idle_priority() -> bool:
    """Put this run in Linux's idle scheduling class (SCHED_IDLE), before TensorFlow starts its threads (they
    inherit it): it gets a core only while no web worker wants one. With 30 students drawing during a CNN run,
    predictions p95 was 24 and 26 ms this way against 51 and 81 ms at nice 19 alone, and the run no slower
    (benchmarks/bench_fool_round.py, side by side). Where it is not allowed (some containers) nice 19 stays."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return True
    except (AttributeError, OSError):
        return False


def fraction(value: float | None) -> str:
    return "none held out" if value is None else f"{value:.2%}"
