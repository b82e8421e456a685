"""Score the whole path on drawings made from MNIST test digits, next to the naive path.

Project path: PNG/JPEG bytes -> POST /api/predict (Flask test client, the real
app and model) -> "digit". Naive path, as the classic notebooks predicted "my own
image": cv2 decode as grey -> cv2.resize to 28x28 -> /255 -> the same model.

    python benchmarks/score_drawings.py                  # 2000 per style, writes DRAWINGS.md
    python benchmarks/score_drawings.py --count 50 --no-write
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.make_drawings import STYLES, drawings
from benchmarks.naive_path import naive_input
from training.mnist import load_mnist
from webapp import create_app

RESULTS = Path(__file__).resolve().parent / "DRAWINGS.md"
STYLE_NAMES = {"canvas": "canvas drawings (crisp strokes, RGBA PNG)",
               "brush": "round-brush strokes, thin pen .. fat finger (RGBA PNG)",
               "photo": "photos of paper (uneven light, blur, noise, JPEG)"}
TARGETS = {"canvas": 0.995, "brush": 0.99, "photo": 0.99}


def project_digit(client, drawing, model: str) -> int | None:
    response = client.post("/api/predict", data={"image": (io.BytesIO(drawing.data), drawing.filename),
                                                 "model": model}, content_type="multipart/form-data")
    if response.status_code != 200:
        raise RuntimeError(f"{drawing.filename}: {response.status_code} {response.get_json()}")
    return response.get_json()["digit"]


def score_style(style: str, count: int, mnist, client, classifier) -> dict:
    """Accuracy of both paths on `count` drawings of one style, and of the model on the same
    MNIST digits as they are (the most the preprocessing can give back)."""
    project, naive, indices, wrong = [], [], [], []
    started = time.perf_counter()
    for drawing in drawings(style, count, mnist.x_test, mnist.y_test):
        digit = project_digit(client, drawing, classifier.name)
        project.append(-1 if digit is None else digit)
        naive.append(naive_input(drawing.data))
        indices.append(drawing.index)
        if digit != drawing.label:
            wrong.append(f"{drawing.filename} -> {digit}")
    seconds = time.perf_counter() - started
    labels = mnist.y_test[indices]
    as_they_are = classifier.predict(mnist.x_test[indices].astype(np.float32) / 255).argmax(axis=1)
    return {"style": style, "n": len(indices),
            "project": float(np.mean(np.asarray(project) == labels)),
            "naive": float(np.mean(classifier.predict(np.stack(naive)).argmax(axis=1) == labels)),
            "mnist": float(np.mean(as_they_are == labels)),
            "empty": project.count(-1), "wrong": wrong,
            "ms_per_drawing": 1000 * seconds / max(1, len(indices))}


def score(app, count: int, styles=STYLES, model: str | None = None) -> list[dict]:
    """Score every style with the app's model `model` (default: the best one)."""
    classifier = app.extensions["models"].get(model)
    mnist = load_mnist()
    client = app.test_client()
    return [score_style(style, count, mnist, client, classifier) for style in styles]


def markdown(results: list[dict], classifier, count: int) -> str:
    lines = [
        "# Drawings: the project's path vs the naive `cv2.resize` path",
        "",
        f"Model `{classifier.name}` (MNIST test accuracy {classifier.report.get('test_accuracy', 'unknown')}), "
        f"{count} drawings per style made from MNIST **test** digits by `benchmarks/make_drawings.py` "
        f"(fixed seeds; its docstring describes the styles). Project path: bytes -> `POST /api/predict` -> "
        f"digit. Naive path: `cv2.imdecode(grey)` -> `cv2.resize(28, 28)` -> `/255` -> the same model. "
        f"\"MNIST as it is\": the model on the very same test digits at 28x28, the most preprocessing "
        f"can give back.",
        "",
        "| style | n | project path | naive path | target | MNIST as it is | nothing found |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(f"| {STYLE_NAMES[result['style']]} | {result['n']} | {result['project']:.2%} | "
                     f"{result['naive']:.2%} | {TARGETS[result['style']]:.1%} | {result['mnist']:.2%} | "
                     f"{result['empty']} |")
    lines += ["", "Reproduce: `.venv/bin/python benchmarks/score_drawings.py` (about "
              f"{np.mean([r['ms_per_drawing'] for r in results]):.0f} ms per drawing through the API, "
              "drawing included; `--count 50 --no-write` for a quick look).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="drawings per style (default 2000)")
    parser.add_argument("--model", default=None, help="model name (default: the best shipped model)")
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    parser.add_argument("--model-dir", default=None, help="folder of *.keras models (default: model/)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    parser.add_argument("--show-wrong", action="store_true", help="list every drawing read wrong")
    args = parser.parse_args(argv)

    # Rate limits off: the benchmark is one client sending thousands of drawings as fast as they are read.
    config = {"TESTING": True, "RATELIMIT_ENABLED": False, **({"MODEL_DIR": args.model_dir} if args.model_dir else {})}
    app = create_app(config)
    classifier = app.extensions["models"].get(args.model)
    if classifier is None:
        parser.error(f"no model {args.model or ''} in {app.config['MODEL_DIR']}")
    results = score(app, args.count, args.styles, classifier.name)
    for result in results:
        print(f"{result['style']:7s} n={result['n']:5d}  project {result['project']:.2%}  "
              f"naive {result['naive']:.2%}  MNIST as it is {result['mnist']:.2%}  "
              f"nothing found {result['empty']}  ({result['ms_per_drawing']:.1f} ms each)", flush=True)
        if args.show_wrong:
            print("  " + "\n  ".join(result["wrong"]))
    if not args.no_write:
        RESULTS.write_text(markdown(results, classifier, args.count))
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
