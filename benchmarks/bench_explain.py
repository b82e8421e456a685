"""Looking inside the models, measured: how fast /api/explain answers, and whether what it shows is honest.

    python benchmarks/bench_explain.py [--repeats 100] [--digits 500]

- speed: the in-process POST /api/explain (Flask test client: decode, preprocessing, every layer, occlusion
  saliency, neighbours, JSON) on a 280x280 canvas PNG, p50 and p95 per model;
- saliency honesty (deletion test): on MNIST test digits, zero the 10% most salient ink pixels of the model
  input and measure how far the true class's probability drops, against zeroing 10% of the ink at random;
- neighbour agreement: for test digits the model reads right, the share of their 8 nearest training digits
  (in the model's own feature space) that carry the same label.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.bench_predict import percentile, timed
from benchmarks.canvas import canvas_png
from training.mnist import load_mnist
from webapp import PROJECT_ROOT, create_app
from webapp.inference.explainer import INK

MODELS = ("cnn", "mlp-wide", "mlp")


def deletion_drops(explainer, classifier, mnist, indexes, rng):
    """Mean drop of the true class's probability after zeroing the 10% most salient ink pixels, and after
    zeroing 10% of the ink at random (five draws each)."""
    top, random = [], []
    for index in indexes:
        pixels, label = mnist.x_test[index].astype(np.float32) / 255, int(mnist.y_test[index])
        ink = np.flatnonzero(pixels.ravel() > INK)
        count = max(1, round(0.1 * len(ink)))
        base = classifier.predict(pixels[None])[0, label]
        order = ink[np.argsort(-explainer.saliency(pixels, label).map.ravel()[ink], kind="stable")]
        deleted = pixels.ravel().copy()
        deleted[order[:count]] = 0
        draws = np.repeat(pixels.reshape(1, -1), 5, axis=0)
        for draw in draws:
            draw[rng.choice(ink, count, replace=False)] = 0
        top.append(base - classifier.predict(deleted.reshape(1, 28, 28))[0, label])
        random.append(np.mean(base - classifier.predict(draws.reshape(-1, 28, 28))[:, label]))
    return float(np.mean(top)), float(np.mean(random))




def neighbour_agreement(explainer, classifier, mnist, indexes) -> float:
    same = total = 0
    for index in indexes:
        pixels, label = mnist.x_test[index].astype(np.float32) / 255, int(mnist.y_test[index])
        if classifier.predict(pixels[None])[0].argmax() != label:
            continue
        labels = [neighbour.label for neighbour in explainer.neighbours(pixels)]
        same += labels.count(label)
        total += len(labels)
    return same / total


def run(repeats: int = 100, digits: int = 500) -> list[dict]:
    mnist = load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        return measured(repeats, digits, mnist, create_app({
            "TESTING": True, "RATELIMIT_ENABLED": False, "DATABASE": str(Path(folder) / "drawings.sqlite"),
            "MODEL_DIR": str(PROJECT_ROOT / "model")}))


def measured(repeats: int, digits: int, mnist, app) -> list[dict]:
    client = app.test_client()
    png = canvas_png(mnist.x_test[0])
    rows = []
    for name in MODELS:
        def explain(name=name):
            response = client.post("/api/explain", data={"image": (io.BytesIO(png), "pad.png"), "model": name})
            assert response.status_code == 200, response.get_json()
        samples = timed(explain, repeats)
        explainer, classifier = app.extensions["explainers"][name], app.extensions["models"].get(name)
        top, random = deletion_drops(explainer, classifier, mnist, range(digits), np.random.default_rng(0))
        rows.append({"model": name, "p50": percentile(samples, 0.5), "p95": percentile(samples, 0.95),
                     "top": top, "random": random,
                     "agreement": neighbour_agreement(explainer, classifier, mnist, range(digits))})
    return rows


def as_markdown(rows: list[dict], digits: int = 500) -> str:
    lines = ["| model | /api/explain p50 | p95 | probability drop, 10% most salient ink zeroed | "
             f"10% of the ink zeroed at random | neighbours with the same label ({digits} test digits) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {row['model']} | {row['p50']:.1f} ms | {row['p95']:.1f} ms | {row['top']:.3f} | "
              f"{row['random']:.3f} | {row['agreement']:.1%} |" for row in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--digits", type=int, default=500)
    args = parser.parse_args(argv)
    print(as_markdown(run(args.repeats, args.digits), args.digits))


if __name__ == "__main__":
    main()
